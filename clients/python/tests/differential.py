"""Differential check of the Python validator against the Node SDK's (run by the e2e spec).

The shared vectors pin one case per keyword; this generates hundreds of random schemas (every
supported keyword, nested, with defaults, $refs, secrets, and some broken keyword values) and
documents for them, so that any difference from Node's checkServiceSchema / validateConfig /
canonicalJson shows up:

    python3 differential.py generate SEED COUNT   > cases.jsonl   (one [schemaText, [valueText…]] a line)
    (the Node side computes the expected results, clients/python/test/python-worker.e2e-spec.ts)
    python3 differential.py compare < results.jsonl                (each {"case": …, "expected": …})

``compare`` prints ``{"compared", "schemas", "mismatches": [...]}`` and exits 1 on a mismatch.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config_client.jsvalue import canonical_json, js_stringify, parse_json  # noqa: E402
from config_client.schema import validate_config  # noqa: E402
from config_client.service_schema import check_service_schema, schema_hash_of  # noqa: E402

SERVICE = "fuzz-svc"
NAMES = ["a", "b", "c", "x_y", "10", "2", "é", "Z", "toString", "n", "😀"]
STRINGS = ["", "a", "ab", "abc", "😀", "é", "a\nb", "A1", "xxxxx", "  ", "-", "1", "e\u0301", "\ufe0f"]
NUMBERS = [0, 1, -1, 2, 0.5, 0.1, 0.3, 1e21, 3, 10, 100, 0.25, 1.5, -0.5, 7, 1e-7, 0.07, 19.99, 0.075]
PATTERNS = ["^a", "b$", "^[a-z]+$", "\\d", "^.{2}$", "\\p{Lu}", "^\\w*$", "(", "a|b", "^\\S+$", "[^\\s]"]
KEYWORDS = [
    "type", "minimum", "minLength", "maxItems", "required", "enum", "anyOf", "items", "properties",
    "pattern", "uniqueItems", "multipleOf", "x-sum", "x-not-less-than", "writeOnly", "x-secret", "$ref",
    "title", "default", "examples", "deprecated", "$id", "$comment", "additionalProperties",
    "propertyNames", "format", "maxProperties",
]  # fmt: skip


class Generator:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def value(self, depth: int = 0) -> Any:
        r = self.r
        kind = r.choice(["n", "s", "b", "null", "arr", "obj"] if depth < 3 else ["n", "s", "b", "null"])
        if kind == "n":
            return r.choice(NUMBERS)
        if kind == "s":
            return r.choice(STRINGS)
        if kind == "b":
            return r.choice([True, False])
        if kind == "null":
            return None
        if kind == "arr":
            return [self.value(depth + 1) for _ in range(r.randint(0, 3))]
        return {r.choice(NAMES): self.value(depth + 1) for _ in range(r.randint(0, 3))}

    def schema(self, depth: int = 0, want: str = "", mutate: bool = False) -> dict:
        r = self.r
        leaves = ["number", "integer", "string", "boolean", "enum", "const"]
        kind = want or r.choice(leaves + (["array", "object", "null", "union", "anyof", "map"] if depth < 3 else []))
        s: dict = {}
        if kind in ("number", "integer"):
            s["type"] = kind
            for key in ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]:
                if r.random() < 0.25:
                    s[key] = r.choice([0.1, 0.5, 2, 0.01, 3, 1e-7]) if key == "multipleOf" else r.choice([0, 1, 2, 0.1, 0.5, 10])
            if r.random() < 0.5:
                s["default"] = r.choice(NUMBERS) if r.random() < 0.8 else "x"
        elif kind == "string":
            s["type"] = "string"
            if r.random() < 0.3:
                s["minLength"] = r.randint(0, 3)
            if r.random() < 0.3:
                s["maxLength"] = r.randint(0, 4)
            if r.random() < 0.3:
                s["pattern"] = r.choice(PATTERNS)
            if r.random() < 0.3:
                s["default"] = r.choice(STRINGS)
            if r.random() < 0.15:
                s = {"type": "string", "writeOnly": True}
                if r.random() < 0.5:
                    s["default"] = ""
                if r.random() < 0.5:
                    s["maxLength"] = 3
        elif kind == "boolean":
            s["type"] = "boolean"
            if r.random() < 0.4:
                s["default"] = r.choice([True, False])
        elif kind == "null":
            s["type"] = "null"
        elif kind == "array":
            s["type"] = "array"
            if r.random() < 0.7:
                s["items"] = self.schema(depth + 1, mutate=mutate)
            if r.random() < 0.3:
                s["minItems"] = r.randint(0, 2)
            if r.random() < 0.3:
                s["maxItems"] = r.randint(0, 3)
            if r.random() < 0.3:
                s["uniqueItems"] = True
            if r.random() < 0.3:
                s["default"] = []
        elif kind == "object":
            s["type"] = "object"
            props = {r.choice(NAMES): self.schema(depth + 1, mutate=mutate) for _ in range(r.randint(0, 4))}
            s["properties"] = props
            if r.random() < 0.5:
                s["additionalProperties"] = r.choice([False, True, self.schema(depth + 1, "number")])
            if r.random() < 0.3 and props:
                s["required"] = r.sample(list(props), r.randint(1, len(props)))
            if r.random() < 0.2:
                s["minProperties"] = r.randint(0, 2)
            if r.random() < 0.2:
                s["maxProperties"] = r.randint(0, 3)
            if r.random() < 0.2:
                s["propertyNames"] = {"pattern": r.choice(["^[a-z]+$", "^.$"]), "maxLength": 2}
            if r.random() < 0.2:
                s["x-sum"] = {"equals": 1, "tolerance": r.choice([0, 0.001, 0.1])}
            numbers = [k for k, v in props.items() if isinstance(v, dict) and v.get("type") in ("number", "integer")]
            if len(numbers) >= 2 and r.random() < 0.5:
                props[numbers[0]]["x-not-greater-than" if r.random() < 0.5 else "x-not-less-than"] = numbers[1]
            if r.random() < 0.2:
                s["default"] = self.value(2) if r.random() < 0.3 else {}
        elif kind == "union":
            s["type"] = r.sample(["string", "number", "null", "integer", "boolean", "object", "array"], r.randint(1, 3))
        elif kind == "anyof":
            s["anyOf"] = [self.schema(depth + 1, mutate=mutate) for _ in range(r.randint(1, 3))]
            if r.random() < 0.5:
                s["anyOf"].append({"type": "null"})
            if r.random() < 0.3:
                s["default"] = None
        elif kind == "enum":
            s["enum"] = [self.value(2) for _ in range(r.randint(1, 3))]
            if r.random() < 0.3:
                s["type"] = r.choice(["string", "number"])
        elif kind == "const":
            s["const"] = self.value(2)
        elif kind == "map":
            s["type"] = "object"
            s["additionalProperties"] = self.schema(depth + 1, mutate=mutate)
            if r.random() < 0.3:
                s["maxProperties"] = 2
        if r.random() < 0.1:
            s["description"] = "d"
        if mutate and depth > 0 and r.random() < 0.08:
            s[r.choice(KEYWORDS)] = self.value(2)
        return s

    def instance(self, schema: Any, depth: int = 0) -> Any:
        r = self.r
        if r.random() < 0.25 or not isinstance(schema, dict):
            return self.value(depth)
        declared = schema.get("type")
        if isinstance(schema.get("enum"), list) and schema["enum"] and r.random() < 0.6:
            return r.choice(schema["enum"])
        if "const" in schema and r.random() < 0.6:
            return schema["const"]
        if isinstance(schema.get("anyOf"), list) and schema["anyOf"]:
            return self.instance(r.choice(schema["anyOf"]), depth)
        if isinstance(declared, list) and declared:
            declared = r.choice(declared)
        if declared in ("number", "integer"):
            return r.choice(NUMBERS)
        if declared == "string":
            return r.choice(STRINGS)
        if declared == "boolean":
            return r.choice([True, False])
        if declared == "null":
            return None
        if declared == "array":
            return [self.instance(schema.get("items", {}), depth + 1) for _ in range(r.randint(0, 3))]
        if declared == "object":
            result = {}
            properties = schema.get("properties")
            for key, child in (properties.items() if isinstance(properties, dict) else []):
                if r.random() < 0.7:
                    result[key] = self.instance(child, depth + 1)
            if r.random() < 0.3:
                result[r.choice(NAMES)] = self.value(depth + 1)
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and r.random() < 0.7:
                for _ in range(r.randint(0, 3)):
                    result[r.choice(NAMES)] = self.instance(extra, depth + 1)
            return result
        return self.value(depth)

    def case(self) -> List[Any]:
        mutate = self.r.random() < 0.3
        root = self.schema(0, "object", mutate)
        if self.r.random() < 0.3:
            root["$defs"] = {"D": self.schema(1, mutate=mutate)}
            root["properties"]["r"] = {"$ref": "#/$defs/D"}
        values = [self.instance(root) for _ in range(6)]
        return [js_stringify(root), [js_stringify(v) for v in values]]


def generate(seed: int, count: int) -> None:
    generator = Generator(seed)
    for _ in range(count):
        print(json.dumps(generator.case(), ensure_ascii=True))


def compare() -> int:
    compared = 0
    schemas = 0
    mismatches: List[dict] = []

    def mismatch(kind: str, schema_text: str, **detail: Any) -> None:
        if len(mismatches) < 10:
            mismatches.append({"kind": kind, "schema": schema_text, **detail})

    for line in sys.stdin:
        if not line.strip():
            continue
        record = json.loads(line)
        (schema_text, value_texts), expected = record["case"], record["expected"]
        schema = parse_json(schema_text)
        schemas += 1
        try:
            check = check_service_schema(SERVICE, "", schema)
        except Exception as error:  # Node threw too (its verifier turns that into `malformed`)
            if "throw" not in expected:
                mismatch("python threw", schema_text, error=type(error).__name__)
            continue
        if "throw" in expected and "hash" not in expected:
            mismatch("node threw", schema_text)
            continue
        if canonical_json(schema) != expected["canonical"] or schema_hash_of(schema) != expected["hash"]:
            mismatch("canonical JSON", schema_text, node=expected["canonical"], python=canonical_json(schema))
        if "throw" in expected:
            mismatch("node threw", schema_text)
            continue
        if expected["check"] != "ok":
            paths = sorted(set(p.path for p in check.problems))
            if check.ok or paths != sorted(set(expected["check"])):
                mismatch("schema check", schema_text, node=expected["check"], python=paths)
            continue
        if not check.ok:
            mismatch("schema check", schema_text, node="ok", python=[p.message for p in check.problems])
            continue
        for value_text, result in zip(value_texts, expected["results"]):
            compared += 1
            try:
                got = validate_config(check.definition, parse_json(value_text))
            except Exception as error:
                if "throw" not in result:
                    mismatch("python threw", schema_text, value=value_text, error=type(error).__name__)
                continue
            if "throw" in result:
                mismatch("node threw", schema_text, value=value_text)
            elif got.ok != result["ok"]:
                mismatch("verdict", schema_text, value=value_text, node=result, python=[i.message for i in got.issues])
            elif got.ok and js_stringify(got.config) != result["config"]:
                mismatch("config", schema_text, value=value_text, node=result["config"], python=js_stringify(got.config))
            elif not got.ok and [i.to_json() for i in got.issues] != result["issues"]:
                mismatch("issues", schema_text, value=value_text, node=result["issues"], python=[i.to_json() for i in got.issues])
    print(json.dumps({"compared": compared, "schemas": schemas, "mismatches": mismatches}, ensure_ascii=False))
    return 1 if mismatches else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["generate"]:
        generate(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1:2] == ["compare"]:
        sys.exit(compare())
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
