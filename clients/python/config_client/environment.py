"""The worker's environment, read once at start (libs/config-client's config-client.environment.ts).

Every variable is checked, and one :class:`ConfigEnvironmentError` names every bad one at once
("Invalid environment variables:" and one line per problem); no message ever holds a key or a
password. Variables (the Node SDK's names and rules):

- ``SERVICE_NAME`` (required): the service as registered on config-manager.
- ``SERVICE_SCHEMA_FILE``: the service's JSON Schema; unset, the worker validates each config
  with the schema the manager signs and publishes on ``system/schema/<service>``.
- ``MQTT_URL`` (required): ``mqtt://host:1883``, ``mqtts://…``, ``ws://…``, ``wss://…``.
- ``MQTT_USERNAME``, ``MQTT_PASSWORD``, ``MQTT_CA_FILE`` (must exist), ``MQTT_TOPIC_PREFIX``.
- ``INSTANCE_ID``: default ``<hostname>-<pid>``; a topic segment.
- ``INSTANCE_LABELS``: ``key=value,…`` (``region=eu,tier=canary``), reported in every status;
  rollouts select cohorts by them (keys ``^[a-z][a-z0-9_.-]{0,62}$``, values
  ``^[A-Za-z0-9_.:-]{0,63}$``, at most 16).
- ``CONFIG_TRUSTED_KEYS`` (required): ``kid:base64Ed25519PublicKey,…`` (GET /api/keys).
- ``CONFIG_SECRET_KEY``: the service's X25519 secret key (32 bytes, base64); without it a
  config that carries secrets is rejected.
- ``CONFIG_SECRET_KEYS_PREVIOUS``: ``base64,…`` earlier X25519 secret keys, tried when a secret
  does not open with CONFIG_SECRET_KEY (the overlap of a rotation; needs CONFIG_SECRET_KEY).
- ``LKG_HMAC_KEY`` (required): at least 16 random bytes, base64.
- ``LKG_HMAC_KEYS_PREVIOUS``: ``base64,…`` earlier LKG keys (each at least 16 bytes): a file that
  checks only under one is used and rewritten under LKG_HMAC_KEY at once.
- ``CONFIG_MAX_STALENESS``: seconds without an attestation after which the worker reports itself
  stale (default 300; 0 turns it off).
- ``LKG_PATH``: default ``DATA_DIR/<service>.<instance>.lkg.json``; ``DATA_DIR`` default ``./data``.
- ``INITIAL_CONFIG_TIMEOUT_MS``: 0 to 600000 (default 3000).

Unlike the Node SDK, keys are never read from config-manager's ``DATA_DIR/dev-keys.json``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
from typing import Any, Dict, List, Mapping, Optional

from .client import DEFAULT_MAX_STALENESS_S, ClientOptions
from .jsvalue import decode_utf8, parse_json
from .keys import KeyError_, decode_base64_key, decode_strict_base64, parse_key_list
from .labels import parse_instance_labels
from .lkg import MIN_LKG_HMAC_KEY_BYTES
from .service_schema import MAX_SCHEMA_BYTES, check_service_schema
from .topics import INSTANCE_ID_PATTERN, SERVICE_NAME_PATTERN, TOPIC_PREFIX_PATTERN

_MQTT_URL = re.compile(r"(mqtt|mqtts|ws|wss|tcp|ssl)://\S+", re.IGNORECASE)
_INTEGER = re.compile(r"-?[0-9]+")
_MAX_INSTANCE_ID_LENGTH = 128
_MAX_SCHEMA_PROBLEMS = 5
# A year: staleness is about minutes; a larger number is a unit mistake (milliseconds?).
_MAX_STALENESS_S = 365 * 24 * 3600


class ConfigEnvironmentError(Exception):
    """The environment cannot make the client's options; ``problems`` lists each, by variable."""

    def __init__(self, problems: List[str]) -> None:
        unique = list(dict.fromkeys(problems))
        super().__init__("Invalid environment variables:\n  - " + "\n  - ".join(unique))
        self.problems = unique


def default_instance_id(host: Optional[str] = None, pid: Optional[int] = None) -> str:
    """``<hostname>-<pid>`` reduced to what an instance id may hold."""
    suffix = f"-{os.getpid() if pid is None else pid}"
    cleaned = re.sub(r"[^A-Za-z0-9._:-]", "-", socket.gethostname() if host is None else host)
    cleaned = re.sub(r"^[^A-Za-z0-9]+", "", cleaned)[: _MAX_INSTANCE_ID_LENGTH - len(suffix)]
    return f"{cleaned or 'worker'}{suffix}"


def options_from_env(
    env: Optional[Mapping[str, str]] = None,
    service: Optional[str] = None,
    schema: Optional[dict] = None,
    logger: Optional[logging.Logger] = None,
) -> ClientOptions:
    """Client options from the environment (``os.environ`` by default); raises one
    ConfigEnvironmentError naming every bad variable. ``service``/``schema``: what the worker's
    code knows (SERVICE_NAME must then agree; SERVICE_SCHEMA_FILE must then be unset)."""
    env = os.environ if env is None else env
    problems: List[str] = []
    log = logger or logging.getLogger("config_client")

    def text(name: str, trim: bool = True) -> Optional[str]:
        raw = env.get(name)
        if raw is not None and trim:
            raw = raw.strip()
        return raw if raw else None

    data_dir = os.path.abspath(text("DATA_DIR") or "./data")

    service_name = text("SERVICE_NAME") or service
    if service_name is None:
        problems.append("SERVICE_NAME is required (the service as registered on config-manager)")
    elif service is not None and service_name != service:
        problems.append(f"SERVICE_NAME is {json.dumps(service_name)}, but this worker is {service}")
        service_name = None
    elif not SERVICE_NAME_PATTERN.fullmatch(service_name):
        problems.append(
            f"SERVICE_NAME {json.dumps(service_name)} must match ^[a-z][a-z0-9-]{{1,62}}$ (it is an MQTT topic segment)"
        )
        service_name = None

    schema_document = schema
    schema_file = text("SERVICE_SCHEMA_FILE")
    if schema_file is not None:
        if schema is not None:
            problems.append("SERVICE_SCHEMA_FILE is set, but this worker brings its own schema: unset it")
        else:
            schema_document = _read_schema_file(schema_file, service_name, problems)

    mqtt_url = text("MQTT_URL")
    if mqtt_url is None:
        problems.append("MQTT_URL is required (mqtt://host:1883, mqtts://…, ws://…, wss://…)")
    elif not _MQTT_URL.fullmatch(mqtt_url):
        problems.append("MQTT_URL must be an mqtt://, mqtts://, ws:// or wss:// URL")
        mqtt_url = None

    mqtt_username = text("MQTT_USERNAME", trim=False)
    mqtt_password = text("MQTT_PASSWORD", trim=False)
    ca_file = text("MQTT_CA_FILE")
    if ca_file is not None:
        ca_file = os.path.abspath(ca_file)
        if not os.path.exists(ca_file):
            problems.append(f"MQTT_CA_FILE {env.get('MQTT_CA_FILE', '').strip()} does not exist")
    prefix = text("MQTT_TOPIC_PREFIX") or ""
    if not TOPIC_PREFIX_PATTERN.fullmatch(prefix):
        problems.append('MQTT_TOPIC_PREFIX must be empty or segments ending in "/", like "tenant-a/"')

    instance_id = text("INSTANCE_ID")
    if instance_id is None:
        instance_id = default_instance_id()
    elif not INSTANCE_ID_PATTERN.fullmatch(instance_id):
        problems.append("INSTANCE_ID must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$ (it is an MQTT topic segment)")
        instance_id = default_instance_id()

    labels: Dict[str, str] = {}
    labels_text = text("INSTANCE_LABELS")
    if labels_text is not None:
        labels, label_problems = parse_instance_labels(labels_text)
        problems.extend(label_problems)

    trusted: Dict[str, bytes] = {}
    trusted_text = text("CONFIG_TRUSTED_KEYS")
    if trusted_text is None:
        problems.append("CONFIG_TRUSTED_KEYS is required (kid:base64Ed25519PublicKey,…; GET /api/keys lists them)")
    else:
        try:
            trusted = dict(parse_key_list(trusted_text, 32, "CONFIG_TRUSTED_KEYS"))
            if not trusted:
                problems.append("CONFIG_TRUSTED_KEYS must list at least one kid:base64Ed25519PublicKey")
        except KeyError_ as error:
            problems.append(str(error))

    secret_key: Optional[bytes] = None
    secret_text = text("CONFIG_SECRET_KEY")
    if secret_text is not None:
        try:
            secret_key = decode_base64_key(secret_text, 32, "CONFIG_SECRET_KEY")
        except KeyError_ as error:
            problems.append(str(error))

    previous_secret_keys = _key_list(text("CONFIG_SECRET_KEYS_PREVIOUS"), "CONFIG_SECRET_KEYS_PREVIOUS", 32, 32, problems)
    if previous_secret_keys and secret_text is None:
        problems.append("CONFIG_SECRET_KEYS_PREVIOUS is set without CONFIG_SECRET_KEY: previous keys only overlap the current one")

    hmac_key: Optional[bytes] = None
    hmac_text = text("LKG_HMAC_KEY")
    if hmac_text is None:
        problems.append(
            f"LKG_HMAC_KEY is required (at least {MIN_LKG_HMAC_KEY_BYTES} random bytes, base64: openssl rand -base64 32)"
        )
    else:
        hmac_key = decode_strict_base64(hmac_text)
        if hmac_key is None:
            problems.append("LKG_HMAC_KEY is not valid base64")
        elif len(hmac_key) < MIN_LKG_HMAC_KEY_BYTES:
            problems.append(f"LKG_HMAC_KEY must decode to at least {MIN_LKG_HMAC_KEY_BYTES} bytes (got {len(hmac_key)})")
            hmac_key = None

    previous_hmac_keys = _key_list(
        text("LKG_HMAC_KEYS_PREVIOUS"), "LKG_HMAC_KEYS_PREVIOUS", MIN_LKG_HMAC_KEY_BYTES, None, problems
    )

    max_staleness = DEFAULT_MAX_STALENESS_S
    staleness_text = text("CONFIG_MAX_STALENESS")
    if staleness_text is not None:
        if _INTEGER.fullmatch(staleness_text) and 0 <= int(staleness_text) <= _MAX_STALENESS_S:
            max_staleness = int(staleness_text)
        else:
            problems.append(
                f"CONFIG_MAX_STALENESS must be a whole number of seconds from 0 (off) to {_MAX_STALENESS_S} "
                f'(got "{staleness_text}")'
            )

    timeout = 3000
    timeout_text = text("INITIAL_CONFIG_TIMEOUT_MS")
    if timeout_text is not None:
        if _INTEGER.fullmatch(timeout_text) and 0 <= int(timeout_text) <= 600000:
            timeout = int(timeout_text)
        else:
            problems.append(f'INITIAL_CONFIG_TIMEOUT_MS must be an integer from 0 to 600000 (got "{timeout_text}")')

    lkg_path = text("LKG_PATH")
    lkg_path = (
        os.path.abspath(lkg_path)
        if lkg_path is not None
        else os.path.join(data_dir, f"{service_name or 'unknown'}.{instance_id}.lkg.json")
    )

    if problems:
        raise ConfigEnvironmentError(problems)
    if secret_key is None and schema_document is not None:
        check = check_service_schema(service_name, "", schema_document)
        if check.ok and check.definition.secret_paths:
            log.warning(
                "CONFIG_SECRET_KEY is not set: any %s config that carries secrets will be rejected. Set it to the "
                "service's X25519 secret key.",
                service_name,
            )
    return ClientOptions(
        service=service_name,
        instance_id=instance_id,
        labels=labels,
        mqtt_url=mqtt_url,
        trusted_keys=trusted,
        lkg_path=lkg_path,
        lkg_hmac_key=hmac_key,
        schema=schema_document,
        secret_key=secret_key,
        previous_secret_keys=tuple(previous_secret_keys),
        lkg_hmac_keys_previous=tuple(previous_hmac_keys),
        max_staleness_s=max_staleness,
        mqtt_username=mqtt_username,
        mqtt_password=mqtt_password,
        mqtt_ca_file=ca_file,
        topic_prefix=prefix,
        initial_config_timeout_ms=timeout,
        logger=logger,
    )


def _key_list(raw: Optional[str], name: str, min_bytes: int, exact_bytes: Optional[int], problems: List[str]) -> List[bytes]:
    """``base64,base64,…`` (blank items skipped); each bad item is a problem naming its position."""
    keys: List[bytes] = []
    if raw is None:
        return keys
    for index, item in enumerate(raw.split(",")):
        item = item.strip()
        if item == "":
            continue
        key = decode_strict_base64(item)
        where = f"{name} item {index + 1}"
        if key is None:
            problems.append(f"{where} is not valid base64")
        elif exact_bytes is not None and len(key) != exact_bytes:
            problems.append(f"{where} must decode to {exact_bytes} bytes (got {len(key)})")
        elif len(key) < min_bytes:
            problems.append(f"{where} must decode to at least {min_bytes} bytes (got {len(key)})")
        else:
            keys.append(key)
    return keys


def _read_schema_file(raw: str, service: Optional[str], problems: List[str]) -> Optional[Dict[str, Any]]:
    path = os.path.abspath(raw)
    try:
        size = os.stat(path).st_size
        if size > 4 * MAX_SCHEMA_BYTES:
            problems.append(f"SERVICE_SCHEMA_FILE {raw} is {size} bytes, too large for a service schema")
            return None
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        code = getattr(error, "errno", None)
        name = {2: "ENOENT", 13: "EACCES", 21: "EISDIR"}.get(code, "unknown error")
        problems.append(f"SERVICE_SCHEMA_FILE {raw} cannot be read ({name})")
        return None
    text = decode_utf8(data)
    try:
        document = parse_json(text) if text is not None else None
    except ValueError:
        document = None
    if document is None:
        problems.append(f"SERVICE_SCHEMA_FILE {raw} is not JSON")
        return None
    if service is None:
        return None  # SERVICE_NAME's own problem is reported; the schema is checked once it is known
    check = check_service_schema(service, "", document)
    if not check.ok:
        shown = "; ".join(p.message for p in check.problems[:_MAX_SCHEMA_PROBLEMS])
        more = len(check.problems) - _MAX_SCHEMA_PROBLEMS
        problems.append(
            f"SERVICE_SCHEMA_FILE {raw} is not a usable JSON Schema: {shown}" + (f" (and {more} more)" if more > 0 else "")
        )
        return None
    return document
