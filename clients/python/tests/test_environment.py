"""options_from_env: the Node SDK's variables, and one error naming every bad one."""

from __future__ import annotations

import base64
import json
import os
import tempfile
import unittest

import vectors  # noqa: F401 - puts the client on sys.path

from config_client import ConfigEnvironmentError, options_from_env

PUBLIC_KEY = base64.b64encode(bytes(range(32))).decode()
SECRET_KEY = base64.b64encode(bytes(range(1, 33))).decode()
HMAC_KEY = base64.b64encode(b"h" * 32).decode()


def valid_env(**overrides: str) -> dict:
    env = {
        "SERVICE_NAME": "billing-worker",
        "MQTT_URL": "mqtt://broker.internal:1883",
        "INSTANCE_ID": "billing-1",
        "CONFIG_TRUSTED_KEYS": f"cfg-2026-11:{PUBLIC_KEY}, cfg-2026-05:{SECRET_KEY}",
        "CONFIG_SECRET_KEY": SECRET_KEY,
        "LKG_HMAC_KEY": HMAC_KEY,
        "DATA_DIR": "/var/lib/billing",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


class OptionsFromEnvTest(unittest.TestCase):
    def test_reads_every_variable(self) -> None:
        sut = options_from_env(valid_env(MQTT_USERNAME=" user ", MQTT_TOPIC_PREFIX="tenant-a/", INITIAL_CONFIG_TIMEOUT_MS="250"))
        self.assertEqual(sut.service, "billing-worker")
        self.assertEqual(sut.instance_id, "billing-1")
        self.assertEqual(sut.mqtt_url, "mqtt://broker.internal:1883")
        self.assertEqual(sut.mqtt_username, " user ")  # credentials are not trimmed
        self.assertEqual(sut.topic_prefix, "tenant-a/")
        self.assertEqual(set(sut.trusted_keys), {"cfg-2026-11", "cfg-2026-05"})
        self.assertEqual(sut.trusted_keys["cfg-2026-11"], bytes(range(32)))
        self.assertEqual(sut.secret_key, bytes(range(1, 33)))
        self.assertEqual(sut.lkg_hmac_key, b"h" * 32)
        self.assertEqual(sut.lkg_path, "/var/lib/billing/billing-worker.billing-1.lkg.json")
        self.assertEqual(sut.initial_config_timeout_ms, 250)
        self.assertIsNone(sut.schema)  # the signed schema

    def test_reads_instance_labels_and_names_each_bad_one(self) -> None:
        self.assertEqual(options_from_env(valid_env()).labels, {})
        self.assertEqual(
            options_from_env(valid_env(INSTANCE_LABELS="region=eu-west, tier=canary,,zone=")).labels,
            {"region": "eu-west", "tier": "canary", "zone": ""},
        )
        with self.assertRaises(ConfigEnvironmentError) as caught:
            options_from_env(valid_env(INSTANCE_LABELS="region=eu,tier,Zone=a,region=us,app=x y"))
        # The Node SDK's words (config-client.settings.spec.ts), item by item.
        self.assertEqual(
            caught.exception.problems,
            [
                'INSTANCE_LABELS item 2 must be key=value (got "tier")',
                "INSTANCE_LABELS item 4 repeats label region (first at item 1)",
                'INSTANCE_LABELS key "Zone" must match /^[a-z][a-z0-9_.-]{0,62}$/',
                'INSTANCE_LABELS value of app must be a string matching /^[A-Za-z0-9_.:-]{0,63}$/ (got "x y")',
            ],
        )
        with self.assertRaises(ConfigEnvironmentError) as caught:
            options_from_env(valid_env(INSTANCE_LABELS=",".join(f"k{i}=v" for i in range(17))))
        self.assertEqual(caught.exception.problems, ["INSTANCE_LABELS has 17 labels, at most 16"])

    def test_names_every_missing_variable_at_once(self) -> None:
        with self.assertRaises(ConfigEnvironmentError) as caught:
            options_from_env({})
        message = str(caught.exception)
        self.assertTrue(message.startswith("Invalid environment variables:\n  - "))
        for name in ("SERVICE_NAME", "MQTT_URL", "CONFIG_TRUSTED_KEYS", "LKG_HMAC_KEY"):
            self.assertIn(f"{name} is required", message)
        self.assertEqual(len(caught.exception.problems), 4)

    def test_names_every_bad_value_and_never_echoes_a_key(self) -> None:
        secret = base64.b64encode(b"s" * 31).decode()
        with self.assertRaises(ConfigEnvironmentError) as caught:
            options_from_env(
                valid_env(
                    SERVICE_NAME="Billing",
                    MQTT_URL="http://broker",
                    INSTANCE_ID="billing/1",
                    CONFIG_TRUSTED_KEYS=f"{PUBLIC_KEY}",
                    CONFIG_SECRET_KEY=secret,
                    LKG_HMAC_KEY="c2hvcnQ=",
                    INITIAL_CONFIG_TIMEOUT_MS="1e3",
                    MQTT_TOPIC_PREFIX="tenant-a",
                )
            )
        problems = caught.exception.problems
        self.assertEqual(
            [p.split(" ")[0] for p in problems],
            [
                "SERVICE_NAME",
                "MQTT_URL",
                "MQTT_TOPIC_PREFIX",
                "INSTANCE_ID",
                "CONFIG_TRUSTED_KEYS",
                "CONFIG_SECRET_KEY",
                "LKG_HMAC_KEY",
                "INITIAL_CONFIG_TIMEOUT_MS",
            ],
        )
        self.assertIn("CONFIG_SECRET_KEY must decode to 32 bytes (got 31)", problems)
        self.assertIn("LKG_HMAC_KEY must decode to at least 16 bytes (got 5)", problems)
        self.assertIn("CONFIG_TRUSTED_KEYS item 1 must be id:base64Key", problems)
        text = str(caught.exception)
        for key in (PUBLIC_KEY, secret):
            self.assertNotIn(key, text)

    def test_reads_the_freshness_and_key_rotation_variables(self) -> None:
        defaults = options_from_env(valid_env())
        self.assertEqual((defaults.max_staleness_s, defaults.previous_secret_keys, defaults.lkg_hmac_keys_previous), (300, (), ()))
        old_secret = base64.b64encode(bytes(range(2, 34))).decode()
        old_hmac = base64.b64encode(b"o" * 16).decode()
        sut = options_from_env(
            valid_env(
                CONFIG_MAX_STALENESS=" 0 ",
                CONFIG_SECRET_KEYS_PREVIOUS=f"{old_secret}, {SECRET_KEY},",
                LKG_HMAC_KEYS_PREVIOUS=f" {old_hmac} ",
            )
        )
        self.assertEqual(sut.max_staleness_s, 0)
        self.assertEqual(sut.previous_secret_keys, (bytes(range(2, 34)), bytes(range(1, 33))))
        self.assertEqual(sut.lkg_hmac_keys_previous, (b"o" * 16,))

    def test_names_each_bad_freshness_or_previous_key_item(self) -> None:
        short = base64.b64encode(b"s" * 15).decode()
        with self.assertRaises(ConfigEnvironmentError) as caught:
            options_from_env(
                valid_env(
                    CONFIG_MAX_STALENESS="5m",
                    CONFIG_SECRET_KEYS_PREVIOUS=f"{SECRET_KEY},{short}",
                    LKG_HMAC_KEYS_PREVIOUS=f"{HMAC_KEY},not base64!,{short}",
                )
            )
        self.assertEqual(
            caught.exception.problems,
            [
                "CONFIG_SECRET_KEYS_PREVIOUS item 2 must decode to 32 bytes (got 15)",
                "LKG_HMAC_KEYS_PREVIOUS item 2 is not valid base64",
                "LKG_HMAC_KEYS_PREVIOUS item 3 must decode to at least 16 bytes (got 15)",
                'CONFIG_MAX_STALENESS must be a whole number of seconds from 0 (off) to 31536000 (got "5m")',
            ],
        )
        self.assertNotIn(short, str(caught.exception))
        with self.assertRaises(ConfigEnvironmentError) as caught:
            options_from_env(valid_env(CONFIG_SECRET_KEY=None, CONFIG_SECRET_KEYS_PREVIOUS=SECRET_KEY, CONFIG_MAX_STALENESS="-1"))
        self.assertEqual([p.split(" ")[0] for p in caught.exception.problems], ["CONFIG_SECRET_KEYS_PREVIOUS", "CONFIG_MAX_STALENESS"])
        self.assertIn("without CONFIG_SECRET_KEY", caught.exception.problems[0])

    def test_a_trusted_key_list_names_the_bad_item(self) -> None:
        cases = {
            f"a:{PUBLIC_KEY},a:{PUBLIC_KEY}": "CONFIG_TRUSTED_KEYS item 2 repeats id a (first at item 1)",
            f"a:{PUBLIC_KEY},b:{PUBLIC_KEY[:-1]}": "CONFIG_TRUSTED_KEYS item 2 (b) is not valid base64",
            f"-a:{PUBLIC_KEY}": "CONFIG_TRUSTED_KEYS item 1 has an invalid id",
            " , ": "CONFIG_TRUSTED_KEYS must list at least one kid:base64Ed25519PublicKey",
        }
        for value, problem in cases.items():
            with self.subTest(value):
                with self.assertRaises(ConfigEnvironmentError) as caught:
                    options_from_env(valid_env(CONFIG_TRUSTED_KEYS=value))
                self.assertTrue(caught.exception.problems[0].startswith(problem), caught.exception.problems)

    def test_reads_and_checks_a_schema_file(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            good = os.path.join(directory, "good.json")
            with open(good, "w") as handle:
                json.dump({"type": "object", "properties": {"n": {"type": "integer", "default": 1}}}, handle)
            self.assertEqual(options_from_env(valid_env(SERVICE_SCHEMA_FILE=good)).schema["properties"]["n"]["default"], 1)
            bad = os.path.join(directory, "bad.json")
            with open(bad, "w") as handle:
                json.dump({"type": "object", "properties": {"n": {"type": "string", "format": "uri"}}}, handle)
            for path, problem in ((bad, "is not a usable JSON Schema"), (os.path.join(directory, "none.json"), "cannot be read (ENOENT)")):
                with self.subTest(path):
                    with self.assertRaises(ConfigEnvironmentError) as caught:
                        options_from_env(valid_env(SERVICE_SCHEMA_FILE=path))
                    self.assertIn(problem, caught.exception.problems[0])
                    self.assertTrue(caught.exception.problems[0].startswith("SERVICE_SCHEMA_FILE "))

    def test_code_that_knows_its_service_and_schema(self) -> None:
        schema = {"type": "object", "properties": {}}
        self.assertEqual(options_from_env(valid_env(SERVICE_NAME=None), service="billing-worker").service, "billing-worker")
        with self.assertRaises(ConfigEnvironmentError) as caught:
            options_from_env(valid_env(SERVICE_SCHEMA_FILE="/x.json"), service="other-worker", schema=schema)
        self.assertEqual(
            caught.exception.problems,
            [
                'SERVICE_NAME is "billing-worker", but this worker is other-worker',
                "SERVICE_SCHEMA_FILE is set, but this worker brings its own schema: unset it",
            ],
        )

    def test_the_example_worker_refuses_to_start_naming_each_bad_variable(self) -> None:
        import subprocess

        from support import EXAMPLE_WORKER, PYTHON

        env = {"PATH": os.environ.get("PATH", ""), "SERVICE_NAME": "billing-worker", "LKG_HMAC_KEY": "not base64!"}
        result = subprocess.run([PYTHON, EXAMPLE_WORKER], env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stdout, "")
        self.assertEqual(
            result.stderr.splitlines(),
            [
                "Invalid environment variables:",
                "  - MQTT_URL is required (mqtt://host:1883, mqtts://…, ws://…, wss://…)",
                "  - CONFIG_TRUSTED_KEYS is required (kid:base64Ed25519PublicKey,…; GET /api/keys lists them)",
                "  - LKG_HMAC_KEY is not valid base64",
            ],
        )

    def test_the_default_instance_id_is_host_and_pid(self) -> None:
        from config_client import default_instance_id

        self.assertEqual(default_instance_id("web 01.example.com", 42), "web-01.example.com-42")
        self.assertEqual(default_instance_id("__", 7), "worker-7")
        self.assertEqual(len(default_instance_id("h" * 300, 12345)), 128)


if __name__ == "__main__":
    unittest.main()
