#!/usr/bin/python3
"""A worker for any service registered on config-manager, in a dozen lines of the client.

It names no schema, so every config is validated with the service's signed schema from
system/schema/<service> (set SERVICE_SCHEMA_FILE to bring one). Environment: the client's
(SERVICE_NAME, MQTT_URL, CONFIG_TRUSTED_KEYS, CONFIG_SECRET_KEY, INSTANCE_ID, INSTANCE_LABELS,
LKG_HMAC_KEY, …; see README.md) plus RUN_EVERY_MS (default 1000). Each run prints its version,
its config without secrets, and a short digest of each secret (never the value); ``client.run()``
reports how it ended in health (a rollout bakes on it):

    run on version 4: {"batch_size":80,"gateway":{"url":"https://pay.example"}} (gateway.token=sha256:1f2e3d4c5b6a)

Run: SERVICE_NAME=billing-worker MQTT_URL=mqtt://127.0.0.1:1884 … /usr/bin/python3 example_worker.py
"""

import hashlib
import json
import logging
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from config_client import ConfigClient, ConfigEnvironmentError, options_from_env  # noqa: E402


def describe_secrets(run) -> str:
    """Each secret path as a short digest of its value, or unset."""
    parts = []
    for path in run.secret_paths:
        value = run.secret(path)
        digest = "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:12] if value else "unset"
        parts.append(f"{path}={digest}")
    return " ".join(parts) or "no secrets"


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    every = os.environ.get("RUN_EVERY_MS", "1000")
    try:
        if not every.isdigit() or int(every) <= 0:
            raise ConfigEnvironmentError(["RUN_EVERY_MS must be a positive integer of milliseconds"])
        client = ConfigClient(options_from_env())
    except ConfigEnvironmentError as error:
        print(error, file=sys.stderr)
        return 2
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    client.start()
    while not stopping.is_set():
        # One snapshot per run: the config never changes during it; leaving the block ends the run.
        with client.run() as run:
            config = json.dumps(run.redacted(), ensure_ascii=False, separators=(",", ":"))
            print(f"run on version {run.version}: {config} ({describe_secrets(run)})")
        stopping.wait(int(every) / 1000)
    client.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
