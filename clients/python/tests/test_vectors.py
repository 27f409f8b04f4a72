"""The shared cross-language test vectors (libs/contracts/test-vectors): every one must pass."""

from __future__ import annotations

import time
import unittest

from vectors import b64, load, message_bytes

from config_client.envelope import EnvelopeVerifier, SignedSchemaStore
from config_client.jsvalue import canonical_json
from config_client.schema import validate_config
from config_client.secrets import SealedSecretError, open_sealed_secret
from config_client.service_schema import ServiceDefinition, check_service_schema, schema_hash_of
from config_client.times import iso_of, parse_iso
from config_client.topics import parse_candidate_topic, parse_config_topic, parse_schema_topic


def _trusted(vectors: dict) -> dict:
    return {kid: b64(key) for kid, key in vectors["trustedKeys"].items()}


class _VectorClock:
    """The worker's clock of a case (rule 4a, attestedAt): its ``now``, else the file's, else the real time."""

    def __init__(self) -> None:
        self.now = None

    def set(self, *sources: dict) -> None:
        given = next((source["now"] for source in sources if "now" in source), None)
        self.now = None if given is None else parse_iso(given)
        assert given is None or self.now is not None, f"now {given!r} is not a date-time"

    def __call__(self) -> float:
        return time.time() if self.now is None else self.now


class ConfigEnvelopeVectors(unittest.TestCase):
    """config-envelopes.json: rules 0-6 with the worker's own schema."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.vectors = load("config-envelopes.json")
        check = check_service_schema(cls.vectors["service"], "", cls.vectors["schema"])
        assert check.ok, [p.message for p in check.problems]
        cls.clock = _VectorClock()
        cls.sut = EnvelopeVerifier(
            trusted_keys=_trusted(cls.vectors),
            definition=check.definition,
            secret_key=b64(cls.vectors["recipientSecretKey"]),
            clock=cls.clock,
        )

    def test_every_case(self) -> None:
        self.assertGreater(len(self.vectors["cases"]), 0)
        for case in self.vectors["cases"]:
            with self.subTest(case["name"]):
                self.clock.set(case, self.vectors)
                verdict = self.sut.verify(
                    message_bytes(case["message"]),
                    topic_service=parse_config_topic(case["topic"]),
                    applied_version=case["appliedVersion"],
                )
                expect = case["expect"]
                detail = getattr(verdict, "detail", "")
                self.assertEqual(verdict.kind, expect["verdict"], f"{case['description']} ({detail})")
                if expect["verdict"] == "rejected":
                    self.assertEqual(verdict.reason, expect["reason"], detail)
                    self.assertEqual(verdict.version, expect.get("version"))
                else:
                    self.assertEqual(verdict.version, expect["version"])
                if expect["verdict"] == "accepted":
                    self.assertEqual(verdict.config, expect["config"])
                    self.assertEqual(canonical_json(verdict.config), canonical_json(expect["config"]))


class CandidateEnvelopeVectors(unittest.TestCase):
    """candidate-envelopes.json: rollouts' candidates, and the stable topic around them, in order."""

    def test_every_case(self) -> None:
        vectors = load("candidate-envelopes.json")
        check = check_service_schema(vectors["service"], "", vectors["schema"])
        assert check.ok, [p.message for p in check.problems]
        clock = _VectorClock()
        sut = EnvelopeVerifier(
            trusted_keys=_trusted(vectors),
            definition=check.definition,
            secret_key=b64(vectors["recipientSecretKey"]),
            clock=clock,
        )
        seen = set()
        self.assertGreater(len(vectors["cases"]), 0)
        for case in vectors["cases"]:
            # The worker's state, carried as the README says: what it applied, from which candidate,
            # and (attestation cases, with a "now") when it was last attested (docs/recovery.md).
            applied, stable_version = case["appliedVersion"], None
            attested_at, from_candidate = None, False
            clock.set(case, vectors)
            for index, step in enumerate(case["messages"]):
                with self.subTest(f"{case['name']} message {index + 1}"):
                    data = message_bytes(step["message"])
                    on_candidate = step["topic"].split("/")[1] == "candidate"
                    if on_candidate:
                        verdict = sut.verify_candidate(data, parse_candidate_topic(step["topic"]), applied, case["instanceId"])
                    else:
                        verdict = sut.verify(
                            data, parse_config_topic(step["topic"]), applied, candidate_stable_version=stable_version
                        )
                    expect = step["expect"]
                    seen.add(expect["verdict"])
                    detail = getattr(verdict, "detail", "")
                    self.assertEqual(verdict.kind, expect["verdict"], f"{case['description']} ({detail})")
                    if expect["verdict"] == "rejected":
                        self.assertEqual(verdict.reason, expect["reason"], detail)
                        self.assertEqual(verdict.version, expect.get("version"))
                    elif expect["verdict"] != "no-candidate":
                        self.assertEqual(verdict.version, expect["version"])
                    if expect["verdict"] == "accepted":
                        self.assertEqual(verdict.config, expect["config"])
                        rollout = None if verdict.rollout is None else verdict.rollout.as_json()
                        self.assertEqual(rollout, expect.get("rollout"))
                        applied = verdict.version
                        stable_version = None if verdict.rollout is None else verdict.rollout.stable_version
                        from_candidate = on_candidate
                        issued = parse_iso(verdict.payload.issued_at)
                        attested_at = clock.now if issued is None or clock.now is None else min(issued, clock.now)
                    if verdict.kind == "duplicate" and on_candidate == from_candidate and clock.now is not None:
                        issued = parse_iso(verdict.issued_at)
                        if issued is not None and (attested_at is None or min(issued, clock.now) > attested_at):
                            attested_at = min(issued, clock.now)
                    if "attestedAt" in expect:
                        self.assertEqual(None if attested_at is None else iso_of(attested_at), expect["attestedAt"])
        self.assertEqual(
            seen, {"accepted", "duplicate", "archived", "rejected", "not-targeted", "behind-candidate", "no-candidate"}
        )


class SignedSchemaModeVectors(unittest.TestCase):
    """The config cases again, for a client without a schema of its own (the signed schema)."""

    def test_configs_validated_with_the_signed_schema(self) -> None:
        configs = load("config-envelopes.json")
        schemas = load("schema-envelopes.json")
        clock = _VectorClock()
        sut = EnvelopeVerifier(
            trusted_keys=_trusted(configs),
            service=configs["service"],
            secret_key=b64(configs["recipientSecretKey"]),
            clock=clock,
        )
        first = schemas["cases"][0]
        schema = sut.verify_schema(message_bytes(first["message"]), parse_schema_topic(first["topic"]))
        self.assertEqual(schema.kind, "accepted")
        store = SignedSchemaStore()
        store.add(schema.schema)
        for case in configs["cases"]:
            with self.subTest(case["name"]):
                clock.set(case, configs)
                verdict = sut.verify(
                    message_bytes(case["message"]),
                    topic_service=parse_config_topic(case["topic"]),
                    applied_version=case["appliedVersion"],
                    signed_schemas=store,
                )
                expect = case["expect"]
                if expect["verdict"] == "accepted" and verdict.kind == "pending":
                    # Built for another schema than the signed one: it waits for that one.
                    self.assertNotEqual(verdict.schema_hash, schema.schema.schema_hash)
                    continue
                if expect["verdict"] == "accepted" and verdict.kind == "rejected":
                    # Names no schema at all: never validated with an unsigned one.
                    self.assertEqual((verdict.reason, verdict.version), ("schema", expect["version"]))
                    self.assertIn("names no schemaHash", verdict.detail)
                    continue
                self.assertEqual(verdict.kind, expect["verdict"], getattr(verdict, "detail", ""))
                if expect["verdict"] == "accepted":
                    self.assertEqual(verdict.config, expect["config"])
                    self.assertFalse(verdict.schema_drift)


class SchemaEnvelopeVectors(unittest.TestCase):
    """schema-envelopes.json: signed schemas on system/schema/<service>."""

    def test_every_case(self) -> None:
        vectors = load("schema-envelopes.json")
        sut = EnvelopeVerifier(trusted_keys=_trusted(vectors), service=vectors["service"])
        self.assertGreater(len(vectors["cases"]), 0)
        for case in vectors["cases"]:
            with self.subTest(case["name"]):
                verdict = sut.verify_schema(message_bytes(case["message"]), parse_schema_topic(case["topic"]))
                expect = case["expect"]
                detail = getattr(verdict, "detail", "")
                self.assertEqual(verdict.kind, expect["verdict"], f"{case['description']} ({detail})")
                if expect["verdict"] == "accepted":
                    self.assertEqual(verdict.schema.schema_hash, expect["schemaHash"])
                    self.assertEqual(verdict.schema.schema_version, expect["schemaVersion"])
                else:
                    self.assertEqual(verdict.reason, expect["reason"], detail)
                    self.assertEqual(verdict.schema_version, expect.get("schemaVersion"))


class SealedSecretVectors(unittest.TestCase):
    """sealed-secrets.json: NaCl boxes that open, and the ones that must not."""

    def test_every_case(self) -> None:
        vectors = load("sealed-secrets.json")
        self.assertGreater(len(vectors["cases"]), 0)
        for case in vectors["cases"]:
            with self.subTest(case["name"]):
                key = b64(case["recipientSecretKey"])
                if case["expect"]["opens"]:
                    opened = open_sealed_secret(case["sealed"], key)
                    self.assertEqual(opened.decode("utf-8"), case["expect"]["value"])
                else:
                    with self.assertRaises(SealedSecretError):
                        open_sealed_secret(case["sealed"], key)


class SchemaValidationVectors(unittest.TestCase):
    """schema-validation.json: one keyword at a time, verdicts and the dotted paths reported."""

    def test_every_case(self) -> None:
        vectors = load("schema-validation.json")
        self.assertGreater(len(vectors["cases"]), 0)
        for case in vectors["cases"]:
            definition = ServiceDefinition("vector-worker", case["schema"])
            for instance in case["instances"]:
                with self.subTest(f"{case['name']}: {instance['description']}"):
                    result = validate_config(definition, instance["value"])
                    messages = [i.message for i in result.issues]
                    self.assertEqual(result.ok, instance["valid"], messages)
                    if "paths" in instance:
                        self.assertEqual(result.paths, instance["paths"], messages)
                    if "config" in instance:
                        self.assertEqual(result.config, instance["config"])


class SchemaHashVectors(unittest.TestCase):
    """schema-hash.json: canonical JSON and the schemaHash of each schema."""

    def test_every_case(self) -> None:
        vectors = load("schema-hash.json")
        self.assertGreater(len(vectors["cases"]), 0)
        for case in vectors["cases"]:
            with self.subTest(case["name"]):
                self.assertEqual(canonical_json(case["schema"]), case["canonical"])
                self.assertEqual(schema_hash_of(case["schema"]), case["schemaHash"])


if __name__ == "__main__":
    unittest.main()
