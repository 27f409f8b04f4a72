"""The last-known-good file: atomic, HMAC'd, the Node SDK's layout (format 3, formats 1 and 2 read)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import struct
import tempfile
import unittest

import vectors

from config_client.lkg import (
    LastKnownGoodStore,
    lkg_mac_input,
    open_last_known_good,
    seal_last_known_good,
)

KEY = b"k" * 32
PREVIOUS_KEY = b"p" * 16
INSTANCE = "billing-1"
ENVELOPE = b'{"alg":"Ed25519","kid":"k","payload":"e30=","sig":"AA=="}'
SCHEMA_ENVELOPE = b'{"alg":"Ed25519","kid":"k","payload":"e30=","sig":"AQ=="}'


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def format3_mac(key: bytes, service: str, instance: str, saved_at: str, envelope: bytes, schema: bytes = b"") -> bytes:
    """The layout of libs/config-client/README.md written out by hand: the domain, the format,
    then the service, instance id, savedAt, envelope and schema envelope, each with its length."""
    data = b"config-centre/last-known-good\0" + struct.pack(">I", 3)
    for part in (service.encode(), instance.encode(), saved_at.encode(), envelope, schema):
        data += struct.pack(">I", len(part)) + part
    return hmac.new(key, data, hashlib.sha256).digest()


def older_file(fmt: int, key: bytes, service: str, envelope: bytes, schema: bytes = b"") -> dict:
    """A file as the SDKs before format 3 wrote it (format 1: no schema; 2: with one)."""
    service_bytes = service.encode()
    data = b"config-centre/last-known-good\0" + struct.pack(">II", fmt, len(service_bytes)) + service_bytes
    data += envelope if fmt == 1 else struct.pack(">I", len(envelope)) + envelope + schema
    record = {"format": fmt, "service": service, "savedAt": "2026-11-21T20:00:00.000Z", "envelope": b64(envelope)}
    if fmt == 2:
        record["schemaEnvelope"] = b64(schema)
    record["hmac"] = b64(hmac.new(key, data, hashlib.sha256).digest())
    return record


class LastKnownGoodStoreTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="py-lkg-")
        self.path = os.path.join(self.dir, "nested", "svc.lkg.json")
        self.sut = LastKnownGoodStore(self.path, KEY, INSTANCE)

    def tearDown(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def read(self) -> dict:
        with open(self.path) as handle:
            return json.load(handle)

    def write(self, record: dict) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with open(self.path, "w") as handle:
            json.dump(record, handle)

    def test_round_trip_with_and_without_a_schema_envelope(self) -> None:
        self.assertEqual(self.sut.load("billing-worker").kind, "missing")
        self.sut.save(ENVELOPE, "billing-worker")
        loaded = self.sut.load("billing-worker")
        self.assertEqual((loaded.kind, loaded.envelope_bytes, loaded.schema_envelope_bytes, loaded.format), ("ok", ENVELOPE, None, 3))
        self.assertNotIn("schemaEnvelope", self.read())
        self.sut.save(ENVELOPE, "billing-worker", SCHEMA_ENVELOPE)
        loaded = self.sut.load("billing-worker")
        self.assertEqual((loaded.kind, loaded.schema_envelope_bytes, loaded.previous_key), ("ok", SCHEMA_ENVELOPE, False))
        self.assertEqual((self.read()["format"], self.read()["instanceId"]), (3, INSTANCE))
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(os.path.dirname(self.path)).st_mode & 0o777, 0o700)
        self.assertEqual(os.listdir(os.path.dirname(self.path)), ["svc.lkg.json"])  # no temp file left

    def test_format_3_layout_and_mac(self) -> None:
        clock = lambda: 1796155200.123  # noqa: E731 - 2026-12-01T20:00:00.123Z
        LastKnownGoodStore(self.path, KEY, INSTANCE, clock=clock).save(ENVELOPE, "billing-worker", SCHEMA_ENVELOPE)
        with open(self.path, "rb") as handle:
            text = handle.read()
        self.assertTrue(text.endswith(b"}\n"))
        record = json.loads(text)
        self.assertEqual(list(record), ["format", "service", "instanceId", "savedAt", "envelope", "schemaEnvelope", "hmac"])
        self.assertEqual(record["savedAt"], "2026-12-01T20:00:00.123Z")
        expected = format3_mac(KEY, "billing-worker", INSTANCE, record["savedAt"], ENVELOPE, SCHEMA_ENVELOPE)
        self.assertEqual(base64.b64decode(record["hmac"]), expected)
        self.sut.save(ENVELOPE, "billing-worker")
        record = self.read()
        self.assertEqual(base64.b64decode(record["hmac"]), format3_mac(KEY, "billing-worker", INSTANCE, record["savedAt"], ENVELOPE))

    def test_still_reads_the_formats_1_and_2_of_older_sdks(self) -> None:
        for fmt, schema in ((1, None), (2, SCHEMA_ENVELOPE)):
            with self.subTest(format=fmt):
                self.write(older_file(fmt, KEY, "billing-worker", ENVELOPE, schema or b""))
                loaded = self.sut.load("billing-worker")
                self.assertEqual((loaded.kind, loaded.format, loaded.envelope_bytes, loaded.schema_envelope_bytes), ("ok", fmt, ENVELOPE, schema))

    def test_a_file_that_checks_only_under_a_previous_key_says_so(self) -> None:
        LastKnownGoodStore(self.path, PREVIOUS_KEY, INSTANCE).save(ENVELOPE, "billing-worker")
        self.assertIn("fails its HMAC check", self.sut.load("billing-worker").reason)
        rotated = LastKnownGoodStore(self.path, KEY, INSTANCE, previous_keys=[b"x" * 20, PREVIOUS_KEY])
        loaded = rotated.load("billing-worker")
        self.assertEqual((loaded.kind, loaded.previous_key, loaded.envelope_bytes), ("ok", True, ENVELOPE))
        rotated.save(loaded.envelope_bytes, "billing-worker")  # what the client does at once
        self.assertEqual((self.sut.load("billing-worker").kind, rotated.load("billing-worker").previous_key), ("ok", False))
        # A previous key also checks the older formats.
        self.write(older_file(2, PREVIOUS_KEY, "billing-worker", ENVELOPE, SCHEMA_ENVELOPE))
        self.assertEqual((rotated.load("billing-worker").previous_key, rotated.load("billing-worker").format), (True, 2))

    def test_refuses_a_file_it_cannot_trust(self) -> None:
        self.sut.save(ENVELOPE, "billing-worker", SCHEMA_ENVELOPE)
        record = self.read()
        other_instance = LastKnownGoodStore(self.path, KEY, "billing-2")
        cases = {
            "another key": (LastKnownGoodStore(self.path, b"x" * 32, INSTANCE), record, "fails its HMAC check"),
            "another service": (self.sut, dict(record, service="other"), "is for another service"),
            "another instance": (other_instance, record, "was saved by another instance (billing-1), not billing-2"),
            "an instance id edited": (self.sut, dict(record, instanceId="billing-2"), "was saved by another instance"),
            "an edited savedAt": (self.sut, dict(record, savedAt="2099-01-01T00:00:00.000Z"), "its savedAt edited"),
            "a changed envelope": (self.sut, dict(record, envelope=b64(ENVELOPE + b" ")), "fails its HMAC check"),
            "the schema envelope dropped": (self.sut, {k: v for k, v in record.items() if k != "schemaEnvelope"}, "fails its HMAC check"),
            "format 3 without its instance": (self.sut, {k: v for k, v in record.items() if k != "instanceId"}, "lacks the instanceId"),
            "format 3 passed off as 2": (self.sut, dict(record, format=2), "fails its HMAC check"),
            "an unknown format": (self.sut, dict(record, format=4), "unknown format"),
            "a non-canonical mac": (self.sut, dict(record, hmac=record["hmac"].rstrip("=")), "not valid base64"),
        }
        for name, (store, content, reason) in cases.items():
            with self.subTest(name):
                self.write(content)
                loaded = store.load("billing-worker")
                self.assertEqual(loaded.kind, "invalid")
                self.assertIn(reason, loaded.reason)
        with open(self.path, "w") as handle:
            handle.write('{"format":3,')
        self.assertIn("is not JSON", self.sut.load("billing-worker").reason)
        # An older file of another instance cannot be told apart: it names none (the envelope is verified again).
        self.write(older_file(1, KEY, "billing-worker", ENVELOPE))
        self.assertEqual(other_instance.load("billing-worker").kind, "ok")

    def test_refuses_a_short_key(self) -> None:
        with self.assertRaises(ValueError):
            LastKnownGoodStore(self.path, b"k" * 15, INSTANCE)
        with self.assertRaisesRegex(ValueError, "lkg_hmac_keys_previous item 2"):
            LastKnownGoodStore(self.path, KEY, INSTANCE, previous_keys=[PREVIOUS_KEY, b"p" * 15])



LKG_VECTORS = "lkg-files.json"


class LastKnownGoodVectorsTest(unittest.TestCase):
    """Files written by the Node SDK (libs/contracts/test-vectors/lkg-files.json, generated from
    its sealLastKnownGood and openLastKnownGood; layout in the vectors README): this client reads
    each the same way, computes the same HMAC input (``macInput``), and seals a valid format-3
    file to the same bytes."""

    def setUp(self) -> None:
        self.vectors = vectors.load(LKG_VECTORS)

    def test_reads_every_file_and_seals_format_3_as_the_node_sdk_does(self) -> None:
        v = self.vectors
        self.assertTrue(v["cases"], "no cases")
        for case in v["cases"]:
            with self.subTest(case["name"]):
                key = base64.b64decode(case["hmacKey"])
                previous = [base64.b64decode(k) for k in case["previousHmacKeys"]]
                file, expect = case["file"], case["expect"]
                loaded = open_last_known_good(file, v["service"], case["instanceId"], [key] + previous)
                self.assertEqual(loaded.kind, "ok" if expect["valid"] else "invalid", loaded.reason)
                if not expect["valid"]:
                    continue
                schema = base64.b64decode(expect["schemaEnvelope"]) if "schemaEnvelope" in expect else None
                envelope = base64.b64decode(expect["envelope"])
                self.assertEqual(
                    (loaded.format, loaded.envelope_bytes, loaded.schema_envelope_bytes, loaded.previous_key),
                    (expect["format"], envelope, schema, expect["underPreviousKey"]),
                )
                mac_input = lkg_mac_input(
                    file["format"], file["service"], file.get("instanceId", ""), file.get("savedAt", ""), envelope, schema
                )
                self.assertEqual(base64.b64encode(mac_input).decode("ascii"), expect["macInput"])
                if file["format"] == 3 and not expect["underPreviousKey"]:
                    sealed = seal_last_known_good(key, file["service"], file["instanceId"], file["savedAt"], envelope, schema)
                    self.assertEqual(sealed, file)


if __name__ == "__main__":
    unittest.main()
