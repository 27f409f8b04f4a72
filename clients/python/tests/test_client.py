"""ConfigClient against a real mosquitto: verdicts, stage/swap, health, last-known-good, reconnects."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import tempfile
import time
import unittest
import warnings

from support import (
    SERVICE,
    Mosquitto,
    Probe,
    Signer,
    WorkerProcess,
    candidate_payload,
    config_payload,
    keys,
    until,
    vector_schema,
)
from vectors import b64

from config_client import ClientOptions, ConfigClient, ConfigClientError, ServiceDefinition
from config_client.secrets import seal_secret

CONFIG_TOPIC = f"system/config/{SERVICE}"
CANDIDATE_TOPIC = f"system/candidate/{SERVICE}"
SCHEMA_TOPIC = f"system/schema/{SERVICE}"
HMAC_KEY = bytes(range(32))


class ClientTestCase(unittest.TestCase):
    """A mosquitto, a health probe, a log capture and a client factory per test (no tests of its own)."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.keys = keys()
        cls.signer = Signer(cls.keys["signing"])
        cls.forger = Signer(cls.keys["untrusted"])
        cls.schema = vector_schema()
        cls.definition = ServiceDefinition(SERVICE, cls.schema)

    def setUp(self) -> None:
        # paho 1.6 leaves the socket of a refused TLS handshake to the garbage collector.
        warnings.filterwarnings("ignore", message="unclosed <ssl.SSLSocket", category=ResourceWarning)
        self.broker = Mosquitto()
        self.dir = tempfile.mkdtemp(prefix="py-client-")
        self.probe = Probe(self.broker.port, ["system/health/#"])
        self.clients: list = []
        self.logs: list = []
        self.logger = logging.getLogger(f"config_client.test.{self.id()}")
        self.logger.propagate = False
        self.logger.setLevel(logging.INFO)
        handler = logging.Handler()
        handler.emit = lambda record: self.logs.append(record.getMessage())
        self.logger.addHandler(handler)

    def tearDown(self) -> None:
        for client in self.clients:
            client.stop()
        self.probe.close()
        self.broker.destroy()
        shutil.rmtree(self.dir, ignore_errors=True)

    def sut(self, instance: str = "py-1", own_schema: bool = True, **overrides) -> ConfigClient:
        options = ClientOptions(
            service=SERVICE,
            instance_id=instance,
            mqtt_url=self.broker.url,
            trusted_keys={self.keys["signing"]["kid"]: b64(self.keys["signing"]["publicKey"])},
            lkg_path=os.path.join(self.dir, f"{instance}.lkg.json"),
            lkg_hmac_key=HMAC_KEY,
            schema=self.schema if own_schema else None,
            secret_key=b64(self.keys["recipient"]["secretKey"]),
            initial_config_timeout_ms=3000,
            logger=self.logger,
        )
        for key, value in overrides.items():
            setattr(options, key, value)
        client = ConfigClient(options)
        self.clients.append(client)
        return client

    def publish_config(self, version: int, config: dict, signer: Signer = None, **extra) -> bytes:
        envelope = (signer or self.signer).envelope(config_payload(version, config, self.definition.schema_hash, **extra))
        self.probe.publish(CONFIG_TOPIC, envelope)
        return envelope

    def publish_candidate(self, version: int, config: dict, instances: list, stable_version: int) -> bytes:
        payload = candidate_payload(version, config, self.definition.schema_hash, instances, stable_version)
        envelope = self.signer.envelope(payload)
        self.probe.publish(CANDIDATE_TOPIC, envelope)
        return envelope


class ConfigClientTest(ClientTestCase):
    def test_applies_the_retained_config_and_reports_it_on_its_health_topic(self) -> None:
        self.publish_config(1, {"batch_size": 120, "mode": "fast"})
        sut = self.sut().start()
        run = sut.begin_run()
        self.assertEqual((run.version, run.source), (1, "broker"))
        self.assertEqual(run.config["batch_size"], 120)
        self.assertEqual(run.config["label"], "main")  # a default, filled in
        with self.assertRaises(TypeError):
            run.config["batch_size"] = 1  # a run's config never changes
        health = self.probe.health("py-1", lambda h: h["lastRunVersion"] == 1)
        self.assertEqual(
            {k: health[k] for k in ("service", "instanceId", "status", "appliedVersion", "stagedVersion", "source", "schemaDrift")},
            {
                "service": SERVICE,
                "instanceId": "py-1",
                "status": "online",
                "appliedVersion": 1,
                "stagedVersion": 1,
                "source": "broker",
                "schemaDrift": False,
            },
        )
        self.assertNotIn("lastRejection", health)
        self.assertEqual(sorted(health["rejections"]), sorted(["oversized", "malformed", "unsupported-alg", "unknown-key", "signature", "service", "stale", "expired", "schema", "secret"]))

    def test_stages_a_candidate_naming_it_and_ignores_the_stable_version_behind_it(self) -> None:
        self.publish_config(2, {"batch_size": 20})
        self.publish_candidate(3, {"batch_size": 30}, ["py-9", "py-1"], 2)
        sut = self.sut()
        accepted = []
        sut.on("accepted", accepted.append)
        sut.start()
        until("the candidate applied", lambda: sut.status()["appliedVersion"] == 3)
        self.assertEqual(accepted[-1]["rollout"], {"id": "r-py", "step": 1, "stableVersion": 2})
        self.assertEqual(sut.begin_run().config["batch_size"], 30)
        # The stable topic's retained version 2 again (a reconnect), then a replay of version 1.
        self.publish_config(2, {"batch_size": 20})
        self.publish_config(1, {"batch_size": 10})
        health = self.probe.health("py-1", lambda h: "lastRejection" in h)
        self.assertEqual((health["lastRejection"]["reason"], health["lastRejection"]["version"]), ("stale", 1))
        self.assertEqual(sum(sut.stats()["rejected"].values()), 1)
        self.assertTrue(any("Accepted vector-worker candidate version 3 of rollout r-py" in line for line in self.logs))

    def test_leaves_a_candidate_for_other_instances_alone(self) -> None:
        self.logger.setLevel(logging.DEBUG)
        self.publish_config(1, {"batch_size": 10})
        sut = self.sut().start()
        statuses = []
        sut.on("status", statuses.append)
        self.publish_candidate(2, {"batch_size": 20}, ["py-2"], 1)
        self.publish_config(3, {"batch_size": 30})  # applied once the candidate was handled
        until("version 3 applied", lambda: sut.status()["appliedVersion"] == 3)
        self.assertEqual([status["appliedVersion"] for status in statuses], [3])
        self.assertEqual(sum(sut.stats()["rejected"].values()), 0)
        self.assertIn("Ignoring candidate version 2 of rollout r-py: its cohort does not name py-1", self.logs)

    def test_refuses_a_candidate_that_names_it_but_breaks_the_schema_with_its_version(self) -> None:
        self.publish_config(1, {"batch_size": 10})
        sut = self.sut().start()
        self.publish_candidate(2, {"batch_size": 501}, ["py-1"], 1)
        health = self.probe.health("py-1", lambda h: "lastRejection" in h)
        self.assertEqual((health["lastRejection"]["reason"], health["lastRejection"]["version"]), ("schema", 2))
        self.assertEqual(sut.begin_run().version, 1)

    def test_a_cleared_candidate_topic_and_a_candidate_on_the_stable_topic(self) -> None:
        self.publish_config(1, {"batch_size": 10})
        sut = self.sut().start()
        self.probe.publish(CANDIDATE_TOPIC, b"")  # cleared: no candidate, not a rejection
        # A genuine candidate replayed on the stable topic would reach every instance: refused.
        payload = candidate_payload(2, {"batch_size": 20}, self.definition.schema_hash, ["py-2"], 1)
        self.probe.publish(CONFIG_TOPIC, self.signer.envelope(payload))
        health = self.probe.health("py-1", lambda h: "lastRejection" in h)
        self.assertEqual((health["lastRejection"]["reason"], health["lastRejection"]["version"]), ("service", 2))
        self.assertEqual(sum(sut.stats()["rejected"].values()), 1)

    def test_restarts_on_a_saved_candidate_for_itself_only(self) -> None:
        self.publish_config(1, {"batch_size": 10})
        self.publish_candidate(2, {"batch_size": 20}, ["py-1"], 1)
        first = self.sut().start()
        until("the candidate applied", lambda: first.status()["appliedVersion"] == 2)
        first.stop()
        # Both topics still hold what they held: 1 is behind the candidate, 2 a duplicate.
        again = self.sut().start()
        until("online on the candidate", lambda: again.status()["status"] == "online")
        self.assertEqual((again.status()["appliedVersion"], sum(again.stats()["rejected"].values())), (2, 0))
        again.stop()
        # Under another instance id the saved candidate is not used (format 3 names its instance).
        os.replace(os.path.join(self.dir, "py-1.lkg.json"), os.path.join(self.dir, "py-2.lkg.json"))
        self.broker.stop()
        other = self.sut(instance="py-2", initial_config_timeout_ms=300).start()
        self.assertEqual(other.begin_run().source, "defaults")
        self.assertTrue(any("was saved by another instance (py-1), not py-2" in line for line in self.logs))

    def test_reports_labels_and_how_runs_end(self) -> None:
        self.publish_config(1, {"batch_size": 10})
        sut = self.sut(labels={"region": "eu-west", "tier": "canary"}).start()
        online = self.probe.health("py-1", lambda h: h["status"] == "online")
        self.assertEqual(online["labels"], {"region": "eu-west", "tier": "canary"})
        self.assertNotIn("runs", online)
        with sut.run():
            pass
        health = self.probe.health("py-1", lambda h: "runs" in h)
        self.assertEqual(health["runs"], {"version": 1, "completed": 1, "failed": 0})
        self.assertEqual((health["lastRun"]["version"], health["lastRun"]["ok"]), (1, True))
        with self.assertRaises(RuntimeError):
            with sut.run():
                raise RuntimeError("the batch could not be read")
        health = self.probe.health("py-1", lambda h: h.get("runs", {}).get("failed") == 1)
        self.assertEqual((health["runs"]["completed"], health["lastRun"]["ok"]), (1, False))
        self.assertTrue(any("A run on vector-worker config version 1 failed (1 of 2 on it)" in line for line in self.logs))
        run = sut.begin_run()
        sut.end_run(run, ok=True)
        for wrong in (lambda: sut.end_run(run, ok=True), lambda: sut.end_run(sut.current(), ok=True)):
            with self.assertRaises(ConfigClientError):
                wrong()
        with self.assertRaises(ConfigClientError) as caught:
            sut.end_run(sut.begin_run(), ok="yes")
        self.assertEqual(caught.exception.option, "ok")
        self.assertEqual(sut.status()["runs"], {"version": 1, "completed": 2, "failed": 1})

    def test_publishes_routine_successes_at_most_once_a_second(self) -> None:
        self.publish_config(1, {"batch_size": 10})
        sut = self.sut().start()
        with sut.run():
            pass
        statuses = []
        sut.on("status", statuses.append)
        run = sut.begin_run()
        started = time.monotonic()
        sut.end_run(run, ok=True)
        self.assertEqual([status["runs"]["completed"] for status in statuses], [1])  # the run start only
        self.probe.health("py-1", lambda h: h.get("runs", {}).get("completed") == 2, timeout=3)
        self.assertGreaterEqual(time.monotonic() - started, 0.9)

    def test_a_new_version_waits_for_the_next_run(self) -> None:
        self.publish_config(1, {"batch_size": 10})
        sut = self.sut().start()
        during = sut.begin_run()
        self.publish_config(2, {"batch_size": 20})
        until("version 2 staged", lambda: sut.status()["stagedVersion"] == 2)
        self.assertEqual((during.version, during.config["batch_size"]), (1, 10))
        self.assertEqual(sut.current().version, 1)
        self.assertEqual(sut.status()["appliedVersion"], 2)
        with sut.run() as nxt:
            self.assertEqual((nxt.version, nxt.config["batch_size"]), (2, 20))
        self.assertEqual(self.probe.health("py-1", lambda h: h["lastRunVersion"] == 2)["stagedVersion"], 2)

    def test_a_forged_envelope_is_rejected_as_signature_and_changes_nothing(self) -> None:
        self.publish_config(1, {"batch_size": 10})
        sut = self.sut().start()
        sut.begin_run()
        # Signed by a key the worker does not trust, under the trusted key's id.
        self.publish_config(7, {"batch_size": 499}, signer=self.forger)  # an unknown kid
        self.probe.publish(CONFIG_TOPIC, self.forger.envelope(config_payload(7, {"batch_size": 499}, "x"), kid=self.signer.kid))
        health = self.probe.health("py-1", lambda h: h.get("lastRejection", {}).get("reason") == "signature")
        self.assertNotIn("version", health["lastRejection"])  # an unverified version means nothing
        self.assertEqual(health["appliedVersion"], 1)
        self.assertEqual(health["rejections"]["unknown-key"], 1)
        self.assertEqual(health["rejections"]["signature"], 1)
        self.assertEqual(sut.begin_run().config["batch_size"], 10)

    def test_a_signed_but_invalid_config_is_rejected_as_schema_with_its_version(self) -> None:
        self.publish_config(1, {"batch_size": 10})
        sut = self.sut().start()
        self.publish_config(2, {"batch_size": 501})
        health = self.probe.health("py-1", lambda h: "lastRejection" in h)
        self.assertEqual((health["lastRejection"]["reason"], health["lastRejection"]["version"]), ("schema", 2))
        self.assertEqual(sut.stats()["rejected"]["schema"], 1)
        self.assertEqual(sut.begin_run().version, 1)

    def test_a_restarted_worker_refuses_a_replay_older_than_its_last_known_good_version(self) -> None:
        old = self.publish_config(1, {"batch_size": 10})
        first = self.sut().start()
        self.publish_config(2, {"batch_size": 20})
        until("version 2 applied", lambda: first.status()["appliedVersion"] == 2)
        first.stop()
        # Someone with write access to the broker replays the genuine, older version 1.
        self.probe.publish(CONFIG_TOPIC, old)
        second = self.sut().start()
        run = second.begin_run()
        self.assertEqual((run.version, run.source, run.config["batch_size"]), (2, "lkg", 20))
        status = second.status()
        self.assertEqual((status["lastRejection"]["reason"], status["lastRejection"]["version"]), ("stale", 1))
        self.assertEqual(status["status"], "degraded")  # the broker never confirmed version 2

    def test_starts_from_last_known_good_with_the_broker_down_and_goes_online_once_it_returns(self) -> None:
        self.publish_config(3, {"batch_size": 30})
        first = self.sut().start()
        first.stop()
        self.probe.close()
        self.broker.stop()
        sut = self.sut(initial_config_timeout_ms=2000).start()
        run = sut.begin_run()
        self.assertEqual((run.version, run.source, sut.status()["status"]), (3, "lkg", "degraded"))
        self.broker.start()  # no persistence: the retained config is gone; the manager republishes it
        self.probe = Probe(self.broker.port, ["system/health/#"])
        self.publish_config(3, {"batch_size": 30})
        health = self.probe.health("py-1", lambda h: h["status"] == "online", timeout=15)
        self.assertEqual((health["appliedVersion"], health["source"]), (3, "lkg"))
        self.assertEqual(sut.stats()["duplicates"], 1)

    def test_reconnects_and_subscribes_again_after_the_broker_restarts(self) -> None:
        self.publish_config(1, {"batch_size": 10})
        sut = self.sut().start()
        self.probe.close()
        self.broker.stop()
        until("the client sees the broker go", lambda: any("unreachable" in line for line in self.logs))
        self.assertEqual(sut.begin_run().version, 1)  # runs go on meanwhile
        self.broker.start()
        self.probe = Probe(self.broker.port, ["system/health/#"])
        # Its health again after the reconnect (the broker lost the retained one).
        self.probe.health("py-1", lambda h: h["appliedVersion"] == 1 and h["status"] == "online", timeout=15)
        self.publish_config(2, {"batch_size": 20})
        until("version 2 after the reconnect", lambda: sut.status()["appliedVersion"] == 2, timeout=15)
        self.assertEqual(sut.begin_run().config["batch_size"], 20)
        self.assertTrue(any(line.startswith("Reconnected to MQTT broker") for line in self.logs))

    def test_a_tampered_last_known_good_file_is_ignored(self) -> None:
        self.publish_config(1, {"batch_size": 10})
        first = self.sut().start()
        first.stop()
        path = os.path.join(self.dir, "py-1.lkg.json")
        with open(path) as handle:
            record = json.load(handle)
        self.assertEqual(oct(os.stat(path).st_mode & 0o777), "0o600")
        record["savedAt"] = "2020-01-01T00:00:00.000Z"
        record["hmac"] = "A" * 43 + "="
        with open(path, "w") as handle:
            json.dump(record, handle)
        self.broker.stop()
        sut = self.sut(initial_config_timeout_ms=500).start()
        run = sut.begin_run()
        self.assertEqual((run.version, run.source), (0, "defaults"))
        self.assertEqual(run.config["batch_size"], 50)

    def test_opens_sealed_secrets_and_never_writes_them_in_clear(self) -> None:
        secret = "sk-live-never-in-clear"
        sealed = seal_secret(secret.encode(), b64(self.keys["recipient"]["publicKey"]), os.urandom(32), os.urandom(24))
        self.publish_config(1, {"batch_size": 10}, secrets={"api.key": sealed})
        sut = self.sut().start()
        run = sut.begin_run()
        self.assertEqual(run.secret("api.key"), secret)
        self.assertNotIn("key", run.redacted()["api"])
        with open(os.path.join(self.dir, "py-1.lkg.json")) as handle:
            self.assertNotIn(secret, handle.read())
        sut.stop()
        self.assertTrue(any("Accepted vector-worker config version 1" in line for line in self.logs))
        self.assertFalse([line for line in self.logs if secret in line])
        self.assertNotIn(secret.encode(), b"".join(payload for _, payload, _ in self.probe.messages))

    def test_without_a_schema_of_its_own_a_config_waits_for_its_signed_schema(self) -> None:
        self.publish_config(1, {"batch_size": 10})
        sut = self.sut(own_schema=False, initial_config_timeout_ms=500).start()
        self.assertEqual(sut.begin_run().version, 0)  # nothing to validate it with yet
        schema_payload = {
            "service": SERVICE,
            "schemaVersion": 1,
            "schemaHash": self.definition.schema_hash,
            "schema": self.schema,
            "issuedAt": "2026-11-21T20:00:00.000Z",
        }
        self.probe.publish(SCHEMA_TOPIC, self.signer.envelope(schema_payload))
        until("the held config applied", lambda: sut.status()["appliedVersion"] == 1)
        run = sut.begin_run()
        self.assertEqual((run.version, run.config["batch_size"], run.secret_paths), (1, 10, ("api.key",)))
        sut.stop()
        # Its last-known-good file holds the signed schema too: a restart needs no broker.
        self.broker.stop()
        again = self.sut(own_schema=False, initial_config_timeout_ms=500).start()
        self.assertEqual((again.begin_run().version, again.current().source), (1, "lkg"))

    def test_an_unsigned_schema_is_never_used(self) -> None:
        self.publish_config(1, {"batch_size": 10})
        sut = self.sut(own_schema=False, initial_config_timeout_ms=500).start()
        refused = []
        sut.on("schemaRejected", refused.append)
        forged = {"service": SERVICE, "schemaVersion": 9, "schemaHash": self.definition.schema_hash, "schema": self.schema}
        self.probe.publish(SCHEMA_TOPIC, self.forger.envelope(forged, kid=self.signer.kid))
        until("the forged schema refused", lambda: refused)
        self.assertEqual(refused[0]["reason"], "signature")
        self.assertEqual(sut.status()["appliedVersion"], 0)

    def test_the_last_will_says_offline_when_the_worker_dies(self) -> None:
        self.publish_config(1, {"batch_size": 10})
        worker = WorkerProcess(
            {
                "SERVICE_NAME": SERVICE,
                "SERVICE_SCHEMA_FILE": self._schema_file(),
                "MQTT_URL": self.broker.url,
                "INSTANCE_ID": "py-will",
                "CONFIG_TRUSTED_KEYS": f"{self.signer.kid}:{self.signer.public_key}",
                "CONFIG_SECRET_KEY": self.keys["recipient"]["secretKey"],
                "LKG_HMAC_KEY": "c2VjcmV0LWhtYWMta2V5LTMyLWJ5dGVzLWxvbmctISE=",
                "DATA_DIR": self.dir,
                "RUN_EVERY_MS": "50",
            }
        )
        try:
            worker.wait_for_line(lambda l: l.startswith("run on version 1: "), "run on version 1")
            self.probe.health("py-will", lambda h: h["status"] == "online")
            worker.stop(signal.SIGKILL)
            will = self.probe.health("py-will", lambda h: h["status"] == "offline", timeout=10)
            # The broker fixed the will at CONNECT, before the retained version 1 arrived.
            self.assertEqual((will["instanceId"], will["appliedVersion"], will["source"]), ("py-will", 0, "defaults"))
        finally:
            worker.stop()

    def test_connects_over_tls_with_a_private_ca_and_never_without_it(self) -> None:
        broker = Mosquitto(tls=True)
        try:
            self.sut(mqtt_url=broker.url, mqtt_ca_file=broker.ca_file, initial_config_timeout_ms=300).start()
            until("connected over TLS", lambda: any(l.startswith("Connected to MQTT broker mqtts://localhost") for l in self.logs))
            # Without the private CA the server certificate is refused: no connection at all.
            untrusting = self.sut(instance="py-2", mqtt_url=broker.url, initial_config_timeout_ms=2000).start()
            self.assertTrue(any("is unreachable" in line for line in self.logs))
            self.assertEqual(len([l for l in self.logs if l.startswith("Connected to MQTT broker")]), 1)
            self.assertEqual((untrusting.status()["status"], untrusting.status()["source"]), ("degraded", "defaults"))
        finally:
            for client in self.clients:
                client.stop()
            self.clients.clear()
            broker.destroy()

    def test_refuses_bad_options_by_name(self) -> None:
        with self.assertRaises(ConfigClientError) as caught:
            self.sut(instance="bad/instance")
        self.assertEqual(caught.exception.option, "instance_id")
        with self.assertRaises(ConfigClientError) as caught:
            self.sut(lkg_hmac_key=b"short")
        self.assertEqual(caught.exception.option, "lkg_hmac_key")
        with self.assertRaises(ConfigClientError) as caught:
            self.sut(schema={"type": "object", "properties": {"a": {"type": "string", "format": "email"}}})
        self.assertEqual(caught.exception.option, "schema")
        self.assertIn("format", str(caught.exception))
        with self.assertRaises(ConfigClientError) as caught:
            self.sut(labels={"Region": "eu"})
        self.assertEqual(caught.exception.option, "labels")

    def _schema_file(self) -> str:
        path = os.path.join(self.dir, "schema.json")
        with open(path, "w") as handle:
            json.dump(self.schema, handle)
        return path


if __name__ == "__main__":
    unittest.main()
