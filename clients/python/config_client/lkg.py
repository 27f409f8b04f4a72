"""The last-known-good file: the newest accepted envelope, HMAC-protected, so a worker starts
(and refuses replays of older versions) while the manager or the broker is down.

The layout is the Node SDK's (libs/config-client/src/last-known-good.ts), so either SDK reads
the other's file. One JSON object and a newline, written atomically (temp file, fsync, rename,
mode 0600). This client writes format 3 (docs/recovery.md)::

    { "format": 3, "service": "<service>", "instanceId": "<instance>", "savedAt": "<ISO time>",
      "envelope": "<base64 of the config envelope bytes as received>",
      "schemaEnvelope": "<base64 of the signed schema envelope>",   (a client on signed schemas)
      "hmac": "<base64 HMAC-SHA256>" }

The HMAC key is LKG_HMAC_KEY (at least 16 bytes); for format 3 its input binds every field, each
with its length, so a file saved by another instance or with an edited ``savedAt`` does not
check::

    "config-centre/last-known-good\\0" ‖ u32be(format) ‖ u32be(len(service)) ‖ service
      ‖ envelope                                  (format 1)
      ‖ u32be(len(envelope)) ‖ envelope ‖ schema  (format 2)
      ‖ for each of instanceId, savedAt (UTF-8), envelope, schema envelope (empty when
        absent): u32be(len) ‖ bytes               (format 3)

Formats 1 and 2 (older SDKs: no instance id, ``savedAt`` not bound) are still read.

During a rotation of LKG_HMAC_KEY the previous keys (LKG_HMAC_KEYS_PREVIOUS) are tried when the
current one does not check; the load then says so (``previous_key``), and the client rewrites
the file under the current key at once.

The HMAC only says "this worker's family wrote it": the envelopes are verified again in full
when loaded (signature, service, schema), and their version is the replay floor.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets as _random
import struct
import threading
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from .keys import decode_strict_base64
from .times import SYSTEM_CLOCK, Clock, iso_now
from .topics import INSTANCE_ID_PATTERN

#: What this client writes: format 3 binds the instance id and savedAt too.
LKG_FORMAT = 3
#: Format 2 (older SDKs): a config envelope and the signed schema envelope; read, not written.
LKG_FORMAT_WITH_SCHEMA = 2
#: Format 1 (older SDKs): a config envelope only; read, not written.
LKG_FORMAT_CONFIG_ONLY = 1
LKG_FORMATS = (LKG_FORMAT_CONFIG_ONLY, LKG_FORMAT_WITH_SCHEMA, LKG_FORMAT)
MIN_LKG_HMAC_KEY_BYTES = 16
_HMAC_DOMAIN = b"config-centre/last-known-good\0"
_HMAC_BYTES = 32
_MAX_FILE_BYTES = 4 * 1024 * 1024

__all__ = [
    "LKG_FORMAT",
    "LKG_FORMATS",
    "LastKnownGoodStore",
    "LkgLoad",
    "MIN_LKG_HMAC_KEY_BYTES",
    "iso_now",
    "lkg_file_text",
    "lkg_mac_input",
    "open_last_known_good",
    "seal_last_known_good",
]


@dataclass(frozen=True)
class LkgLoad:
    """``kind`` is ``missing``, ``invalid`` (with ``reason``, naming no content) or ``ok``.

    An ``ok`` load says which ``format`` it was (1 and 2 are rewritten as 3 on the next save)
    and whether only a ``previous_key`` checked (the caller rewrites it under the current key)."""

    kind: str
    reason: str = ""
    envelope_bytes: bytes = b""
    schema_envelope_bytes: Optional[bytes] = None
    saved_at: str = ""
    format: int = 0
    previous_key: bool = False


def lkg_mac_input(
    fmt: int, service: str, instance_id: str, saved_at: str, envelope: bytes, schema: Optional[bytes]
) -> bytes:
    """The bytes the HMAC of a file of format ``fmt`` covers (format 1 and 2 ignore instance and savedAt)."""
    service_bytes = service.encode("utf-8")
    head = _HMAC_DOMAIN + struct.pack(">II", fmt, len(service_bytes)) + service_bytes
    if fmt == LKG_FORMAT_CONFIG_ONLY:
        return head + envelope
    if fmt == LKG_FORMAT_WITH_SCHEMA:
        return head + struct.pack(">I", len(envelope)) + envelope + (schema or b"")
    parts = (instance_id.encode("utf-8"), saved_at.encode("utf-8"), envelope, schema or b"")
    return head + b"".join(struct.pack(">I", len(part)) + part for part in parts)


def seal_last_known_good(
    key: bytes, service: str, instance_id: str, saved_at: str, envelope: bytes, schema: Optional[bytes] = None
) -> Dict[str, Any]:
    """A format-3 file for this content, MACed under ``key``, its keys in the Node SDK's order
    (sealLastKnownGood); an empty schema envelope is an absent one. Pure."""
    schema = schema or None
    record: Dict[str, Any] = {
        "format": LKG_FORMAT,
        "service": service,
        "instanceId": instance_id,
        "savedAt": saved_at,
        "envelope": base64.b64encode(envelope).decode("ascii"),
    }
    if schema is not None:
        record["schemaEnvelope"] = base64.b64encode(schema).decode("ascii")
    mac_input = lkg_mac_input(LKG_FORMAT, service, instance_id, saved_at, envelope, schema)
    record["hmac"] = base64.b64encode(hmac.new(key, mac_input, hashlib.sha256).digest()).decode("ascii")
    return record


def lkg_file_text(record: Mapping[str, Any]) -> str:
    """The file's exact text: JSON.stringify of the record and a newline."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"


def open_last_known_good(parsed: Any, service: str, instance_id: str, keys: Sequence[bytes]) -> LkgLoad:
    """Reads a parsed file (format 1, 2 or 3) of ``service`` for ``instance_id``: invalid (with a
    reason naming no content) or its envelope bytes, tried under ``keys`` in order (the current
    key first, then the previous ones). Pure; never raises (openLastKnownGood)."""
    if not isinstance(parsed, dict):
        return LkgLoad("invalid", "is not a JSON object")
    fmt = parsed.get("format")
    if isinstance(fmt, bool) or fmt not in LKG_FORMATS:
        return LkgLoad("invalid", f"has an unknown format (expected {LKG_FORMAT_CONFIG_ONLY} to {LKG_FORMAT})")
    fmt = int(fmt)
    if parsed.get("service") != service:
        return LkgLoad("invalid", f"is for another service, not {service}")
    saved_at, envelope, mac = parsed.get("savedAt"), parsed.get("envelope"), parsed.get("hmac")
    if not all(isinstance(v, str) for v in (saved_at, envelope, mac)):
        return LkgLoad("invalid", "lacks savedAt, envelope or hmac")
    instance = parsed.get("instanceId")
    if fmt == LKG_FORMAT and instance != instance_id:
        if not isinstance(instance, str):
            return LkgLoad("invalid", f"lacks the instanceId of format {LKG_FORMAT}")
        shown = instance if INSTANCE_ID_PATTERN.fullmatch(instance) else "(not an instance id)"
        return LkgLoad("invalid", f"was saved by another instance ({shown}), not {instance_id} (copied from another worker?)")
    schema_text = parsed.get("schemaEnvelope")
    if fmt == LKG_FORMAT_WITH_SCHEMA and not isinstance(schema_text, str):
        return LkgLoad("invalid", f"lacks the schema envelope of format {LKG_FORMAT_WITH_SCHEMA}")
    if fmt == LKG_FORMAT and schema_text is not None and not isinstance(schema_text, str):
        return LkgLoad("invalid", "has a schema envelope that is not a string")
    envelope_bytes = decode_strict_base64(envelope)
    # An empty schema envelope is an absent one (the HMAC covers it as empty either way).
    has_schema = fmt != LKG_FORMAT_CONFIG_ONLY and isinstance(schema_text, str)
    schema_bytes = decode_strict_base64(schema_text) if has_schema else b""
    mac_bytes = decode_strict_base64(mac)
    if envelope_bytes is None or schema_bytes is None or mac_bytes is None or len(mac_bytes) != _HMAC_BYTES:
        return LkgLoad("invalid", "has an envelope or hmac that is not valid base64")
    mac_input = lkg_mac_input(fmt, service, instance_id, saved_at, envelope_bytes, schema_bytes)
    checked = next(
        (i for i, key in enumerate(keys) if hmac.compare_digest(hmac.new(key, mac_input, hashlib.sha256).digest(), mac_bytes)),
        None,
    )
    if checked is None:
        tried = "LKG_HMAC_KEY" if len(keys) == 1 else "LKG_HMAC_KEY or LKG_HMAC_KEYS_PREVIOUS"
        edited = ", its savedAt edited," if fmt == LKG_FORMAT else ""
        return LkgLoad("invalid", f"fails its HMAC check (tampered{edited} or written with another key than {tried})")
    return LkgLoad(
        "ok",
        envelope_bytes=envelope_bytes,
        schema_envelope_bytes=schema_bytes or None,
        saved_at=saved_at,
        format=fmt,
        previous_key=checked > 0,
    )


class LastKnownGoodStore:
    """Reads and atomically writes the last-known-good file of one service instance."""

    def __init__(
        self,
        path: str,
        hmac_key: bytes,
        instance_id: str,
        previous_keys: Sequence[bytes] = (),
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        named = [("lkg_hmac_key", hmac_key)] + [(f"lkg_hmac_keys_previous item {i + 1}", k) for i, k in enumerate(previous_keys)]
        for name, key in named:
            if len(key) < MIN_LKG_HMAC_KEY_BYTES:
                raise ValueError(f"{name} must be at least {MIN_LKG_HMAC_KEY_BYTES} bytes (got {len(key)})")
        if not isinstance(instance_id, str) or not INSTANCE_ID_PATTERN.fullmatch(instance_id):
            raise ValueError("instance_id must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
        self.path = path
        self.instance_id = instance_id
        # The current key first: it alone writes; the previous ones only read (a rotation).
        self._keys: Tuple[bytes, ...] = (bytes(hmac_key),) + tuple(bytes(k) for k in previous_keys)
        self._clock = clock
        # Saves run one after another, so an older version is never renamed over a newer one.
        self._lock = threading.Lock()

    def save(self, envelope_bytes: bytes, service: str, schema_envelope_bytes: Optional[bytes] = None) -> None:
        """Atomically replaces the file, in format 3 under the current key (temp file, fsync,
        rename; mode 0600)."""
        record = seal_last_known_good(
            self._keys[0],
            service,
            self.instance_id,
            iso_now(self._clock),
            bytes(envelope_bytes),
            None if schema_envelope_bytes is None else bytes(schema_envelope_bytes),
        )
        text = lkg_file_text(record)
        directory = os.path.dirname(os.path.abspath(self.path))
        with self._lock:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            temp = f"{self.path}.tmp-{os.getpid()}-{_random.token_hex(6)}"
            try:
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    os.write(fd, text.encode("utf-8"))
                    # Durable before it becomes visible: a crash leaves the old file or the new.
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.replace(temp, self.path)
            except BaseException:
                try:
                    os.unlink(temp)
                except OSError:
                    pass
                raise
            _sync_directory(directory)

    def load(self, service: str) -> LkgLoad:
        """The file for ``service`` and this instance: missing, invalid (and why), or the envelope
        bytes to verify."""
        try:
            with open(self.path, "rb") as handle:
                raw = handle.read(_MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            return LkgLoad("missing")
        except OSError as error:
            return LkgLoad("invalid", f"cannot be read ({error.__class__.__name__})")
        if len(raw) > _MAX_FILE_BYTES:
            return LkgLoad("invalid", "is larger than any file this client writes")
        try:
            parsed = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return LkgLoad("invalid", "is not JSON (truncated or overwritten)")
        return open_last_known_good(parsed, service, self.instance_id, self._keys)


def _sync_directory(directory: str) -> None:
    # Makes the rename itself durable; best effort (some platforms cannot open a directory).
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
