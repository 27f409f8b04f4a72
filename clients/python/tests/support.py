"""Test plumbing: a mosquitto of the test's own, an MQTT probe, a signer, waiting helpers.

Real parts only: the broker is a real mosquitto process on a free loopback port (it can be
stopped and started again on the same port), the envelopes are signed with real Ed25519 keys
(the shared test vectors' keys), the last-known-good files are real files.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from typing import Any, Callable, List, Optional, Tuple

import nacl.signing
import paho.mqtt.client as mqtt

from vectors import CLIENT_ROOT, b64, load

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
SERVICE = "vector-worker"
ISSUED_AT = "2026-11-21T20:00:00.000Z"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def until(what: str, check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """The first truthy value of ``check()``, polled every 20 ms; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.02)


class Mosquitto:
    """A mosquitto process on a free port: open, no persistence; stop() and start() keep the port.

    With ``tls=True`` it listens with a certificate for ``localhost`` signed by a CA of its own
    (``ca_file``), made with the openssl command line.
    """

    def __init__(self, tls: bool = False) -> None:
        if not os.path.exists(MOSQUITTO):
            raise AssertionError("mosquitto is not installed (apt-get install mosquitto): the client tests need a real broker")
        self.dir = tempfile.mkdtemp(prefix="py-mosquitto-")
        self.port = free_port()
        self.tls = tls
        self.config = os.path.join(self.dir, "mosquitto.conf")
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true", "persistence false"]
        if tls:
            self.ca_file = self._certificates()
            lines += [f"cafile {self.ca_file}", f"certfile {self.dir}/server.pem", f"keyfile {self.dir}/server.key"]
        with open(self.config, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        self.process: Optional[subprocess.Popen] = None
        self.start()

    def _certificates(self) -> str:
        def openssl(*args: str) -> None:
            subprocess.run(["openssl", *args], cwd=self.dir, check=True, capture_output=True)

        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
                "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr")
        with open(os.path.join(self.dir, "san.ext"), "w") as handle:
            handle.write("subjectAltName=DNS:localhost\n")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", "san.ext", "-out", "server.pem")  # fmt: skip
        # mosquitto started as root reads its files as the user "mosquitto": throwaway test keys.
        os.chmod(self.dir, 0o755)
        for name in ("server.key", "server.pem", "ca.pem"):
            os.chmod(os.path.join(self.dir, name), 0o644)
        return os.path.join(self.dir, "ca.pem")

    @property
    def url(self) -> str:
        return f"mqtts://localhost:{self.port}" if self.tls else f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", self.config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        until("mosquitto listening", self._accepts, 10)

    def _accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Probe:
    """A plain MQTT client recording every message of its filters (raw bytes included)."""

    def __init__(self, url_port: int, filters: List[str]) -> None:
        self.messages: List[Tuple[str, bytes, bool]] = []
        self._changed = threading.Condition()
        self.client = mqtt.Client(client_id=f"probe-{os.getpid()}-{time.monotonic_ns()}", clean_session=True)
        self.client.on_message = self._on_message
        connected = threading.Event()
        self.client.on_connect = lambda *_: (self.client.subscribe([(f, 1) for f in filters]) if filters else None, connected.set())
        self.client.connect("127.0.0.1", url_port)
        self.client.loop_start()
        if not connected.wait(5):
            raise AssertionError("probe could not connect")

    def _on_message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._changed:
            self.messages.append((message.topic, bytes(message.payload), bool(message.retain)))
            self._changed.notify_all()

    def wait_for(self, what: str, match: Callable[[str, bytes], bool], timeout: float = 10.0) -> bytes:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for topic, payload, _ in self.messages:
                    if match(topic, payload):
                        return payload
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = ", ".join(t for t, _, _ in self.messages) or "nothing"
                    raise AssertionError(f"no {what} within {timeout} s; got {seen}")
                self._changed.wait(left)

    def health(self, instance: str, match: Callable[[dict], bool], timeout: float = 10.0) -> dict:
        topic = f"system/health/{SERVICE}/{instance}"

        def matches(t: str, payload: bytes) -> bool:
            return t == topic and bool(payload) and match(json.loads(payload))

        return json.loads(self.wait_for(f"health of {instance}", matches, timeout))

    def publish(self, topic: str, payload: bytes, retain: bool = True) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Signer:
    """Signs payloads as the manager does: Ed25519 over the payload's exact JSON bytes."""

    def __init__(self, key: dict) -> None:
        self.kid = key["kid"]
        self.public_key = key["publicKey"]
        self._key = nacl.signing.SigningKey(b64(key["secretKey"])[:32])

    def envelope(self, payload: Any, kid: Optional[str] = None) -> bytes:
        data = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
        signature = self._key.sign(data).signature
        return json.dumps(
            {
                "alg": "Ed25519",
                "kid": kid or self.kid,
                "payload": base64.b64encode(data).decode(),
                "sig": base64.b64encode(signature).decode(),
            },
            separators=(",", ":"),
        ).encode()


def keys() -> dict:
    return load("keys.json")


def vector_schema() -> dict:
    return load("config-envelopes.json")["schema"]


def config_payload(version: int, config: dict, schema_hash: str, secrets: Optional[dict] = None) -> dict:
    payload = {"service": SERVICE, "version": version, "issuedAt": ISSUED_AT, "schemaHash": schema_hash, "config": config}
    if secrets is not None:
        payload["secrets"] = secrets
    return payload


def candidate_payload(version: int, config: dict, schema_hash: str, instances: List[str], stable_version: int) -> dict:
    """A rollout's candidate: a config payload plus the cohort it is for (system/candidate/<service>)."""
    payload = config_payload(version, config, schema_hash)
    payload["rollout"] = {"id": "r-py", "step": 1, "stableVersion": stable_version, "instances": instances}
    return payload


EXAMPLE_WORKER = str(CLIENT_ROOT / "example_worker.py")
PYTHON = "/usr/bin/python3"


class WorkerProcess:
    """The example worker as its own process, its output lines collected."""

    def __init__(self, env: dict) -> None:
        self.lines: List[str] = []
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            [PYTHON, EXAMPLE_WORKER],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for_line(self, match: Callable[[str], bool], what: str, timeout: float = 15.0, after: int = 0) -> str:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines[after:]:
                    if match(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"worker printed no {what}; output:\n" + "\n".join(self.lines))
                self._changed.wait(left)

    def stop(self, sig: int = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(15)
        self._reader.join(5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code
