"""MQTT topics of the contract (libs/contracts/src/topics.ts)."""

from __future__ import annotations

import re
from typing import Optional

SERVICE_NAME_PATTERN = re.compile(r"[a-z][a-z0-9-]{1,62}")
INSTANCE_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
TOPIC_PREFIX_PATTERN = re.compile(r"([A-Za-z0-9._-]+/)*")


def _checked(value: str, pattern: "re.Pattern[str]", what: str, shown: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"invalid {what} {value!r}: must match {shown}")
    return value


def config_topic(service: str) -> str:
    """``system/config/<service>``: the signed configuration, retained."""
    return "system/config/" + _checked(service, SERVICE_NAME_PATTERN, "service name", "^[a-z][a-z0-9-]{1,62}$")


def schema_topic(service: str) -> str:
    """``system/schema/<service>``: the signed JSON Schema, retained."""
    return "system/schema/" + _checked(service, SERVICE_NAME_PATTERN, "service name", "^[a-z][a-z0-9-]{1,62}$")


def candidate_topic(service: str) -> str:
    """``system/candidate/<service>``: a rollout's signed candidate, retained."""
    return "system/candidate/" + _checked(service, SERVICE_NAME_PATTERN, "service name", "^[a-z][a-z0-9-]{1,62}$")


def health_topic(service: str, instance_id: str) -> str:
    """``system/health/<service>/<instanceId>``: the instance status, retained."""
    service = _checked(service, SERVICE_NAME_PATTERN, "service name", "^[a-z][a-z0-9-]{1,62}$")
    instance = _checked(instance_id, INSTANCE_ID_PATTERN, "instance id", "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
    return f"system/health/{service}/{instance}"


def _service_of(topic: str, kind: str) -> Optional[str]:
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] != "system" or parts[1] != kind:
        return None
    return parts[2] if SERVICE_NAME_PATTERN.fullmatch(parts[2]) else None


def parse_config_topic(topic: str) -> Optional[str]:
    """The service of a ``system/config/<service>`` topic, or None for any other topic."""
    return _service_of(topic, "config")


def parse_schema_topic(topic: str) -> Optional[str]:
    """The service of a ``system/schema/<service>`` topic, or None for any other topic."""
    return _service_of(topic, "schema")


def parse_candidate_topic(topic: str) -> Optional[str]:
    """The service of a ``system/candidate/<service>`` topic, or None for any other topic."""
    return _service_of(topic, "candidate")
