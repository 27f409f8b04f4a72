"""Freshness and key overlap (docs/recovery.md) against a real mosquitto, with a clock the test moves:
rule 4a (expired), attestations, staleness, last-known-good format 3 and its key rotation, and
previous X25519 secret keys."""

from __future__ import annotations

import base64
import json
import os
import threading
import unittest

import nacl.public
from support import SERVICE, until
from test_client import CANDIDATE_TOPIC, CONFIG_TOPIC, HMAC_KEY, SCHEMA_TOPIC, ClientTestCase
from test_lkg import older_file
from vectors import b64

from config_client.lkg import LastKnownGoodStore
from config_client.secrets import seal_secret
from config_client.times import iso_of, parse_iso

T0 = parse_iso("2026-12-01T20:00:00.000Z")
MINUTE = 60.0
OLD_HMAC_KEY = b"previous-lkg-key-16+"


class FakeClock:
    """The time the client sees: starts at T0 and moves only when the test says so."""

    def __init__(self, now: float = T0) -> None:
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


def lkg_payload_of(path: str) -> dict:
    """The signed payload inside a last-known-good file (as a reader sees it once it verified)."""
    with open(path) as handle:
        record = json.load(handle)
    envelope = json.loads(base64.b64decode(record["envelope"]))
    return dict(json.loads(base64.b64decode(envelope["payload"])), _file=record)


class FreshnessTest(ClientTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.clock = FakeClock()

    def sut(self, instance: str = "py-1", own_schema: bool = True, **overrides):
        overrides.setdefault("clock", self.clock)
        return super().sut(instance, own_schema, **overrides)

    def envelope(self, version: int, issued: float, expires: object = None, rollout: dict = None, **extra) -> bytes:
        payload = {
            "service": SERVICE,
            "version": version,
            "issuedAt": iso_of(issued),
            "schemaHash": self.definition.schema_hash,
            "config": {"batch_size": version * 10},
            **extra,
        }
        if expires is not None:
            payload["expiresAt"] = iso_of(expires) if isinstance(expires, float) else expires
        if rollout is not None:
            payload["rollout"] = rollout
        return self.signer.envelope(payload)

    def publish(self, version: int, issued: float, expires: object = None, topic: str = CONFIG_TOPIC, **extra) -> bytes:
        data = self.envelope(version, issued, expires, **extra)
        self.probe.publish(topic, data)
        return data

    def lkg_path(self, instance: str = "py-1") -> str:
        return os.path.join(self.dir, f"{instance}.lkg.json")

    # --- rule 4a ------------------------------------------------------------------------------

    def test_with_nothing_applied_an_expired_payload_is_refused_with_its_version(self) -> None:
        self.publish(1, T0 - 8 * 24 * 3600, T0 - 6 * MINUTE)
        sut = self.sut().start()
        health = self.probe.health("py-1", lambda h: "lastRejection" in h)
        self.assertEqual((health["lastRejection"]["reason"], health["lastRejection"]["version"]), ("expired", 1))
        self.assertEqual((health["rejections"]["expired"], health["appliedVersion"], health["status"]), (1, 0, "degraded"))
        self.assertTrue(any("(expired, version 1)" in line and "expired at 2026-12-01T19:54:00.000Z" in line for line in self.logs))
        # A fresh version is taken; once one runs, a newer one is taken whatever its expiresAt.
        self.publish(2, T0, T0 + 7 * 24 * 3600)
        until("version 2 applied", lambda: sut.status()["appliedVersion"] == 2)
        self.publish(3, T0 - 30 * 24 * 3600, T0 - 23 * 24 * 3600)
        until("version 3 applied", lambda: sut.status()["appliedVersion"] == 3)
        self.assertEqual(sut.stats()["rejected"]["expired"], 1)

    def test_the_skew_allowance_a_missing_expiry_and_a_malformed_one(self) -> None:
        # Expired 4 minutes ago is within the 5 minutes of clock skew allowed.
        self.publish(1, T0 - 7 * 24 * 3600, T0 - 4 * MINUTE)
        self.assertEqual(self.sut("py-1").start().status()["appliedVersion"], 1)
        # Without expiresAt (a manager before it) a payload never expires.
        self.publish(2, T0 - 365 * 24 * 3600)
        self.assertEqual(self.sut("py-2").start().status()["appliedVersion"], 2)
        # Not an ISO 8601 string: malformed, with the version (whatever the applied version is).
        for instance, expires in (("py-3", "next tuesday"), ("py-4", 1796155200), ("py-5", "2026-12-01T20:00:00")):
            with self.subTest(expires=expires):
                self.publish(3, T0, expires)
                sut = self.sut(instance).start()
                health = self.probe.health(instance, lambda h: "lastRejection" in h)
                self.assertEqual((health["lastRejection"]["reason"], health["lastRejection"]["version"]), ("malformed", 3))
                self.assertEqual(sut.status()["appliedVersion"], 0)

    def test_the_last_known_good_file_is_used_however_old_its_expiry(self) -> None:
        self.publish(1, T0, T0 + 7 * 24 * 3600)
        first = self.sut().start()
        self.assertEqual(first.status()["appliedVersion"], 1)
        first.stop()
        self.clock.advance(30 * 24 * 3600)  # a month later, the broker down
        self.broker.stop()
        again = self.sut(initial_config_timeout_ms=300).start()
        run = again.begin_run()
        self.assertEqual((run.version, run.source), (1, "lkg"))
        self.assertEqual(again.status()["attestedAt"], "2026-12-01T20:00:00.000Z")  # the saved envelope's issuedAt
        self.assertTrue(again.status()["stale"])

    # --- attestations -------------------------------------------------------------------------

    def test_a_heartbeat_of_the_running_version_attests_it_and_rewrites_the_lkg_file(self) -> None:
        self.publish(1, T0 - 10, T0 + 7 * 24 * 3600)
        sut = self.sut().start()
        self.assertEqual(sut.status()["attestedAt"], "2026-12-01T19:59:50.000Z")
        self.clock.advance(MINUTE)
        heartbeat = self.publish(1, T0 + 50, T0 + 50 + 7 * 24 * 3600)
        until("attested", lambda: sut.status()["attestedAt"] == "2026-12-01T20:00:50.000Z")
        self.assertEqual(lkg_payload_of(self.lkg_path())["issuedAt"], "2026-12-01T20:00:50.000Z")
        with open(self.lkg_path(), "rb") as handle:
            self.assertIn(base64.b64encode(heartbeat), handle.read())
        # An older copy does not move it back; one issued in the future counts only up to now.
        self.publish(1, T0 + 20)
        self.publish(1, T0 + 3600)
        until("capped at now", lambda: sut.status()["attestedAt"] == "2026-12-01T20:01:00.000Z")
        self.assertEqual(sut.stats(), {"accepted": 1, "duplicates": 3, "rejected": sut.stats()["rejected"]})
        self.assertEqual(sum(sut.stats()["rejected"].values()), 0)
        self.assertEqual(sut.begin_run().version, 1)
        self.assertEqual(self.probe.health("py-1", lambda h: h["lastRunVersion"] == 1)["attestedAt"], "2026-12-01T20:01:00.000Z")

    def test_only_the_topic_the_running_version_came_from_attests_it(self) -> None:
        self.publish(1, T0 - 10)
        rollout = {"id": "r-py", "step": 1, "stableVersion": 1, "instances": ["py-1"]}
        self.publish(2, T0 - 5, topic=CANDIDATE_TOPIC, rollout=rollout)
        sut = self.sut().start()
        until("the candidate applied", lambda: sut.status()["appliedVersion"] == 2)
        self.assertEqual(sut.status()["attestedAt"], "2026-12-01T19:59:55.000Z")
        self.clock.advance(MINUTE)
        # The candidate re-signed (the next step names more instances) attests it.
        self.publish(2, T0 + 30, topic=CANDIDATE_TOPIC, rollout=dict(rollout, step=2, instances=["py-1", "py-2"]))
        until("attested by the candidate topic", lambda: sut.status()["attestedAt"] == "2026-12-01T20:00:30.000Z")
        # A re-signed stable version (behind the candidate) attests nothing.
        self.publish(1, T0 + 55)
        self.publish(2, T0 + 10, topic=CANDIDATE_TOPIC, rollout=rollout)  # a marker (older: attests nothing)
        until("the marker seen", lambda: sut.stats()["duplicates"] >= 2)  # behind-candidate is not one
        self.assertEqual(sut.status()["attestedAt"], "2026-12-01T20:00:30.000Z")
        # The rollout completes: the version on the config topic attests it, and from then on the
        # config topic is its source (a candidate copy attests nothing).
        self.publish(2, T0 + 45)
        until("attested by the config topic", lambda: sut.status()["attestedAt"] == "2026-12-01T20:00:45.000Z")
        self.assertTrue(any("rollout r-py) is now on the config topic" in line for line in self.logs))
        self.publish(2, T0 + 50, topic=CANDIDATE_TOPIC, rollout=rollout)
        self.publish(1, T0 + 52)  # no longer behind a candidate: a replay
        until("the replay refused", lambda: sut.stats()["rejected"]["stale"] == 1)
        self.assertEqual(sut.status()["attestedAt"], "2026-12-01T20:00:45.000Z")

    # --- staleness ----------------------------------------------------------------------------

    def test_goes_stale_without_attestations_and_fresh_again_with_one(self) -> None:
        self.publish(1, T0, T0 + 7 * 24 * 3600)
        sut = self.sut(max_staleness_s=120)
        events: list = []
        sut.on("freshness", events.append)
        sut.start()
        fresh = self.probe.health("py-1", lambda h: h["appliedVersion"] == 1)
        self.assertEqual((fresh["stale"], fresh["attestedAt"]), (False, "2026-12-01T20:00:00.000Z"))
        self.clock.advance(120)
        self.assertFalse(sut.check_staleness())  # exactly the limit is not past it
        self.clock.advance(1)
        stale = self.probe.health("py-1", lambda h: h["stale"] is True)  # the watch thread publishes it
        self.assertEqual((stale["status"], stale["appliedVersion"], stale["attestedAt"]), ("online", 1, "2026-12-01T20:00:00.000Z"))
        self.assertEqual(sut.begin_run().version, 1)  # a warning: runs go on
        warnings = [line for line in self.logs if "is stale" in line]
        self.assertEqual(len(warnings), 1, warnings)  # once per transition, not per check
        self.assertIn("CONFIG_MAX_STALENESS (120 s)", warnings[0])
        self.assertIn("broker connection", warnings[0])
        self.assertIn("heartbeat", warnings[0])
        self.publish(1, T0 + 121)
        again = self.probe.health("py-1", lambda h: h["stale"] is False and h["attestedAt"] == "2026-12-01T20:02:01.000Z")
        self.assertEqual(again["status"], "online")
        until("logged fresh again", lambda: any("is fresh again" in line for line in self.logs))
        self.assertEqual(
            [(e["stale"], e["attestedAt"]) for e in events],
            [(True, "2026-12-01T20:00:00.000Z"), (False, "2026-12-01T20:02:01.000Z")],
        )
        self.assertEqual(len([line for line in self.logs if "is stale" in line]), 1)

    def test_nothing_applied_for_that_long_since_start_is_stale_and_0_turns_it_off(self) -> None:
        sut = self.sut(max_staleness_s=60, initial_config_timeout_ms=200).start()
        off = self.sut("py-2", max_staleness_s=0, initial_config_timeout_ms=200).start()
        self.assertEqual((sut.status()["stale"], "attestedAt" in sut.status()), (False, False))
        self.clock.advance(61)
        health = self.probe.health("py-1", lambda h: h["stale"] is True)
        self.assertEqual((health["appliedVersion"], health["source"]), (0, "defaults"))
        self.assertNotIn("attestedAt", health)
        self.assertTrue(any("nothing was applied since start" in line for line in self.logs))
        self.clock.advance(365 * 24 * 3600)
        self.assertEqual((off.check_staleness(), off.status()["stale"]), (False, False))

    # --- last-known-good format 3 and key rotation ----------------------------------------------

    def test_an_older_format_is_migrated_to_format_3_on_the_first_attestation(self) -> None:
        schema_envelope = self.signer.envelope(
            {
                "service": SERVICE,
                "schemaVersion": 1,
                "schemaHash": self.definition.schema_hash,
                "schema": self.schema,
                "issuedAt": iso_of(T0 - 3600),
            }
        )
        config_envelope = self.envelope(1, T0 - 60, T0 + 7 * 24 * 3600)
        with open(self.lkg_path(), "w") as handle:
            json.dump(older_file(2, HMAC_KEY, SERVICE, config_envelope, schema_envelope), handle)
        # The broker has the same copy (retained): it confirms the saved version.
        self.probe.publish(SCHEMA_TOPIC, schema_envelope)
        self.probe.publish(CONFIG_TOPIC, config_envelope)
        sut = self.sut(own_schema=False).start()
        until("online on the saved version", lambda: sut.status()["status"] == "online")
        self.assertEqual((sut.status()["appliedVersion"], sut.status()["source"]), (1, "lkg"))
        until("rewritten as format 3", lambda: lkg_payload_of(self.lkg_path())["_file"]["format"] == 3)
        record = lkg_payload_of(self.lkg_path())["_file"]
        self.assertEqual(record["instanceId"], "py-1")
        self.assertEqual(base64.b64decode(record["schemaEnvelope"]), schema_envelope)
        loaded = LastKnownGoodStore(self.lkg_path(), HMAC_KEY, "py-1").load(SERVICE)
        self.assertEqual((loaded.kind, loaded.format, loaded.schema_envelope_bytes), ("ok", 3, schema_envelope))

    def test_a_file_under_a_previous_lkg_key_is_used_and_rewritten_under_the_current_one(self) -> None:
        self.publish(1, T0)
        first = self.sut(lkg_hmac_key=OLD_HMAC_KEY).start()
        self.assertEqual(first.status()["appliedVersion"], 1)
        first.stop()
        self.broker.stop()
        # Without the previous key the file is not trusted.
        refused = self.sut(initial_config_timeout_ms=200).start()
        self.assertEqual(refused.current().source, "defaults")
        refused.stop()
        self.assertTrue(any("fails its HMAC check" in line for line in self.logs))
        rotated = self.sut(lkg_hmac_keys_previous=[b"another-old-key-16bytes", OLD_HMAC_KEY], initial_config_timeout_ms=200).start()
        self.assertEqual((rotated.begin_run().version, rotated.current().source), (1, "lkg"))
        self.assertTrue(any("LKG_HMAC_KEYS_PREVIOUS: rewriting it under LKG_HMAC_KEY" in line for line in self.logs))
        loaded = LastKnownGoodStore(self.lkg_path(), HMAC_KEY, "py-1").load(SERVICE)
        self.assertEqual((loaded.kind, loaded.previous_key, loaded.format), ("ok", False, 3))

    def test_a_file_of_another_instance_or_with_an_edited_saved_at_is_ignored_and_logged(self) -> None:
        self.publish(1, T0)
        self.sut().start().stop()
        self.broker.stop()
        with open(self.lkg_path()) as handle:
            record = json.load(handle)
        with open(self.lkg_path("py-2"), "w") as handle:
            json.dump(record, handle)
        with open(self.lkg_path(), "w") as handle:
            json.dump(dict(record, savedAt=iso_of(T0 + 3600)), handle)
        for instance, why in (("py-1", "its savedAt edited"), ("py-2", "was saved by another instance (py-1), not py-2")):
            with self.subTest(instance):
                sut = self.sut(instance, initial_config_timeout_ms=200).start()
                self.assertEqual(sut.current().source, "defaults")
                self.assertTrue(any(self.lkg_path(instance) in line and why in line for line in self.logs), self.logs)

    # --- previous X25519 secret keys ------------------------------------------------------------

    def test_a_secret_sealed_to_a_previous_key_opens_with_config_secret_keys_previous(self) -> None:
        old = nacl.public.PrivateKey.generate()
        sealed = seal_secret(b"tok-old-key", bytes(old.public_key), os.urandom(32), os.urandom(24))
        self.publish(1, T0, secrets={"api.key": sealed})
        without = self.sut("py-1").start()
        health = self.probe.health("py-1", lambda h: "lastRejection" in h)
        self.assertEqual((health["lastRejection"]["reason"], without.status()["appliedVersion"]), ("secret", 0))
        current = b64(self.keys["recipient"]["secretKey"])
        sut = self.sut("py-2", secret_key=current, previous_secret_keys=[bytes(old)]).start()
        self.assertEqual((sut.status()["appliedVersion"], sut.begin_run().secret("api.key")), (1, "tok-old-key"))
        # The current key still comes first.
        fresh = seal_secret(b"tok-new-key", b64(self.keys["recipient"]["publicKey"]), os.urandom(32), os.urandom(24))
        self.publish(2, T0, secrets={"api.key": fresh})
        until("version 2 applied", lambda: sut.status()["appliedVersion"] == 2)
        self.assertEqual(sut.begin_run().secret("api.key"), "tok-new-key")


if __name__ == "__main__":
    unittest.main()
