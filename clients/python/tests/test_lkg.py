"""The last-known-good file: atomic, HMAC'd, the Node SDK's layout."""

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

import vectors  # noqa: F401 - puts the client on sys.path

from config_client.lkg import LastKnownGoodStore

KEY = b"k" * 32
ENVELOPE = b'{"alg":"Ed25519","kid":"k","payload":"e30=","sig":"AA=="}'
SCHEMA_ENVELOPE = b'{"alg":"Ed25519","kid":"k","payload":"e30=","sig":"AQ=="}'


class LastKnownGoodStoreTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="py-lkg-")
        self.path = os.path.join(self.dir, "nested", "svc.lkg.json")
        self.sut = LastKnownGoodStore(self.path, KEY)

    def tearDown(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def read(self) -> dict:
        with open(self.path) as handle:
            return json.load(handle)

    def test_round_trip_in_both_formats(self) -> None:
        self.assertEqual(self.sut.load("billing-worker").kind, "missing")
        self.sut.save(ENVELOPE, "billing-worker")
        loaded = self.sut.load("billing-worker")
        self.assertEqual((loaded.kind, loaded.envelope_bytes, loaded.schema_envelope_bytes), ("ok", ENVELOPE, None))
        self.assertEqual(self.read()["format"], 1)
        self.sut.save(ENVELOPE, "billing-worker", SCHEMA_ENVELOPE)
        loaded = self.sut.load("billing-worker")
        self.assertEqual((loaded.kind, loaded.schema_envelope_bytes), ("ok", SCHEMA_ENVELOPE))
        self.assertEqual(self.read()["format"], 2)
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(os.path.dirname(self.path)).st_mode & 0o777, 0o700)
        self.assertEqual(os.listdir(os.path.dirname(self.path)), ["svc.lkg.json"])  # no temp file left

    def test_the_layout_and_mac_are_the_node_sdks(self) -> None:
        self.sut.save(ENVELOPE, "billing-worker", SCHEMA_ENVELOPE)
        with open(self.path, "rb") as handle:
            text = handle.read()
        self.assertTrue(text.endswith(b"}\n"))
        record = json.loads(text)
        self.assertEqual(list(record), ["format", "service", "savedAt", "envelope", "schemaEnvelope", "hmac"])
        service = b"billing-worker"
        mac_input = (
            b"config-centre/last-known-good\0"
            + struct.pack(">II", 2, len(service))
            + service
            + struct.pack(">I", len(ENVELOPE))
            + ENVELOPE
            + SCHEMA_ENVELOPE
        )
        self.assertEqual(base64.b64decode(record["hmac"]), hmac.new(KEY, mac_input, hashlib.sha256).digest())

    def test_refuses_a_file_it_cannot_trust(self) -> None:
        self.sut.save(ENVELOPE, "billing-worker")
        record = self.read()
        cases = {
            "another key": (LastKnownGoodStore(self.path, b"x" * 32), record, "fails its HMAC check"),
            "another service": (self.sut, dict(record, service="other"), "is for another service"),
            "a changed envelope": (self.sut, dict(record, envelope=base64.b64encode(ENVELOPE + b" ").decode()), "fails its HMAC check"),
            "format 1 passed off as 2": (self.sut, dict(record, format=2, schemaEnvelope=""), "not valid base64"),
            "an unknown format": (self.sut, dict(record, format=3), "unknown format"),
            "a non-canonical mac": (self.sut, dict(record, hmac=record["hmac"].rstrip("=")), "not valid base64"),
        }
        for name, (store, content, reason) in cases.items():
            with self.subTest(name):
                with open(self.path, "w") as handle:
                    json.dump(content, handle)
                loaded = store.load("billing-worker" if name != "another service" else "billing-worker")
                self.assertEqual(loaded.kind, "invalid")
                self.assertIn(reason, loaded.reason)
        with open(self.path, "w") as handle:
            handle.write('{"format":1,')
        self.assertIn("is not JSON", self.sut.load("billing-worker").reason)

    def test_refuses_a_short_key(self) -> None:
        with self.assertRaises(ValueError):
            LastKnownGoodStore(self.path, b"k" * 15)


if __name__ == "__main__":
    unittest.main()
