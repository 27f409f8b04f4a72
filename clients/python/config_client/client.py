"""ConfigClient: the worker side of the config centre, in Python (libs/config-client's ConfigClient).

It subscribes to its service's signed config (and, without a schema of its own, to the signed
schema), verifies every message (:class:`EnvelopeVerifier`), stages what it accepts, and swaps
it in only at :meth:`ConfigClient.begin_run`, so one run always sees one version. It keeps a
last-known-good file, so it starts (and refuses replays) while the manager or broker is down,
and reports its state, retained, on ``system/health/<service>/<instanceId>``: with its labels
and how its runs ended (:meth:`ConfigClient.end_run`). It follows the service's candidate topic
too (rollouts, docs/rollouts.md): a candidate whose cohort names this instance is staged like
any version.

Freshness (docs/recovery.md): the manager re-signs the current version every minute or so (a
heartbeat). The same version again, authentic, from the topic the running version came from, is
an **attestation**: ``attestedAt`` moves to its ``issuedAt`` (never past now) and the
last-known-good file is rewritten with it. A worker whose ``attestedAt`` is older than
``max_staleness_s`` (or that has applied nothing for that long since start) is **stale**: its
health says ``stale: true``, and it logs once per change what to check. Stale is a warning: runs
go on with what it has.

Threads: paho's network thread delivers messages; every state change happens under one lock,
so ``begin_run``/``current``/``status`` may be called from any thread. Event listeners run on
the network thread (keep them short).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import re
import ssl
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt

from .envelope import (
    Accepted,
    CandidateRollout,
    EnvelopeVerifier,
    Rejected,
    SchemaRejected,
    SignedSchema,
    SignedSchemaStore,
    set_at_path,
)
from .health import instance_status, zero_counts
from .jsvalue import js_keys
from .labels import label_problems
from .lkg import LKG_FORMAT, LastKnownGoodStore
from .service_schema import ServiceDefinition, check_service_schema
from .times import SYSTEM_CLOCK, Clock, iso_now, iso_of, parse_iso
from .topics import (
    INSTANCE_ID_PATTERN,
    SERVICE_NAME_PATTERN,
    TOPIC_PREFIX_PATTERN,
    candidate_topic,
    config_topic,
    health_topic,
    parse_candidate_topic,
    parse_config_topic,
    parse_schema_topic,
    schema_topic,
)

DEFAULT_INITIAL_CONFIG_TIMEOUT_MS = 3000
_MAX_INITIAL_TIMEOUT_MS = 10 * 60 * 1000
_STOP_TIMEOUT_S = 2.0
_RECONNECT_PERIOD_S = 1
_CONNECT_TIMEOUT_S = 5.0
_KEEPALIVE_S = 60
_SUBACK_FAILURE = 128
# Routine run outcomes (another completed run on the same version) reach health at most this often.
_RUN_HEALTH_INTERVAL_S = 1.0
#: CONFIG_MAX_STALENESS's default: stale after 5 minutes without an attestation (0: never).
DEFAULT_MAX_STALENESS_S = 300
# How often the staleness thread looks at the clock (a change shows in health within this).
_STALENESS_CHECK_S = 1.0
# URL scheme: (paho transport, TLS, default port), as mqtt.js reads them.
_SCHEMES = {
    "mqtt": ("tcp", False, 1883),
    "tcp": ("tcp", False, 1883),
    "mqtts": ("tcp", True, 8883),
    "ssl": ("tcp", True, 8883),
    "ws": ("websockets", False, 80),
    "wss": ("websockets", True, 443),
}


class ConfigClientError(Exception):
    """A misuse or a bad option (``option`` names it); never raised for what the broker sends."""

    def __init__(self, message: str, option: Optional[str] = None) -> None:
        super().__init__(message)
        self.option = option


class FrozenDict(dict):
    """A dict that refuses changes: a run's config never changes under it (json.dumps works)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("this configuration snapshot is read-only; copy it to change it")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __ior__(self, other: Any) -> "FrozenDict":  # type: ignore[override]
        self._refuse()
        return self

    def __copy__(self) -> dict:
        return dict(self)

    def __deepcopy__(self, memo: Any) -> dict:
        """copy.deepcopy gives a plain, mutable copy (what one deep-copies a config for)."""
        return thaw(self)

    def __reduce__(self) -> Any:
        return (FrozenDict, (dict(self),))


class FrozenList(list):
    """A list that refuses changes."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("this configuration snapshot is read-only; copy it to change it")

    __setitem__ = __delitem__ = append = extend = insert = pop = remove = reverse = sort = clear = _refuse  # type: ignore[assignment]

    def __iadd__(self, other: Any) -> "FrozenList":  # type: ignore[override]
        self._refuse()
        return self

    def __imul__(self, other: Any) -> "FrozenList":  # type: ignore[override]
        self._refuse()
        return self

    def __copy__(self) -> list:
        return list(self)

    def __deepcopy__(self, memo: Any) -> list:
        return thaw(self)

    def __reduce__(self) -> Any:
        return (FrozenList, (list(self),))


def deep_freeze(value: Any) -> Any:
    """A read-only deep copy of a JSON value (FrozenDict / FrozenList)."""
    if isinstance(value, dict):
        return FrozenDict((key, deep_freeze(value[key])) for key in js_keys(value))
    if isinstance(value, list):
        return FrozenList(deep_freeze(item) for item in value)
    return value


def thaw(value: Any) -> Any:
    """A plain, mutable deep copy of a (frozen) JSON value."""
    if isinstance(value, dict):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, list):
        return [thaw(item) for item in value]
    return value


@dataclass(frozen=True)
class ConfigSnapshot:
    """What one run sees: a version and its read-only configuration, which never change."""

    version: int
    config: Mapping[str, Any]
    schema_drift: bool
    source: str
    #: The secret paths of the schema the config was validated with (opened values sit there).
    secret_paths: tuple
    #: When this snapshot was taken (by begin_run() or current()).
    taken_at: str

    def redacted(self) -> dict:
        """A mutable copy of the config without its secret values (for logs)."""
        plain = thaw(self.config)
        for path in self.secret_paths:
            keys = path.split(".")
            node: Any = plain
            for key in keys[:-1]:
                node = node.get(key) if isinstance(node, dict) else None
            if isinstance(node, dict):
                node.pop(keys[-1], None)
        return plain

    def secret(self, path: str) -> Optional[str]:
        """The opened value of a secret path ('' when not set), or None if there is no such path."""
        node: Any = self.config
        for key in path.split("."):
            node = node.get(key) if isinstance(node, dict) else None
        return node if isinstance(node, str) else None


@dataclass(frozen=True)
class _State:
    version: int
    config: Mapping[str, Any]
    schema_drift: bool
    source: str
    secret_paths: tuple
    #: The rollout whose candidate this version is (from the candidate topic, or a saved candidate).
    rollout: Optional[CandidateRollout] = None


@dataclass
class _Held:
    topic: str
    data: bytes
    version: int
    schema_hash: str


@dataclass
class ClientOptions:
    """Everything a ConfigClient needs; :func:`options_from_env` builds it from the environment."""

    service: str
    instance_id: str
    mqtt_url: str
    trusted_keys: Mapping[str, bytes]
    lkg_path: str
    lkg_hmac_key: bytes
    #: The worker's own JSON Schema (a dict); None: the manager's signed schema is used.
    schema: Optional[dict] = None
    #: What this instance says it is, in every status (INSTANCE_LABELS); rollouts select by them.
    labels: Optional[Dict[str, str]] = None
    secret_key: Optional[bytes] = None
    #: CONFIG_SECRET_KEYS_PREVIOUS: tried when a sealed secret does not open with secret_key.
    previous_secret_keys: Sequence[bytes] = ()
    #: LKG_HMAC_KEYS_PREVIOUS: a file that checks only under one is used and rewritten at once.
    lkg_hmac_keys_previous: Sequence[bytes] = ()
    #: CONFIG_MAX_STALENESS in seconds; 0 turns staleness off.
    max_staleness_s: int = DEFAULT_MAX_STALENESS_S
    #: The current time in seconds since the epoch (tests move it); expiry and staleness use it.
    clock: Clock = field(default=SYSTEM_CLOCK, repr=False)
    mqtt_username: Optional[str] = None
    mqtt_password: Optional[str] = None
    mqtt_ca_file: Optional[str] = None
    topic_prefix: str = ""
    initial_config_timeout_ms: int = DEFAULT_INITIAL_CONFIG_TIMEOUT_MS
    max_envelope_bytes: int = 256 * 1024
    logger: Optional[logging.Logger] = field(default=None, repr=False)

    def __repr__(self) -> str:  # keys and passwords never in a repr
        return f"ClientOptions(service={self.service!r}, instance_id={self.instance_id!r}, mqtt_url=<{_safe_url(self.mqtt_url)}>)"


def _safe_url(url: str) -> str:
    """A broker URL without its credentials, for log lines."""
    return re.sub(r"//[^@/]*@", "//", url)


class ConfigClient:
    """Signed configuration for one worker instance: verify, stage, swap between runs, report."""

    def __init__(self, options: ClientOptions) -> None:
        service = options.service
        if not isinstance(service, str) or not SERVICE_NAME_PATTERN.fullmatch(service):
            raise ConfigClientError(f"service {service!r} must match ^[a-z][a-z0-9-]{{1,62}}$ (it is an MQTT topic segment)", "service")
        if not isinstance(options.instance_id, str) or not INSTANCE_ID_PATTERN.fullmatch(options.instance_id):
            raise ConfigClientError(
                "instance_id must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$ (it is an MQTT topic segment)", "instance_id"
            )
        if not TOPIC_PREFIX_PATTERN.fullmatch(options.topic_prefix):
            raise ConfigClientError('topic_prefix must be empty or segments ending in "/", like "tenant-a/"', "topic_prefix")
        labels = {} if options.labels is None else options.labels
        problems = label_problems(labels)
        if problems:
            raise ConfigClientError("labels " + "; ".join(problems), "labels")
        staleness = options.max_staleness_s
        if not isinstance(staleness, int) or isinstance(staleness, bool) or staleness < 0:
            raise ConfigClientError("max_staleness_s must be an integer of seconds, 0 or more (0: off)", "max_staleness_s")
        timeout = options.initial_config_timeout_ms
        if not isinstance(timeout, int) or isinstance(timeout, bool) or not 0 <= timeout <= _MAX_INITIAL_TIMEOUT_MS:
            raise ConfigClientError(
                f"initial_config_timeout_ms must be an integer from 0 to {_MAX_INITIAL_TIMEOUT_MS}", "initial_config_timeout_ms"
            )
        self._broker = _parse_broker_url(options.mqtt_url)
        self._tls: Optional[ssl.SSLContext] = None
        if self._broker[1]:
            try:
                self._tls = ssl.create_default_context(cafile=options.mqtt_ca_file)
            except (OSError, ssl.SSLError) as error:
                raise ConfigClientError(
                    f"mqtt_ca_file {options.mqtt_ca_file} cannot be read ({error.__class__.__name__})", "mqtt_ca_file"
                ) from None
        definition: Optional[ServiceDefinition] = None
        if options.schema is not None:
            check = check_service_schema(service, "", options.schema)
            if not check.ok:
                shown = "; ".join(p.message for p in check.problems[:10])
                raise ConfigClientError(f"schema is not a usable JSON Schema for {service}: {shown}", "schema")
            definition = check.definition
        self.service = service
        self.instance_id = options.instance_id
        self._definition = definition
        self._signed_schemas = SignedSchemaStore() if definition is None else None
        self._options = options
        self._topic_prefix = options.topic_prefix
        self.labels = dict(labels)
        self.config_topic = options.topic_prefix + config_topic(service)
        self.candidate_topic = options.topic_prefix + candidate_topic(service)
        self.schema_topic = options.topic_prefix + schema_topic(service) if definition is None else None
        self.health_topic = options.topic_prefix + health_topic(service, options.instance_id)
        try:
            self._verifier = EnvelopeVerifier(
                trusted_keys=options.trusted_keys,
                service=service,
                definition=definition,
                secret_key=options.secret_key,
                max_envelope_bytes=options.max_envelope_bytes,
                previous_secret_keys=tuple(options.previous_secret_keys),
                clock=options.clock,
            )
        except ValueError as error:
            raise ConfigClientError(str(error), getattr(error, "option", None)) from None
        try:
            self._store = LastKnownGoodStore(
                options.lkg_path,
                options.lkg_hmac_key,
                options.instance_id,
                tuple(options.lkg_hmac_keys_previous),
                options.clock,
            )
        except ValueError as error:
            option = "lkg_hmac_keys_previous" if "previous" in str(error) else "lkg_hmac_key"
            raise ConfigClientError(str(error), option) from None
        self._clock = options.clock
        self._max_staleness_s = staleness
        self._log = options.logger or logging.getLogger("config_client")
        self._initial_timeout_s = timeout / 1000.0

        self._lock = threading.RLock()
        self._listeners: Dict[str, List[Callable[[dict], None]]] = {}
        self._defaults = _defaults_of(definition)
        self._defaults_schema_version = 0
        self._held: Optional[_Held] = None
        self._archived_version: Optional[int] = None
        self._phase = "new"
        self._active = self._defaults
        self._staged: Optional[_State] = None
        self._applied: Optional[_State] = None
        self._confirmed = False
        self._last_run_version: Optional[int] = None
        self._last_rejection: Optional[Dict[str, Any]] = None
        # Run outcomes (end_run): the counts on the version of the last finished run, and that run.
        self._runs: Optional[Dict[str, int]] = None
        self._last_run: Optional[Dict[str, Any]] = None
        # The snapshots begin_run() returned whose run has not ended, by identity.
        self._open_runs: "weakref.WeakValueDictionary[int, ConfigSnapshot]" = weakref.WeakValueDictionary()
        self._runs_timer: Optional[threading.Timer] = None
        self._last_health_at = 0.0
        self._accepted = 0
        self._duplicates = 0
        self._rejected = zero_counts()
        self._mqtt: Optional[mqtt.Client] = None
        self._ever_connected = False
        self._initial = threading.Event()
        self._initial_outcome: Optional[str] = None
        self._ready = False
        self._last_status_value: Optional[str] = None
        # Freshness: when the running version was last attested (epoch seconds), when the client
        # started, and the staleness last reported (health and the log say each change once).
        self._attested_at: Optional[float] = None
        self._started_at = self._clock()
        self._reported_stale = False
        # What the last-known-good file is rewritten with on an attestation.
        self._applied_schema_bytes: Optional[bytes] = None
        self._lkg_outdated = False
        self._staleness_stop = threading.Event()
        self._staleness_thread: Optional[threading.Thread] = None

    # --- public API -------------------------------------------------------------------------

    def start(self) -> "ConfigClient":
        """Loads the last-known-good file, connects, and returns once the broker's config is
        accepted (or confirms the last-known-good one), a first message is rejected, the broker
        is unreachable, or the initial timeout passes. Never raises because the broker is down."""
        with self._lock:
            if self._phase != "new":
                raise ConfigClientError("start() was called already; create a new client to start again")
            self._phase = "starting"
            self._started_at = self._clock()
        self._load_last_known_good()
        self._connect()
        self._initial.wait(self._initial_timeout_s)
        with self._lock:
            outcome = self._initial_outcome or "timeout"
            self._initial_outcome = outcome
            self._initial.set()
            if self._phase != "starting":
                return self
            self._phase = "running"
            self._ready = True
            self._log_start_outcome(outcome)
            self._publish_health()
            self._start_staleness_thread()
        return self

    def begin_run(self) -> ConfigSnapshot:
        """Swaps in the newest staged config (the only place the active config changes) and
        returns the snapshot this run uses. Call it at the start of every run."""
        with self._lock:
            if not self._ready:
                raise ConfigClientError("begin_run() before start() returned: call client.start() first")
            if self._staged is not None:
                self._active = self._staged
                self._staged = None
                self._log.info("Runs now use %s config version %d (%s)", self.service, self._active.version, self._active.source)
            self._last_run_version = self._active.version
            # Health at every run start: ops see runs happening, and on which version.
            self._publish_health()
            snapshot = self._snapshot(self._active)
            self._open_runs[id(snapshot)] = snapshot
            return snapshot

    def end_run(self, snapshot: ConfigSnapshot, ok: bool) -> None:
        """Records how the run of ``snapshot`` (what begin_run() returned) ended: ``runs`` counts
        the completed and failed runs on its version (restarting when a run uses another version)
        and ``lastRun`` is this one. Health goes out at once after the first finished run on a
        version and after a failed run, otherwise within a second. Raises ConfigClientError for a
        snapshot begin_run() did not return, or whose run ended already."""
        if not isinstance(ok, bool):
            raise ConfigClientError("end_run(snapshot, ok=...) needs ok=True (the run did its work) or False (it failed)", "ok")
        with self._lock:
            if self._open_runs.get(id(snapshot)) is not snapshot:
                raise ConfigClientError(
                    "end_run() takes the snapshot begin_run() returned, once: this one was not returned by "
                    "begin_run() of this client, or its run ended already"
                )
            del self._open_runs[id(snapshot)]
            version = snapshot.version
            previous = self._runs if self._runs is not None and self._runs["version"] == version else None
            counts = dict(previous) if previous is not None else {"version": version, "completed": 0, "failed": 0}
            counts["completed" if ok else "failed"] += 1
            self._runs = counts
            self._last_run = {"version": version, "ok": ok, "at": iso_now(self._clock)}
            if not ok:
                self._log.warning(
                    "A run on %s config version %d failed (%d of %d on it)",
                    self.service,
                    version,
                    counts["failed"],
                    counts["completed"] + counts["failed"],
                )
            # What a rollout decides on goes out at once; routine successes are coalesced.
            if previous is None or not ok:
                self._publish_health()
            else:
                self._publish_health_soon()

    @contextlib.contextmanager
    def run(self) -> Iterator[ConfigSnapshot]:
        """``with client.run() as snapshot:`` one run on one version: begin_run() at entry, and
        end_run() at exit, ``ok`` unless the block raised (unless the block ended it itself)."""
        snapshot = self.begin_run()
        ok = False
        try:
            yield snapshot
            ok = True
        finally:
            with self._lock:
                still_open = self._open_runs.get(id(snapshot)) is snapshot
            if still_open:
                self.end_run(snapshot, ok=ok)

    def current(self) -> ConfigSnapshot:
        """The active snapshot (what the current run uses), without swapping in a staged one."""
        with self._lock:
            return self._snapshot(self._active)

    def status(self) -> Dict[str, Any]:
        """The health payload as it would be published now."""
        with self._lock:
            reference = self._applied or self._defaults
            return instance_status(
                service=self.service,
                instance_id=self.instance_id,
                status=self._status_value(),
                applied_version=self._applied.version if self._applied else 0,
                staged_version=(self._staged or self._active).version,
                last_run_version=self._last_run_version,
                last_rejection=self._last_rejection,
                schema_drift=reference.schema_drift,
                source=reference.source,
                stale=self._is_stale(),
                attested_at=None if self._attested_at is None else iso_of(self._attested_at),
                rejections=self._rejected,
                at=iso_now(self._clock),
                labels=self.labels,
                runs=self._runs,
                last_run=self._last_run,
            )

    def check_staleness(self) -> bool:
        """Whether the client is stale now (publishing its status when that changed). A thread
        calls it every second; a run loop may call it too."""
        with self._lock:
            stale = self._is_stale()
            if stale != self._reported_stale and self._phase == "running":
                self._publish_health()
            return stale

    def stats(self) -> Dict[str, Any]:
        """Counters of broker messages: accepted, duplicates, rejected by reason."""
        with self._lock:
            return {"accepted": self._accepted, "duplicates": self._duplicates, "rejected": dict(self._rejected)}

    def on(self, event: str, listener: Callable[[dict], None]) -> Callable[[], None]:
        """Adds a listener for ``accepted``, ``rejected``, ``pending``, ``archived``,
        ``schemaAccepted``, ``schemaRejected``, ``status`` or ``freshness`` (``{stale,
        attestedAt?, at}`` when the staleness changes); returns a function removing it."""
        with self._lock:
            self._listeners.setdefault(event, []).append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners.get(event, []):
                    self._listeners[event].remove(listener)

        return remove

    def stop(self) -> None:
        """Publishes ``offline`` (retained), disconnects; the client cannot be started again."""
        with self._lock:
            if self._phase == "stopped":
                return
            self._phase = "stopped"
            self._cancel_runs_timer()
            self._staleness_stop.set()
            self._finish_initial("stopped")
            client, self._mqtt = self._mqtt, None
            offline = json.dumps(self.status(), ensure_ascii=False, separators=(",", ":"))
        if client is not None:
            try:
                if client.is_connected():
                    info = client.publish(self.health_topic, offline, qos=1, retain=True)
                    info.wait_for_publish(_STOP_TIMEOUT_S)
            except (RuntimeError, ValueError, OSError) as error:
                self._log.warning("Could not publish offline status: %s", error)
            client.disconnect()
            client.loop_stop()
        self._emit("status", self.status())
        self._log.info("Config client for %s/%s stopped", self.service, self.instance_id)

    def __enter__(self) -> "ConfigClient":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --- start-up ---------------------------------------------------------------------------

    def _load_last_known_good(self) -> None:
        path = self._store.path
        loaded = self._store.load(self.service)
        if loaded.kind == "missing":
            self._log.info("No last-known-good config at %s yet", path)
            return
        if loaded.kind == "invalid":
            self._log.error(
                "Ignoring last-known-good file %s: it %s. It is not used and will be replaced by the next valid "
                "config; if this repeats, check LKG_HMAC_KEY and what else writes that file.",
                path,
                loaded.reason,
            )
            return
        verdict = self._verify_last_known_good(loaded)
        if isinstance(verdict, str):
            self._log.error("Ignoring last-known-good file %s: %s", path, verdict)
            return
        if loaded.previous_key:
            self._log.warning(
                "The last-known-good file %s checks only under a key of LKG_HMAC_KEYS_PREVIOUS: rewriting it under "
                "LKG_HMAC_KEY now (drop the previous key once every instance has restarted)",
                path,
            )
            self._persist(loaded.envelope_bytes, loaded.schema_envelope_bytes)
        elif loaded.format != LKG_FORMAT:
            # An older SDK's file: rewritten as format 3 on the next accepted version or attestation.
            self._lkg_outdated = True
        candidate = "" if verdict.rollout is None else f", the candidate of rollout {verdict.rollout.id}"
        self._log.info(
            "Loaded last-known-good %s config version %d%s from %s (saved %s)",
            self.service,
            verdict.version,
            candidate,
            path,
            loaded.saved_at,
        )
        with self._lock:
            if verdict.signed_schema is not None:
                self._learn_schema(verdict.signed_schema, "lkg")
            self._accept(verdict, loaded.envelope_bytes, "lkg")

    def _verify_last_known_good(self, loaded: Any) -> Any:
        # Both envelopes are verified in full, as if just received: the HMAC only says who wrote it.
        saved: Optional[SignedSchemaStore] = None
        if self._signed_schemas is not None:
            if loaded.schema_envelope_bytes is None:
                return (
                    "it holds no signed schema to validate its config with (a client with a schema of its own "
                    "wrote it); the broker will deliver both"
                )
            schema = self._verifier.verify_schema(loaded.schema_envelope_bytes, self.service)
            if schema.kind != "accepted":
                return (
                    f"its signed schema fails verification ({schema.reason}: {schema.detail}). "
                    "Was the signing key rotated out of the trusted keys?"
                )
            # Only the schema saved with it: never one that merely arrived earlier.
            saved = SignedSchemaStore()
            saved.add(schema.schema)
        # A saved candidate is verified as one: it must still name this instance.
        verdict = self._verifier.verify_saved(loaded.envelope_bytes, self.service, 0, self.instance_id, saved)
        if verdict.kind == "accepted":
            return verdict
        if verdict.kind == "rejected":
            why = f"{verdict.reason}: {verdict.detail}"
        elif verdict.kind == "pending":
            why = f"it was built for schema {verdict.schema_hash}, not the one saved with it"
        elif verdict.kind == "not-targeted":
            why = f"it is a candidate of rollout {verdict.rollout_id} for other instances than {self.instance_id}"
        else:
            why = verdict.kind
        return f"its envelope fails verification ({why}). Was the signing key rotated out of the trusted keys, or the schema changed?"

    def _connect(self) -> None:
        transport, use_tls, host, port, path, url_user, url_password = self._broker
        client = mqtt.Client(
            client_id=f"{self.service}.{self.instance_id}",
            clean_session=True,
            protocol=mqtt.MQTTv311,
            transport=transport,
        )
        client._connect_timeout = _CONNECT_TIMEOUT_S  # paho 1.6 has no public setter
        username = self._options.mqtt_username if self._options.mqtt_username is not None else url_user
        password = self._options.mqtt_password if self._options.mqtt_password is not None else url_password
        if username is not None:
            client.username_pw_set(username, password)
        if use_tls and self._tls is not None:
            client.tls_set_context(self._tls)
        if transport == "websockets":
            client.ws_set_options(path=path or "/")
        client.reconnect_delay_set(_RECONNECT_PERIOD_S, _RECONNECT_PERIOD_S)
        self._set_will(client, self.status())
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        with self._lock:
            self._mqtt = client
        client.connect_async(host, port, keepalive=_KEEPALIVE_S)
        client.loop_start()

    # --- MQTT callbacks (paho's network thread) ----------------------------------------------

    def _topics(self) -> List[str]:
        # The schema first: its retained copy then usually comes before the config that needs it.
        # The candidate last: a targeted instance then usually applies the stable version first.
        schema = [] if self.schema_topic is None else [self.schema_topic]
        return schema + [self.config_topic, self.candidate_topic]

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: int) -> None:
        try:
            self._connected(client, rc)
        except Exception:  # noqa: BLE001 - paho would stop its network loop on an exception
            self._log.exception("Handling the connection to the broker failed")

    def _connected(self, client: mqtt.Client, rc: int) -> None:
        if rc != 0:
            self._log.error("MQTT broker %s refused the connection: %s", _safe_url(self._options.mqtt_url), mqtt.connack_string(rc))
            with self._lock:
                if not self._ever_connected:
                    self._finish_initial("unreachable")
            return
        with self._lock:
            topics = self._topics()
            self._log.info(
                "%s to MQTT broker %s; subscribing to %s",
                "Reconnected" if self._ever_connected else "Connected",
                _safe_url(self._options.mqtt_url),
                " and ".join(topics),
            )
            self._ever_connected = True
            result, _ = client.subscribe([(topic, 1) for topic in topics])
            if result != mqtt.MQTT_ERR_SUCCESS:
                self._log.error("Subscribing to %s failed (%s)", " and ".join(topics), mqtt.error_string(result))
            # A reconnect follows our will (offline) or a broker restart: say where we are again.
            if self._phase == "running":
                self._publish_health()

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, granted: Any) -> None:
        for qos in granted or ():
            if qos == _SUBACK_FAILURE:
                self._log.error("The broker refused a subscription of %s. Check the broker ACL for this client.", self.service)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, rc: int) -> None:
        with self._lock:
            if not self._ever_connected:
                self._finish_initial("unreachable")
            if self._phase == "running" and rc != 0:
                self._log.warning(
                    "MQTT broker %s unreachable: runs continue on version %d; reconnecting",
                    _safe_url(self._options.mqtt_url),
                    (self._staged or self._active).version,
                )

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        with self._lock:
            if not self._ever_connected:
                self._finish_initial("unreachable")

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            with self._lock:
                if self._phase in ("stopped", "new"):
                    return
                self._dispatch(message.topic, bytes(message.payload))
        except Exception:  # noqa: BLE001 - paho would drop the connection on an exception
            self._log.exception("Handling a message on %s failed", message.topic)

    # --- verdicts (called with the lock held) -------------------------------------------------

    def _topic_service(self, topic: str, parse: Callable[[str], Optional[str]]) -> Optional[str]:
        prefix = self._topic_prefix
        return parse(topic[len(prefix):]) if topic.startswith(prefix) else None

    def _dispatch(self, topic: str, data: bytes) -> None:
        if self.schema_topic is not None and topic == self.schema_topic:
            self._on_schema_message(topic, data)
        elif topic == self.candidate_topic:
            self._on_candidate_message(topic, data)
        else:
            self._on_config_message(topic, data)

    def _on_config_message(self, topic: str, data: bytes) -> None:
        applied = self._applied
        verdict = self._verifier.verify(
            data,
            self._topic_service(topic, parse_config_topic),
            applied.version if applied else 0,
            self._signed_schemas,
            applied.rollout.stable_version if applied is not None and applied.rollout is not None else None,
        )
        self._on_verdict(verdict, topic, data)

    def _on_candidate_message(self, topic: str, data: bytes) -> None:
        verdict = self._verifier.verify_candidate(
            data,
            self._topic_service(topic, parse_candidate_topic),
            self._applied.version if self._applied else 0,
            self.instance_id,
            self._signed_schemas,
        )
        self._on_verdict(verdict, topic, data)

    def _on_verdict(self, verdict: Any, topic: str, data: bytes) -> None:
        if verdict.kind == "accepted":
            self._accept(verdict, data, "broker")
        elif verdict.kind == "duplicate":
            self._duplicates += 1
            self._attest(verdict, topic, data)
            if not self._confirmed and self._applied is not None and self._applied.version == verdict.version:
                self._confirmed = True
                self._log.info("The broker confirms %s config version %d (the last-known-good one)", self.service, verdict.version)
                self._publish_health()
            self._finish_initial("config")
        elif verdict.kind == "pending":
            self._hold(_Held(topic, data, verdict.version, verdict.schema_hash))
        elif verdict.kind == "archived":
            self._on_archived(verdict.version, verdict.issued_at)
        elif verdict.kind == "behind-candidate":
            # Not a replay: the stable version this instance's candidate is rolled out from.
            self._log.debug(
                "Ignoring %s config version %d on %s: this instance runs the candidate %d of rollout %s, which replaces it",
                self.service,
                verdict.version,
                topic,
                self._applied.version if self._applied else 0,
                self._applied.rollout.id if self._applied is not None and self._applied.rollout is not None else "(none)",
            )
        elif verdict.kind == "not-targeted":
            self._log.debug(
                "Ignoring candidate version %d of rollout %s: its cohort does not name %s",
                verdict.version,
                verdict.rollout_id,
                self.instance_id,
            )
        elif verdict.kind == "no-candidate":
            pass
        else:
            self._reject(verdict, topic)

    def _on_schema_message(self, topic: str, data: bytes) -> None:
        verdict = self._verifier.verify_schema(data, self._topic_service(topic, parse_schema_topic))
        if verdict.kind == "rejected":
            self._reject_schema(verdict, topic)
            return
        self._learn_schema(verdict.schema, "broker")
        held = self._held
        if held is not None and held.schema_hash == verdict.schema.schema_hash:
            self._held = None
            # All rules again, against what the client has now (a newer version may have come).
            self._dispatch(held.topic, held.data)

    def _hold(self, held: _Held) -> None:
        if self._held is not None and self._held.version > held.version:
            return  # only the newest waits
        self._held = held
        self._log.info(
            "Holding %s config version %d until the signed schema it was built for (%s) arrives on %s; still on version %d",
            self.service,
            held.version,
            held.schema_hash,
            self.schema_topic,
            (self._staged or self._active).version,
        )
        self._emit("pending", {"version": held.version, "schemaHash": held.schema_hash})

    def _learn_schema(self, schema: SignedSchema, source: str) -> None:
        if self._signed_schemas is None or not self._signed_schemas.add(schema):
            return
        self._log.info(
            "Verified the signed %s schema version %d (%s, from %s)", self.service, schema.schema_version, schema.schema_hash, source
        )
        # Until a config is applied, runs get the newest signed schema's defaults rather than nothing.
        if self._applied is None and schema.schema_version > self._defaults_schema_version:
            self._defaults_schema_version = schema.schema_version
            self._defaults = _defaults_of(schema.definition)
            self._staged = self._defaults
        self._emit(
            "schemaAccepted",
            {
                "schemaVersion": schema.schema_version,
                "schemaHash": schema.schema_hash,
                "secretPaths": list(schema.definition.secret_paths),
                "source": source,
            },
        )

    def _reject_schema(self, verdict: SchemaRejected, topic: str) -> None:
        # Logged and emitted, not counted: health counts config messages.
        waiting = (
            ""
            if self._held is None
            else f" Config version {self._held.version} still waits for schema {self._held.schema_hash}."
        )
        shown = "" if verdict.schema_version is None else f", schema version {verdict.schema_version}"
        self._log.warning(
            "Refused a schema message on %s (%s%s): %s. No config is validated with it.%s",
            topic,
            verdict.reason,
            shown,
            verdict.detail,
            waiting,
        )
        event: Dict[str, Any] = {"reason": verdict.reason, "detail": verdict.detail, "at": iso_now(self._clock)}
        if verdict.schema_version is not None:
            event["schemaVersion"] = verdict.schema_version
        self._emit("schemaRejected", event)

    def _on_archived(self, version: int, issued_at: Optional[str]) -> None:
        if self._archived_version != version:
            self._archived_version = version
            self._log.warning(
                "The manager archived %s (its last version is %d): no new versions will come. Runs continue on "
                "version %d; retire this worker or have the service restored.",
                self.service,
                version,
                (self._staged or self._active).version,
            )
            event: Dict[str, Any] = {"version": version, "at": iso_now(self._clock)}
            if issued_at is not None:
                event["issuedAt"] = issued_at
            self._emit("archived", event)
        self._finish_initial("archived")

    def _attest(self, verdict: Any, topic: str, data: bytes) -> None:
        """A duplicate from the topic the applied version came from, issued later than the last
        attestation, is a heartbeat: the manager still stands by this version. Nothing is
        re-applied; the last-known-good file is rewritten with it, so a restart knows how fresh it
        was. A copy on the config topic of the candidate this instance runs is the rollout's
        completion: from then on the version counts as the config topic's (the Node SDK's rule)."""
        applied = self._applied
        issued = parse_iso(verdict.issued_at)
        if applied is None or applied.version != verdict.version or issued is None:
            return
        from_candidate = topic == self.candidate_topic
        if from_candidate and applied.rollout is None:
            return  # a candidate copy of a version taken from the config topic: not its source
        completed = not from_candidate and applied.rollout is not None
        if completed:
            self._complete_rollout(applied)
        at = min(issued, self._clock())
        if completed or self._attested_at is None or at > self._attested_at:
            self._attested_at = at if self._attested_at is None else max(at, self._attested_at)
            self._log.debug(
                "%s config version %d attested at %s (%s)", self.service, verdict.version, iso_of(self._attested_at), topic
            )
        elif not self._lkg_outdated:
            return
        # A restarted worker then knows how fresh it was; an older SDK's file becomes format 3.
        self._persist(data, self._applied_schema_bytes)
        if self._reported_stale != self._is_stale() and self._phase == "running":
            self._publish_health()

    def _complete_rollout(self, applied: _State) -> None:
        # The candidate this instance runs is now the stable version: it forgets the rollout.
        stable = dataclasses.replace(applied, rollout=None)
        self._applied = stable
        if self._staged is applied:
            self._staged = stable
        if self._active is applied:
            self._active = stable
        self._log.info(
            "%s config version %d (the candidate of rollout %s) is now on the config topic: the rollout completed",
            self.service,
            applied.version,
            applied.rollout.id if applied.rollout is not None else "(none)",
        )

    def _is_stale(self) -> bool:
        if self._max_staleness_s == 0 or self._phase in ("new", "stopped"):
            return False
        since = self._attested_at if self._attested_at is not None else self._started_at
        return self._clock() - since > self._max_staleness_s

    def _note_staleness(self, stale: bool) -> None:
        # Once per change: what to check when stale, and that it is over.
        if stale == self._reported_stale:
            return
        self._reported_stale = stale
        event: Dict[str, Any] = {"stale": stale}
        if self._attested_at is not None:
            event["attestedAt"] = iso_of(self._attested_at)
        event["at"] = iso_now(self._clock)
        self._emit("freshness", event)
        if stale:
            since = (
                f"its version {self._applied.version} was last attested at {iso_of(self._attested_at)}"
                if self._applied is not None and self._attested_at is not None
                else f"nothing was applied since start at {iso_of(self._started_at)}"
            )
            self._log.warning(
                "%s/%s is stale: %s, more than CONFIG_MAX_STALENESS (%d s) ago. Runs continue on version %d. Check the "
                "broker connection and its ACL for %s, and that the manager is up, its heartbeat "
                "(CONFIG_HEARTBEAT_SECONDS) on, and its clock right.",
                self.service,
                self.instance_id,
                since,
                self._max_staleness_s,
                (self._staged or self._active).version,
                self.config_topic,
            )
        else:
            self._log.info(
                "%s/%s is fresh again (attested at %s)",
                self.service,
                self.instance_id,
                "(never)" if self._attested_at is None else iso_of(self._attested_at),
            )

    def _start_staleness_thread(self) -> None:
        if self._max_staleness_s == 0 or self._staleness_thread is not None:
            return
        thread = threading.Thread(target=self._watch_staleness, name=f"config-client-staleness-{self.service}", daemon=True)
        self._staleness_thread = thread
        thread.start()

    def _watch_staleness(self) -> None:
        while not self._staleness_stop.wait(_STALENESS_CHECK_S):
            try:
                self.check_staleness()
            except Exception:  # noqa: BLE001 - the watch must go on
                self._log.exception("Checking the staleness of %s failed", self.service)

    def _accept(self, verdict: Accepted, data: bytes, source: str) -> None:
        if self._held is not None and self._held.version <= verdict.version:
            self._held = None  # superseded: it would only be stale later
        # A new version is as fresh as its issuedAt (never past now); the saved one as when it was
        # signed, which an attestation from the broker then brings up to date.
        issued = parse_iso(verdict.payload.issued_at)
        if issued is not None:
            self._attested_at = min(issued, self._clock())
        else:
            self._attested_at = self._clock() if source == "broker" else None
        self._applied_schema_bytes = verdict.signed_schema.envelope_bytes if verdict.signed_schema else None
        definition = verdict.signed_schema.definition if verdict.signed_schema else self._definition
        state = _State(
            version=verdict.version,
            config=deep_freeze(verdict.config),
            schema_drift=verdict.schema_drift,
            source=source,
            secret_paths=tuple(definition.secret_paths) if definition is not None else (),
            rollout=verdict.rollout,
        )
        self._applied = state
        self._staged = state
        rollout = verdict.rollout
        if source == "broker":
            self._confirmed = True
            self._accepted += 1
            if rollout is None:
                self._log.info("Accepted %s config version %d; staged for the next run", self.service, verdict.version)
            else:
                self._log.info(
                    "Accepted %s candidate version %d of rollout %s (step %d, from stable version %d); staged for the next run",
                    self.service,
                    verdict.version,
                    rollout.id,
                    rollout.step,
                    rollout.stable_version,
                )
            self._persist(data, verdict.signed_schema.envelope_bytes if verdict.signed_schema else None)
        if verdict.schema_drift:
            self._log.warning(
                "%s config version %d was built for schema %s, this worker has %s (schemaDrift): deploy matching "
                "versions of the manager and this worker",
                self.service,
                verdict.version,
                verdict.payload.schema_hash or "(none)",
                self._definition.schema_hash if self._definition else "(none)",
            )
        self._publish_health()
        event: Dict[str, Any] = {"version": verdict.version, "schemaDrift": verdict.schema_drift, "source": source}
        if rollout is not None:
            event["rollout"] = rollout.as_json()
        self._emit("accepted", event)
        if source == "broker":
            self._finish_initial("config")

    def _reject(self, verdict: Rejected, topic: str) -> None:
        at = iso_now(self._clock)
        self._rejected[verdict.reason] += 1
        self._last_rejection = (
            {"reason": verdict.reason, "at": at}
            if verdict.version is None
            else {"version": verdict.version, "reason": verdict.reason, "at": at}
        )
        shown = "" if verdict.version is None else f", version {verdict.version}"
        self._log.warning(
            "Rejected a config message on %s (%s%s): %s. Still on version %d.",
            topic,
            verdict.reason,
            shown,
            verdict.detail,
            (self._staged or self._active).version,
        )
        self._publish_health()
        event: Dict[str, Any] = {"reason": verdict.reason, "detail": verdict.detail, "at": at}
        if verdict.version is not None:
            event["version"] = verdict.version
        self._emit("rejected", event)
        self._finish_initial("rejected")

    def _persist(self, data: bytes, schema_bytes: Optional[bytes]) -> None:
        try:
            self._store.save(data, self.service, schema_bytes)
            self._lkg_outdated = False
        except OSError as error:
            self._log.error(
                "Could not write the last-known-good file %s: %s. The worker keeps running, but a restart without "
                "the broker would fall back further.",
                self._store.path,
                error.strerror or error.__class__.__name__,
            )

    def _set_will(self, client: mqtt.Client, status: Dict[str, Any]) -> None:
        offline = dict(status, status="offline")
        client.will_set(self.health_topic, json.dumps(offline, ensure_ascii=False, separators=(",", ":")), qos=1, retain=True)

    def _cancel_runs_timer(self) -> None:
        if self._runs_timer is not None:
            self._runs_timer.cancel()
            self._runs_timer = None

    def _publish_health_soon(self) -> None:
        # Within _RUN_HEALTH_INTERVAL_S of the last status (any status carries the counts so far).
        # After stop() nothing is published any more (a run may still end while the client stops).
        if self._runs_timer is not None or self._phase == "stopped":
            return
        wait = self._last_health_at + _RUN_HEALTH_INTERVAL_S - time.monotonic()
        if wait <= 0:
            self._publish_health()
            return
        timer = threading.Timer(wait, self._flush_runs)
        timer.daemon = True
        self._runs_timer = timer
        timer.start()

    def _flush_runs(self) -> None:
        with self._lock:
            if self._runs_timer is None or self._phase == "stopped":
                return
            self._runs_timer = None
            self._publish_health()

    def _publish_health(self) -> None:
        self._cancel_runs_timer()
        self._last_health_at = time.monotonic()
        status = self.status()
        if self._phase != "starting":
            self._note_staleness(status["stale"])
        client = self._mqtt
        if client is not None:
            # The broker reads the will at CONNECT: keep it current for the next reconnection.
            self._set_will(client, status)
            if client.is_connected() and self._phase != "stopped":
                client.publish(self.health_topic, json.dumps(status, ensure_ascii=False, separators=(",", ":")), qos=1, retain=True)
        if status["status"] != self._last_status_value and self._phase != "starting":
            self._last_status_value = status["status"]
            self._log.info("Status %s (applied version %d)", status["status"], status["appliedVersion"])
        self._emit("status", status)

    def _emit(self, event: str, payload: dict) -> None:
        for listener in list(self._listeners.get(event, [])):
            try:
                listener(payload)
            except Exception as error:  # noqa: BLE001 - a listener must not break the client
                self._log.error('A "%s" listener of the config client raised: %s', event, error)

    def _finish_initial(self, outcome: str) -> None:
        if self._initial_outcome is None:
            self._initial_outcome = outcome
        self._initial.set()

    def _log_start_outcome(self, outcome: str) -> None:
        waiting = (
            ""
            if self._held is None
            else f"; version {self._held.version} waits for its signed schema {self._held.schema_hash}"
        )
        why = {
            "config": "the broker delivered it",
            "rejected": "the broker sent a config that was rejected",
            "archived": "the manager archived the service",
            "timeout": f"nothing valid arrived within {int(self._initial_timeout_s * 1000)} ms{waiting}",
            "unreachable": f"the broker {_safe_url(self._options.mqtt_url)} is unreachable",
            "stopped": "stopped",
        }[outcome]
        nxt = self._staged or self._active
        if self._status_value() == "online":
            self._log.info("Running on %s config version %d (%s)", self.service, nxt.version, why)
        elif nxt.source == "lkg":
            self._log.warning(
                "Running degraded on the last-known-good %s config version %d (%s); a valid config from the broker "
                "will replace it",
                self.service,
                nxt.version,
                why,
            )
        else:
            self._log.warning(
                "Running degraded on the %s schema defaults (%s, no usable last-known-good file); a valid config "
                "from the broker will replace them",
                self.service,
                why,
            )

    def _status_value(self) -> str:
        if self._phase == "stopped":
            return "offline"
        return "online" if self._applied is not None and self._confirmed else "degraded"

    def _snapshot(self, state: _State) -> ConfigSnapshot:
        return ConfigSnapshot(
            version=state.version,
            config=state.config,
            schema_drift=state.schema_drift,
            source=state.source,
            secret_paths=state.secret_paths,
            taken_at=iso_now(self._clock),
        )


def _defaults_of(definition: Optional[ServiceDefinition]) -> _State:
    # What a run gets before any version: the schema's defaults (secrets at their defaults), or
    # nothing for a client whose schema is the signed one and has not arrived yet.
    if definition is None:
        return _State(0, deep_freeze({}), False, "defaults", ())
    config = definition.defaults()
    for path, value in definition.secret_defaults().items():
        set_at_path(config, path, value)
    return _State(0, deep_freeze(config), False, "defaults", tuple(definition.secret_paths))


def _parse_broker_url(url: str) -> tuple:
    """(transport, tls, host, port, path, username, password) of an MQTT URL."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname
        port = parts.port
    except ValueError:
        raise ConfigClientError("mqtt_url must be an mqtt://, mqtts://, ws:// or wss:// URL", "mqtt_url") from None
    if scheme not in _SCHEMES or not host:
        raise ConfigClientError("mqtt_url must be an mqtt://, mqtts://, ws:// or wss:// URL", "mqtt_url")
    transport, tls, default_port = _SCHEMES[scheme]
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return transport, tls, host, port or default_port, parts.path, username, password
