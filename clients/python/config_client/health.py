"""The instance status payload on ``system/health/<service>/<instanceId>`` (instance-status.ts).

Retained, QoS 1, published at start, at every run start, on every verdict and reconnect; the
last will is the same payload with ``status: "offline"``. Its fields, in order::

    { "service", "instanceId",
      "status": "online" | "degraded" | "offline",
      "appliedVersion": <newest accepted version, 0 when none>,
      "stagedVersion": <the version the next run takes, 0 for the schema defaults>,
      "lastRunVersion": <the version the last run used, null before the first run>,
      "lastRejection": { "version"?: <only when the signature verified>, "reason", "at" },  (once one happened)
      "schemaDrift": <the applied version was built for another schema than this worker's>,
      "source": "broker" | "lkg" | "defaults",
      "rejections": { "<reason>": <count since start>, … every reason },
      "labels": { "<key>": "<value>", … }  (INSTANCE_LABELS; {} without labels),
      "runs": { "version", "completed", "failed" }  (runs finished on the version of the last one; once one ended),
      "lastRun": { "version", "ok", "at" }  (the last finished run; once one ended),
      "stale": <no attestation (or nothing applied) for longer than CONFIG_MAX_STALENESS>,
      "attestedAt": "<ISO time: the issuedAt, capped at now, of the running version's newest
                     authentic copy>"  (once there is one),
      "at": "<ISO time>" }
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from .envelope import REJECTION_REASONS

STATUSES = ("online", "degraded", "offline")
SOURCES = ("broker", "lkg", "defaults")


def zero_counts() -> Dict[str, int]:
    """A rejection counter for every reason, at 0."""
    return {reason: 0 for reason in REJECTION_REASONS}


def instance_status(
    *,
    service: str,
    instance_id: str,
    status: str,
    applied_version: int,
    staged_version: int,
    last_run_version: Optional[int],
    last_rejection: Optional[Dict[str, Any]],
    schema_drift: bool,
    source: str,
    rejections: Dict[str, int],
    at: str,
    stale: bool = False,
    attested_at: Optional[str] = None,
    labels: Optional[Dict[str, str]] = None,
    runs: Optional[Dict[str, int]] = None,
    last_run: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """The health payload, with its keys in the Node SDK's order."""
    payload: Dict[str, Any] = {
        "service": service,
        "instanceId": instance_id,
        "status": status,
        "appliedVersion": applied_version,
        "stagedVersion": staged_version,
        "lastRunVersion": last_run_version,
    }
    if last_rejection is not None:
        payload["lastRejection"] = dict(last_rejection)
    payload["schemaDrift"] = schema_drift
    payload["source"] = source
    payload["rejections"] = {reason: rejections.get(reason, 0) for reason in REJECTION_REASONS}
    payload["labels"] = dict(labels or {})
    if runs is not None:
        payload["runs"] = {"version": runs["version"], "completed": runs["completed"], "failed": runs["failed"]}
    if last_run is not None:
        payload["lastRun"] = {"version": last_run["version"], "ok": last_run["ok"], "at": last_run["at"]}
    payload["stale"] = stale
    if attested_at is not None:
        payload["attestedAt"] = attested_at
    payload["at"] = at
    return payload
