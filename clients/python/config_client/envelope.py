"""The worker rules 0-6 on the raw bytes of a message (envelope-reader.ts, envelope-verifier.ts).

Rules, in order; the first that fails gives the reason a worker reports:

0. at most 256 KiB, checked before anything is parsed (``oversized``);
1. a UTF-8 JSON object (no byte order mark) with string ``alg``, ``kid``, ``payload``,
   ``sig``, the last two canonical standard base64 (``malformed``); ``alg`` is ``Ed25519``
   (``unsupported-alg``); ``kid`` is trusted (``unknown-key``);
2. the signature verifies over the decoded payload bytes (``signature``); the payload is a
   UTF-8 JSON object (``malformed``);
3. ``payload.service`` is the topic's and the worker's (``service``); ``version`` a positive
   integer (``malformed``); a signed ``archived: true`` payload is a tombstone;
4. ``version`` is newer than the applied one (``stale``; equal: a duplicate, not counted,
   which is the worker's attestation that its version is still current, docs/recovery.md);
4a. with nothing applied (applied version 0), an ``expiresAt`` more than 5 minutes in the past
   (``expired``); an ``expiresAt`` that is not an ISO 8601 string is ``malformed``; absent, the
   payload never expires. The last-known-good file is verified without this rule;
5. ``config`` validates against the worker's schema, or the signed schema whose hash the
   payload names (``schema``); without that signed schema the config waits (``pending``);
6. every sealed secret opens with the service's X25519 key (or one of the previous keys, during
   a rotation) and the result still validates (``secret``).

Rollouts (docs/rollouts.md): a payload naming a ``rollout`` is a candidate, valid only on
``system/candidate/<service>`` (on the config topic it is ``service``). On the candidate topic
(:meth:`EnvelopeVerifier.verify_candidate`) an empty message is :class:`NoCandidate`; rules 0-3
and the version apply as above; a missing or invalid ``rollout`` is ``malformed``; a candidate
whose ``rollout.instances`` does not name the instance is :class:`NotTargeted`; then rules 4-6.
On the config topic, the ``stableVersion`` of the candidate the instance runs, below its applied
version, is :class:`BehindCandidate` (ignored, not counted) rather than ``stale``.

Verdicts are values, never exceptions: :meth:`EnvelopeVerifier.verify` cannot raise.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import nacl.exceptions
import nacl.signing

from .jsvalue import decode_utf8, is_plain_object, is_safe_integer, js_stringify, parse_json_object
from .keys import decode_strict_base64
from .schema import validate_config
from .secrets import SealedSecretError, open_sealed_secret
from .service_schema import ServiceDefinition, check_service_schema, schema_hash_of
from .times import SYSTEM_CLOCK, Clock, iso_of, parse_iso

ENVELOPE_ALG = "Ed25519"
MAX_ENVELOPE_BYTES = 256 * 1024
REJECTION_REASONS = (
    "oversized",
    "malformed",
    "unsupported-alg",
    "unknown-key",
    "signature",
    "service",
    "stale",
    "expired",
    "schema",
    "secret",
)
_MAX_ECHO = 64
_MAX_ISSUES_IN_DETAIL = 3
_SIGNATURE_BYTES = 64
_PUBLIC_KEY_BYTES = 32
_SECRET_KEY_BYTES = 32
#: Clock skew allowed by rule 4a: a payload expired less than this long ago is still accepted.
EXPIRY_SKEW_SECONDS = 5 * 60


class VerifierOptionError(ValueError):
    """A verifier option that cannot work (names the option)."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


# --- verdicts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AcceptedPayload:
    """What an accepted payload said about itself (the opened secrets are only in ``config``)."""

    service: str
    version: int
    issued_at: Optional[str]
    schema_hash: Optional[str]
    secret_paths: Tuple[str, ...]


@dataclass(frozen=True)
class SignedSchema:
    """A schema envelope from ``system/schema/<service>`` that passed verification."""

    service: str
    schema_version: int
    schema_hash: str
    issued_at: Optional[str]
    definition: ServiceDefinition
    envelope_bytes: bytes


@dataclass(frozen=True)
class CandidateRollout:
    """A candidate's ``rollout`` once checked (without its instance list)."""

    id: str
    step: int
    #: The stable version the rollout started from: its stable-topic copy is then behind-candidate.
    stable_version: int

    def as_json(self) -> Dict[str, Any]:
        return {"id": self.id, "step": self.step, "stableVersion": self.stable_version}


@dataclass(frozen=True)
class Accepted:
    version: int
    payload: AcceptedPayload
    config: dict
    schema_drift: bool
    signed_schema: Optional[SignedSchema] = None
    #: Present when the version is a rollout's candidate (verify_candidate, or a saved candidate).
    rollout: Optional[CandidateRollout] = None
    kind: str = field(default="accepted", init=False)


@dataclass(frozen=True)
class Duplicate:
    """The applied version again, authentic (rules 0-3 passed): the retained copy, a redelivery,
    or the manager's heartbeat re-signing it with a later ``issued_at`` (an attestation)."""

    version: int
    issued_at: Optional[str] = None
    kind: str = field(default="duplicate", init=False)


@dataclass(frozen=True)
class BehindCandidate:
    """verify() only: the stable version the candidate the instance runs replaced; ignored."""

    version: int
    kind: str = field(default="behind-candidate", init=False)


@dataclass(frozen=True)
class NotTargeted:
    """verify_candidate() only: a valid candidate whose cohort does not name this instance."""

    version: int
    rollout_id: str
    kind: str = field(default="not-targeted", init=False)


@dataclass(frozen=True)
class NoCandidate:
    """verify_candidate() only: an empty message, the manager clearing the candidate topic."""

    kind: str = field(default="no-candidate", init=False)


@dataclass(frozen=True)
class Pending:
    """Rules 0-4 passed, but the signed schema it names is not known yet: not a verdict."""

    version: int
    schema_hash: str
    kind: str = field(default="pending", init=False)


@dataclass(frozen=True)
class Archived:
    """A signed tombstone: the service was archived, ``version`` is its last version."""

    version: int
    issued_at: Optional[str] = None
    kind: str = field(default="archived", init=False)


@dataclass(frozen=True)
class Rejected:
    reason: str
    detail: str
    #: Only once the signature verified: an unverified version is attacker-chosen.
    version: Optional[int] = None
    kind: str = field(default="rejected", init=False)


@dataclass(frozen=True)
class SchemaAccepted:
    schema: SignedSchema
    kind: str = field(default="accepted", init=False)


@dataclass(frozen=True)
class SchemaRejected:
    reason: str
    detail: str
    schema_version: Optional[int] = None
    kind: str = field(default="rejected", init=False)


EnvelopeVerdict = Union[Accepted, Duplicate, Pending, Archived, Rejected, BehindCandidate, NotTargeted, NoCandidate]
SchemaVerdict = Union[SchemaAccepted, SchemaRejected]


# --- rules 0-2 -----------------------------------------------------------------------------


def echo(value: str) -> str:
    """An attacker-chosen string, quoted and cut short, for a log line."""
    return js_stringify(value[:_MAX_ECHO] + "…" if len(value) > _MAX_ECHO else value)


def is_version(value: Any) -> bool:
    """A version number as payloads carry it: a positive safe integer."""
    return is_safe_integer(value) and value > 0


@dataclass(frozen=True)
class EnvelopeReading:
    ok: bool
    reason: str = ""
    detail: str = ""
    kid: str = ""
    payload_bytes: bytes = b""
    payload: Optional[dict] = None


def read_signed_envelope(
    data: bytes, verifiers: Mapping[str, nacl.signing.VerifyKey], max_bytes: int
) -> EnvelopeReading:
    """Rules 0-2 on raw bytes: size, envelope, alg, trusted kid, signature, then the payload."""
    if len(data) > max_bytes:
        return EnvelopeReading(False, "oversized", f"envelope is {len(data)} bytes, more than the limit of {max_bytes}")
    envelope = parse_json_object(data)
    if envelope is None:
        return EnvelopeReading(False, "malformed", "envelope is not a UTF-8 JSON object")
    alg, kid = envelope.get("alg"), envelope.get("kid")
    payload_text, sig_text = envelope.get("payload"), envelope.get("sig")
    if not all(isinstance(v, str) for v in (alg, kid, payload_text, sig_text)):
        return EnvelopeReading(False, "malformed", "envelope must have string fields alg, kid, payload and sig")
    # Standard base64 is part of parsing (rule 1): its failure is malformed, before alg and kid.
    payload_bytes = decode_strict_base64(payload_text)
    signature = decode_strict_base64(sig_text)
    if payload_bytes is None or signature is None:
        return EnvelopeReading(False, "malformed", "payload or sig is not canonical standard base64")
    if alg != ENVELOPE_ALG:
        return EnvelopeReading(False, "unsupported-alg", f"envelope alg {echo(alg)} is not {ENVELOPE_ALG}")
    verifier = verifiers.get(kid)
    if verifier is None:
        trusted = ", ".join(verifiers.keys())
        return EnvelopeReading(False, "unknown-key", f"envelope kid {echo(kid)} is not a trusted key (trusted: {trusted})")
    if not _verifies(verifier, payload_bytes, signature):
        return EnvelopeReading(False, "signature", f"signature does not verify with key {kid}")
    payload = parse_json_object(payload_bytes)
    if payload is None:
        return EnvelopeReading(False, "malformed", "signed payload is not a UTF-8 JSON object")
    return EnvelopeReading(True, kid=kid, payload_bytes=payload_bytes, payload=payload)


def _verifies(verifier: nacl.signing.VerifyKey, message: bytes, signature: bytes) -> bool:
    if len(signature) != _SIGNATURE_BYTES:
        return False
    try:
        verifier.verify(message, signature)
        return True
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.CryptoError, ValueError, TypeError):
        return False


# --- schema messages (signed-schemas.ts) ---------------------------------------------------


def _summarize(issues: Sequence[Any]) -> str:
    shown = [issue.message for issue in issues[:_MAX_ISSUES_IN_DETAIL]]
    more = len(issues) - len(shown)
    return "; ".join(shown) + (f" (and {more} more)" if more > 0 else "")


def check_schema_payload(
    payload: dict, envelope_bytes: bytes, service: str, topic_service: Optional[str]
) -> SchemaVerdict:
    """Rules 3 and 5 for the signed payload of a schema envelope (rules 0-2 already passed)."""
    raw_version = payload.get("schemaVersion")
    schema_version = int(raw_version) if is_version(raw_version) else None
    payload_service = payload.get("service")
    if not isinstance(payload_service, str) or payload_service != topic_service or payload_service != service:
        shown = echo(payload_service) if isinstance(payload_service, str) else "(none)"
        topic = "(no service)" if topic_service is None else echo(topic_service)
        return SchemaRejected(
            "service",
            f"schema payload is for service {shown}, the topic is for {topic} and this client is {service}",
            schema_version,
        )
    if schema_version is None:
        return SchemaRejected("malformed", "payload.schemaVersion must be a positive integer")
    claimed, schema = payload.get("schemaHash"), payload.get("schema")
    if not isinstance(claimed, str) or not is_plain_object(schema):
        return SchemaRejected("malformed", "schema payload must have a string schemaHash and an object schema", schema_version)
    actual = schema_hash_of(schema)
    if actual != claimed:
        return SchemaRejected(
            "schema", f"schemaHash {echo(claimed)} is not the hash of the schema it carries ({actual})", schema_version
        )
    check = check_service_schema(service, "", schema)
    if not check.ok:
        return SchemaRejected(
            "schema",
            f"schema version {schema_version} is not a usable configuration schema: {_summarize(check.problems)}",
            schema_version,
        )
    issued_at = payload.get("issuedAt")
    return SchemaAccepted(
        SignedSchema(
            service=payload_service,
            schema_version=schema_version,
            schema_hash=check.definition.schema_hash,
            issued_at=issued_at if isinstance(issued_at, str) else None,
            definition=check.definition,
            envelope_bytes=bytes(envelope_bytes),
        )
    )


MAX_SIGNED_SCHEMAS = 8


class SignedSchemaStore:
    """The verified signed schemas of one client by hash, least recently used evicted first."""

    def __init__(self, capacity: int = MAX_SIGNED_SCHEMAS) -> None:
        self.capacity = capacity
        self._by_hash: "OrderedDict[str, SignedSchema]" = OrderedDict()

    def add(self, schema: SignedSchema) -> bool:
        """Adds (or refreshes) a schema; False when it was known already."""
        known = self._by_hash.pop(schema.schema_hash, None) is not None
        self._by_hash[schema.schema_hash] = schema
        while len(self._by_hash) > self.capacity:
            self._by_hash.popitem(last=False)
        return not known

    def get(self, schema_hash: str) -> Optional[SignedSchema]:
        schema = self._by_hash.get(schema_hash)
        if schema is not None:
            self._by_hash.move_to_end(schema_hash)
        return schema

    def __len__(self) -> int:
        return len(self._by_hash)


# --- rules 3-6 -----------------------------------------------------------------------------


def _read_rollout(raw: Any, version: int) -> Union[Tuple[CandidateRollout, List[str]], str]:
    """The cohort is the manager's, signed: checked for shape only, so that a broken one is
    refused by every instance (targeted or not) rather than read differently by each."""
    if not is_plain_object(raw):
        return "must be an object { id, step, stableVersion, instances } (a candidate names its rollout)"
    rollout_id, step = raw.get("id"), raw.get("step")
    stable_version, instances = raw.get("stableVersion"), raw.get("instances")
    if not isinstance(rollout_id, str) or rollout_id == "":
        return "id must be a non-empty string"
    if not is_version(step):
        return "step must be a positive integer"
    if not is_version(stable_version) or stable_version >= version:
        return f"stableVersion must be a positive integer below the candidate's version {version}"
    if not isinstance(instances, list) or not all(isinstance(entry, str) for entry in instances):
        return "instances must be an array of instance ids"
    return CandidateRollout(rollout_id, int(step), int(stable_version)), list(instances)


class _SchemaRules:
    def __init__(self, definition: ServiceDefinition) -> None:
        self.definition = definition
        self.secret_defaults = definition.secret_defaults()
        self.secret_paths = list(definition.secret_paths)


def set_at_path(target: dict, path: str, value: Any) -> bool:
    """Sets ``value`` at a dotted path of objects; False (nothing changed) when a parent is missing."""
    keys = path.split(".")
    last = keys.pop()
    parent: Any = target
    for key in keys:
        parent = parent.get(key) if isinstance(parent, dict) else None
    if not isinstance(parent, dict):
        return False
    parent[last] = value
    return True


class EnvelopeVerifier:
    """Applies the worker rules, in order, to raw message bytes; pure (no logging, no state)."""

    def __init__(
        self,
        trusted_keys: Mapping[str, bytes],
        service: Optional[str] = None,
        definition: Optional[ServiceDefinition] = None,
        secret_key: Optional[bytes] = None,
        max_envelope_bytes: int = MAX_ENVELOPE_BYTES,
        previous_secret_keys: Sequence[bytes] = (),
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        name = service if service is not None else (definition.name if definition is not None else None)
        if name is None:
            raise VerifierOptionError("service", "a verifier without its own definition needs the service")
        if definition is not None and definition.name != name:
            raise VerifierOptionError("service", f"service {name} is not the service of the definition ({definition.name})")
        self.service = name
        self._own = _SchemaRules(definition) if definition is not None else None
        self.definition = definition
        verifiers: Dict[str, nacl.signing.VerifyKey] = {}
        for kid, key in trusted_keys.items():
            if len(key) != _PUBLIC_KEY_BYTES:
                raise VerifierOptionError(
                    "trustedKeys", f"trusted key {kid} must be {_PUBLIC_KEY_BYTES} bytes (got {len(key)})"
                )
            verifiers[kid] = nacl.signing.VerifyKey(bytes(key))
        if not verifiers:
            raise VerifierOptionError("trustedKeys", "trustedKeys must hold at least one Ed25519 public key")
        self._verifiers = verifiers
        if secret_key is not None and len(secret_key) != _SECRET_KEY_BYTES:
            raise VerifierOptionError(
                "secretKey",
                f"secretKey must be a {_SECRET_KEY_BYTES}-byte X25519 secret key (got {len(secret_key)} bytes)",
            )
        for index, key in enumerate(previous_secret_keys):
            if len(key) != _SECRET_KEY_BYTES:
                raise VerifierOptionError(
                    "previousSecretKeys",
                    f"previous secret key {index + 1} must be a {_SECRET_KEY_BYTES}-byte X25519 secret key "
                    f"(got {len(key)} bytes)",
                )
        if previous_secret_keys and secret_key is None:
            raise VerifierOptionError(
                "previousSecretKeys", "previousSecretKeys are the overlap of a rotation: give the current secretKey too"
            )
        # The current key first; the previous ones only while a rotation overlaps (docs/recovery.md).
        self._secret_keys: Tuple[bytes, ...] = tuple(
            bytes(key) for key in ([secret_key] if secret_key is not None else []) + list(previous_secret_keys)
        )
        self._clock = clock
        if not isinstance(max_envelope_bytes, int) or max_envelope_bytes <= 0:
            raise VerifierOptionError("maxEnvelopeBytes", "maxEnvelopeBytes must be a positive integer")
        self.max_envelope_bytes = max_envelope_bytes
        self._signed_rules: Dict[str, _SchemaRules] = {}

    def verify(
        self,
        data: bytes,
        topic_service: Optional[str],
        applied_version: int,
        signed_schemas: Optional[SignedSchemaStore] = None,
        candidate_stable_version: Optional[int] = None,
    ) -> EnvelopeVerdict:
        """The verdict on a message of the config (stable) topic; never raises, whatever the input.
        ``candidate_stable_version``: while the applied version came from a candidate, that
        candidate's ``rollout.stableVersion``."""
        return self._guarded(data, topic_service, applied_version, signed_schemas, candidate_stable_version, "config", None)

    def verify_candidate(
        self,
        data: bytes,
        topic_service: Optional[str],
        applied_version: int,
        instance_id: str,
        signed_schemas: Optional[SignedSchemaStore] = None,
    ) -> EnvelopeVerdict:
        """The verdict on a message of the candidate topic (rollouts); never raises."""
        if len(data) == 0:
            return NoCandidate()
        return self._guarded(data, topic_service, applied_version, signed_schemas, None, "candidate", instance_id)

    def verify_saved(
        self,
        data: bytes,
        topic_service: Optional[str],
        applied_version: int,
        instance_id: str,
        signed_schemas: Optional[SignedSchemaStore] = None,
    ) -> EnvelopeVerdict:
        """The verdict on a saved envelope (the last-known-good file): a payload naming a rollout
        is judged as a candidate for ``instance_id``, any other as a config; never raises."""
        return self._guarded(data, topic_service, applied_version, signed_schemas, None, "saved", instance_id)

    def _guarded(self, data: bytes, *args: Any) -> EnvelopeVerdict:
        try:
            return self._apply_rules(bytes(data), *args)
        except Exception as error:  # noqa: BLE001 - a hostile message must not take the worker down
            # Only the error's name: its message could quote the input.
            return Rejected("malformed", f"internal verifier error ({type(error).__name__}): please report")

    def verify_schema(self, data: bytes, topic_service: Optional[str]) -> SchemaVerdict:
        """The verdict on a schema message (``system/schema/<service>``); never raises."""
        try:
            reading = read_signed_envelope(bytes(data), self._verifiers, self.max_envelope_bytes)
            if not reading.ok:
                return SchemaRejected(reading.reason, reading.detail)
            return check_schema_payload(reading.payload, bytes(data), self.service, topic_service)
        except Exception as error:  # noqa: BLE001
            return SchemaRejected("malformed", f"internal verifier error ({type(error).__name__}): please report")

    def _apply_rules(
        self,
        data: bytes,
        topic_service: Optional[str],
        applied_version: int,
        signed_schemas: Optional[SignedSchemaStore],
        candidate_stable_version: Optional[int],
        topic_kind: str,
        instance_id: Optional[str],
    ) -> EnvelopeVerdict:
        reading = read_signed_envelope(data, self._verifiers, self.max_envelope_bytes)
        if not reading.ok:
            return Rejected(reading.reason, reading.detail)

        # Rule 3: signed, so from here on the content is the manager's, but still checked.
        payload = reading.payload
        raw_version = payload.get("version")
        version = int(raw_version) if is_version(raw_version) else None
        service = payload.get("service")
        if not isinstance(service, str) or service != topic_service or service != self.service:
            shown = echo(service) if isinstance(service, str) else "(none)"
            topic = "(no service)" if topic_service is None else echo(topic_service)
            return Rejected(
                "service",
                f"payload is for service {shown}, the topic is for {topic} and this client is {self.service}",
                version,
            )
        # A candidate names its cohort inside the signature; on the stable topic it would reach
        # every instance, so the broker could choose who runs it: it is bound to its own topic.
        candidate = instance_id is not None and (topic_kind == "candidate" or "rollout" in payload)
        if topic_kind == "config" and "rollout" in payload:
            return Rejected(
                "service",
                f"payload is a candidate (it names a rollout) on the config topic of {self.service}: "
                "candidates are applied only from the candidate topic",
                version,
            )
        if version is None:
            return Rejected("malformed", "payload.version must be a positive integer")
        issued_at = payload.get("issuedAt")
        issued_at = issued_at if isinstance(issued_at, str) else None

        if payload.get("archived") is True:
            return Archived(version, issued_at)

        # A candidate: its rollout must be readable, and name this instance.
        rollout: Optional[CandidateRollout] = None
        if candidate:
            target = _read_rollout(payload.get("rollout"), version)
            if isinstance(target, str):
                return Rejected("malformed", f"payload.rollout {target}", version)
            rollout, instances = target
            if instance_id not in instances:
                return NotTargeted(version, rollout.id)

        # Rule 4: only newer versions; the same one again is the retained copy or a redelivery.
        if version == applied_version:
            return Duplicate(version, issued_at)
        if topic_kind == "config" and version < applied_version and version == candidate_stable_version:
            # The stable version the applied candidate replaced, still retained on the stable topic.
            return BehindCandidate(version)
        if version < applied_version:
            return Rejected(
                "stale",
                f"version {version} is older than the applied version {applied_version} (replayed or out of order)",
                version,
            )

        # Rule 4a: only a worker with nothing applied refuses an expired payload (an old
        # envelope replayed to a new instance); one that runs a version takes any newer one.
        expiry = self._check_expiry(payload, version, applied_version, topic_kind)
        if expiry is not None:
            return expiry

        # Rule 5: the config against our own schema, or the signed schema it was built for.
        schema_hash = payload.get("schemaHash")
        rules = self._own
        signed: Optional[SignedSchema] = None
        if rules is None:
            if not isinstance(schema_hash, str):
                return Rejected(
                    "schema", "payload names no schemaHash, and this client validates only with signed schemas", version
                )
            signed = signed_schemas.get(schema_hash) if signed_schemas is not None else None
            if signed is None:
                return Pending(version, schema_hash)
            rules = self._rules_of(signed.definition)
        validated = validate_config(rules.definition, payload.get("config"))
        if not validated.ok:
            which = (
                f"the {self.service} schema"
                if signed is None
                else f"the signed {self.service} schema version {signed.schema_version}"
            )
            return Rejected("schema", f"config does not match {which}: {_summarize(validated.issues)}", version)

        # Rule 6: every secret opens with our key and is valid where it lands.
        opened = self._open_secrets(payload, version, rules)
        if isinstance(opened, Rejected):
            return opened
        config = validated.config
        for path in rules.secret_paths:
            value = opened[path] if path in opened else rules.secret_defaults.get(path, "")
            if not set_at_path(config, path, value) and path in opened:
                return Rejected("secret", f"secret {path} has no object to live in", version)
        if opened:
            complete = validate_config(rules.definition, config, allow_secrets=True)
            if not complete.ok:
                return Rejected("secret", f"opened secrets are invalid: {_summarize(complete.issues)}", version)
            config = complete.config

        return Accepted(
            version=version,
            payload=AcceptedPayload(
                service=service,
                version=version,
                issued_at=issued_at,
                schema_hash=schema_hash if isinstance(schema_hash, str) else None,
                secret_paths=tuple(opened.keys()),
            ),
            config=config,
            schema_drift=signed is None and schema_hash != rules.definition.schema_hash,
            signed_schema=signed,
            rollout=rollout,
        )

    def _check_expiry(self, payload: dict, version: int, applied_version: int, topic_kind: str) -> Optional[Rejected]:
        if topic_kind == "saved" or "expiresAt" not in payload:
            return None  # the last-known-good file is for running through outages; absent: never expires
        expires = parse_iso(payload["expiresAt"])
        if expires is None:
            return Rejected("malformed", "payload.expiresAt must be an ISO 8601 time (like 2026-11-28T20:00:00.000Z)", version)
        if applied_version != 0:
            return None
        now = self._clock()
        if expires < now - EXPIRY_SKEW_SECONDS:
            return Rejected(
                "expired",
                f"version {version} expired at {iso_of(expires)}, more than {EXPIRY_SKEW_SECONDS // 60} minutes "
                f"before now ({iso_of(now)}), and this worker has nothing applied (an old envelope replayed, "
                "or the manager's heartbeat stopped)",
                version,
            )
        return None

    def _rules_of(self, definition: ServiceDefinition) -> _SchemaRules:
        rules = self._signed_rules.get(definition.schema_hash)
        if rules is None:
            if len(self._signed_rules) >= 2 * MAX_SIGNED_SCHEMAS:
                self._signed_rules.clear()
            rules = self._signed_rules[definition.schema_hash] = _SchemaRules(definition)
        return rules

    def _open_secrets(self, payload: dict, version: int, rules: _SchemaRules) -> Union[Dict[str, str], Rejected]:
        opened: Dict[str, str] = {}
        # A manager with no recipient key for the service sends none; absent means the same.
        if "secrets" not in payload:
            return opened
        raw = payload["secrets"]
        if not isinstance(raw, dict):
            return Rejected("secret", "payload.secrets must be an object", version)
        paths: List[str] = list(raw.keys())
        unknown = next((p for p in paths if p not in rules.secret_paths), None)
        if unknown is not None:
            return Rejected(
                "secret", f"payload.secrets has {echo(unknown)}, which is not a secret path of {self.service}", version
            )
        if paths and not self._secret_keys:
            return Rejected(
                "secret",
                f"payload carries sealed secrets ({', '.join(paths)}) but this client has no X25519 secret key",
                version,
            )
        for path in paths:
            plaintext = self._open_one(raw[path])
            if isinstance(plaintext, SealedSecretError):
                return Rejected("secret", f"secret {path} does not open: {plaintext}", version)
            text = decode_utf8(plaintext)
            if text is None:
                return Rejected("secret", f"secret {path} is not UTF-8 text", version)
            opened[path] = text
        return opened

    def _open_one(self, sealed: Any) -> Union[bytes, SealedSecretError]:
        # The current key's error is the one reported: a previous key is only a fallback.
        first: Optional[SealedSecretError] = None
        for key in self._secret_keys:
            try:
                return open_sealed_secret(sealed, key)
            except SealedSecretError as error:
                if error.malformed:
                    return error  # no key opens a malformed entry
                first = first or error
        assert first is not None
        return first
