"""A service's configuration schema: checked as the manager checks it, and its definition.

:func:`check_service_schema` is registry/service-schema.ts's ``checkServiceSchema``: a JSON
object of at most 160 KiB as canonical JSON, draft 2020-12, only the supported keywords, an
object at the root, property names usable as dotted paths, secrets (``writeOnly: true``) only
on strings reached through objects, ``x-`` keywords where they belong, well-formed keyword
values (the meta-schema), a schema that compiles, and defaults that satisfy it.
"""

from __future__ import annotations

import copy
import hashlib
import re
from typing import Any, List, Optional, Sequence

from .jsvalue import (
    canonical_json,
    has_lone_surrogate,
    is_integer_number,
    is_number,
    js_equal,
    js_keys,
    js_stringify,
)
from .schema import (
    FORBIDDEN_KEYS,
    Issue,
    SchemaCompileError,
    SchemaWalker,
    Validator,
    default_config,
    validate_config,
)

MAX_SCHEMA_BYTES = 160 * 1024
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SERVICE_NAME_PATTERN = re.compile(r"[a-z][a-z0-9-]{1,62}")

SUPPORTED_KEYWORDS = frozenset(
    [
        "$schema", "$id", "$defs", "$ref", "$comment", "title", "description", "default",
        "examples", "deprecated", "readOnly", "writeOnly",
        "type", "enum", "const", "anyOf",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "minLength", "maxLength", "pattern",
        "items", "minItems", "maxItems", "uniqueItems",
        "properties", "required", "additionalProperties", "propertyNames", "minProperties",
        "maxProperties",
        "x-sum", "x-not-greater-than", "x-not-less-than", "x-secret",
    ]
)  # fmt: skip

_SCHEMA_VALUED = ("items", "additionalProperties", "propertyNames")
_SCHEMA_MAPS = ("properties", "$defs")
_PROPERTY_NAME = re.compile(r"[^.]{1,100}")
_REFERENCE = re.compile(r"#/\$defs/([^/]+)")
_MAX_SCHEMA_DEPTH = 32
_MAX_PROBLEMS = 50
_SIMPLE_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")


def schema_hash_of(json_schema: Any) -> str:
    """``sha256:`` + hex SHA-256 of the canonical JSON of a schema."""
    return "sha256:" + hashlib.sha256(canonical_json(json_schema).encode("utf-8", "surrogatepass")).hexdigest()


class ServiceDefinition:
    """Everything validation needs about one service's configuration (service-definition.ts)."""

    def __init__(self, name: str, json_schema: dict, description: str = "") -> None:
        if not SERVICE_NAME_PATTERN.fullmatch(name):
            raise ValueError(f"service name {name!r} must match ^[a-z][a-z0-9-]{{1,62}}$")
        self.name = name
        self.description = description
        self.json_schema = copy.deepcopy(json_schema)
        walker = SchemaWalker(self.json_schema)
        self.secret_paths: Sequence[str] = tuple(walker.secret_paths())
        self.map_paths: Sequence[str] = tuple(walker.map_paths())
        self.schema_hash = schema_hash_of(self.json_schema)
        self._validator: Optional[Validator] = None

    @property
    def validator(self) -> Validator:
        """The compiled validator (raises SchemaCompileError for a schema Ajv cannot compile)."""
        if self._validator is None:
            self._validator = Validator(self.json_schema)
        return self._validator

    def defaults(self) -> dict:
        """The default configuration, without secrets."""
        return default_config(self.json_schema)

    def secret_defaults(self) -> dict:
        """The default of each secret path ('' when the schema gives none): "not set"."""
        walker = SchemaWalker(self.json_schema)
        result = {}
        for path in self.secret_paths:
            prop = walker.property_at(path)
            value = prop.get("default") if isinstance(prop, dict) else None
            result[path] = value if isinstance(value, str) else ""
        return result


class SchemaCheck:
    """The outcome of :func:`check_service_schema`: a definition, or the problems."""

    def __init__(self, definition: Optional[ServiceDefinition], problems: List[Issue], too_large: bool = False) -> None:
        self.definition = definition
        self.problems = problems
        self.too_large = too_large

    @property
    def ok(self) -> bool:
        return self.definition is not None


def check_service_schema(service: str, description: str, document: Any) -> SchemaCheck:
    """Checks a service's configuration schema and derives its definition (see module doc)."""
    problems: List[Issue] = []
    if not isinstance(document, dict):
        return SchemaCheck(None, [Issue("schema", "schema must be a JSON object (a JSON Schema)")])
    size = len(canonical_json(document).encode("utf-8", "surrogatepass"))
    if size > MAX_SCHEMA_BYTES:
        message = f"schema is {size} bytes as canonical JSON, more than the limit of {MAX_SCHEMA_BYTES}"
        return SchemaCheck(None, [Issue("schema", message)], too_large=True)
    if "$schema" in document and document["$schema"] != SCHEMA_DIALECT:
        problems.append(Issue("schema.$schema", f"schema.$schema must be {SCHEMA_DIALECT} (draft 2020-12) when given"))
    if document.get("type") != "object" or not isinstance(document.get("properties"), dict):
        problems.append(Issue("schema", 'schema must describe an object: type "object" with properties'))
    _StructureCheck(document, problems).schema(document, "schema", False, 0)
    if problems:
        return SchemaCheck(None, problems)
    problems.extend(meta_schema_problems(document))
    if problems:
        return SchemaCheck(None, problems)
    definition = ServiceDefinition(service, document, description)
    try:
        definition.validator
    except SchemaCompileError as error:
        return SchemaCheck(None, [Issue("schema", f"schema does not compile: {str(error)[:300]}")])
    defaults = validate_config(definition, definition.defaults())
    if not defaults.ok:
        for issue in defaults.issues:
            problems.append(
                Issue(f"default.{issue.path}", f"the defaults do not satisfy the schema: {issue.message}")
            )
        return SchemaCheck(None, problems)
    return SchemaCheck(definition, [])


class _StructureCheck:
    def __init__(self, root: dict, problems: List[Issue]) -> None:
        self.root = root
        self.problems = problems

    def schema(self, value: Any, path: str, in_list: bool, depth: int) -> None:
        if isinstance(value, bool):
            return
        if not isinstance(value, dict):
            self.problem(path, "must be a schema (a JSON object)")
            return
        if depth > _MAX_SCHEMA_DEPTH:
            self.problem(path, f"is nested deeper than {_MAX_SCHEMA_DEPTH} levels")
            return
        for keyword in js_keys(value):
            if keyword not in SUPPORTED_KEYWORDS:
                self.problem(f"{path}.{keyword}", f'uses the unsupported keyword "{keyword}"')
        if isinstance(value.get("$ref"), str):
            self.reference(value["$ref"], f"{path}.$ref")
        for keyword in _SCHEMA_VALUED:
            if keyword in value:
                child_in_list = in_list or keyword != "propertyNames"
                self.schema(value[keyword], f"{path}.{keyword}", child_in_list, depth + 1)
        if "anyOf" in value:
            branches = value["anyOf"]
            if not isinstance(branches, list):
                self.problem(f"{path}.anyOf", "must be a list of schemas")
            else:
                for i, child in enumerate(branches):
                    self.schema(child, f"{path}.anyOf.{i}", in_list, depth + 1)
        for keyword in _SCHEMA_MAPS:
            if keyword not in value:
                continue
            entries = value[keyword]
            if not isinstance(entries, dict):
                self.problem(f"{path}.{keyword}", "must be an object of schemas")
                continue
            for name in js_keys(entries):
                if keyword == "properties":
                    self.property_name(name, f"{path}.properties")
                self.schema(entries[name], f"{path}.{keyword}.{name}", in_list, depth + 1)
        self.secret(value, path, in_list)
        self.extensions(value, path)

    def reference(self, ref: str, path: str) -> None:
        match = _REFERENCE.fullmatch(ref)
        defs = self.root.get("$defs")
        if match is None:
            self.problem(path, f'"{ref}" is not supported: only local references like #/$defs/Name')
        elif not isinstance(defs, dict) or match.group(1) not in defs:
            self.problem(path, f'"{ref}" points at nothing in $defs')

    def property_name(self, name: str, path: str) -> None:
        if not _PROPERTY_NAME.fullmatch(name) or name in FORBIDDEN_KEYS or has_lone_surrogate(name):
            self.problem(
                path,
                f"has the property name {_quote(name)}: names are 1 to 100 characters without \".\" "
                "and not __proto__, constructor or prototype",
            )

    def secret(self, schema: dict, path: str, in_list: bool) -> None:
        if schema.get("writeOnly") is not True and schema.get("x-secret") is not True:
            return
        if schema.get("type") != "string":
            self.problem(path, 'is a secret (writeOnly) but not of type "string": secrets are strings')
        if in_list:
            self.problem(path, "is a secret inside an array or map: secrets live at fixed paths")
        if schema.get("writeOnly") is not True:
            self.problem(path, "has x-secret without writeOnly: true")
        for keyword in ("default", "examples", "const", "enum"):
            allowed = keyword == "default" and schema.get("default") == "" and isinstance(schema.get("default"), str)
            if keyword in schema and not allowed:
                self.problem(
                    f"{path}.{keyword}",
                    "is not allowed on a secret: the schema is published in clear, secrets are set through their endpoint",
                )

    def extensions(self, schema: dict, path: str) -> None:
        if "x-sum" in schema:
            rule = schema["x-sum"]
            valid = (
                isinstance(rule, dict)
                and is_number(rule.get("equals"))
                and is_number(rule.get("tolerance"))
                and rule["tolerance"] >= 0
                and all(k in ("equals", "tolerance") for k in rule)
            )
            if not valid:
                self.problem(f"{path}.x-sum", "must be { equals: number, tolerance: number >= 0 }")
            if schema.get("type") != "object":
                self.problem(f"{path}.x-sum", "belongs on an object schema")
        for keyword in ("x-not-greater-than", "x-not-less-than"):
            if keyword not in schema:
                continue
            sibling = schema[keyword]
            if not isinstance(sibling, str) or sibling == "":
                self.problem(f"{path}.{keyword}", "must name a sibling property")
            if schema.get("type") not in ("number", "integer"):
                self.problem(f"{path}.{keyword}", "belongs on a number or integer property")

    def problem(self, path: str, message: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(Issue(path, f"{path} {message}"))


def _quote(text: str) -> str:
    return js_stringify(text)


# --- the draft 2020-12 meta-schema, for the supported keywords -------------------------------


def meta_schema_problems(document: Any, root: str = "schema") -> List[Issue]:
    """Where a schema breaks the JSON Schema meta-schema, at dotted paths under ``root``."""
    problems: List[Issue] = []
    seen = set()

    def add(path: str, message: str) -> None:
        text = f"{path} {message}"
        if text not in seen:
            seen.add(text)
            problems.append(Issue(path, text))

    def non_negative_integer(value: Any, path: str) -> None:
        if not is_integer_number(value):
            add(path, "must be integer")
        elif value < 0:
            add(path, "must be >= 0")

    def type_problems(declared: Any, path: str) -> None:
        # anyOf: [simpleTypes (an enum), { type: array, items: simpleTypes, minItems: 1, uniqueItems }]
        if isinstance(declared, str) and declared in _SIMPLE_TYPES:
            return
        branch: List[Issue] = []
        if not isinstance(declared, list):
            branch.append(Issue(path, "must be array"))
        else:
            for i, item in enumerate(declared):
                if not (isinstance(item, str) and item in _SIMPLE_TYPES):
                    branch.append(Issue(f"{path}.{i}", "must be equal to one of the allowed values"))
            if not declared:
                branch.append(Issue(path, "must NOT have fewer than 1 items"))
            for i in range(len(declared) - 1, 0, -1):
                j = next((j for j in range(i - 1, -1, -1) if js_equal(declared[i], declared[j])), None)
                if j is not None:
                    branch.append(Issue(path, f"must NOT have duplicate items (items ## {j} and {i} are identical)"))
                    break
            if not branch:
                return
        add(path, "must be equal to one of the allowed values")
        for issue in branch:
            add(issue.path, issue.message)
        add(path, "must match a schema in anyOf")

    def visit(schema: Any, path: str, depth: int) -> None:
        if depth > 64:
            return
        if isinstance(schema, bool):
            return
        if not isinstance(schema, dict):
            add(path, "must be object,boolean")
            return
        for keyword in ("$schema", "$ref", "$comment", "title", "description"):
            if keyword in schema and not isinstance(schema[keyword], str):
                add(f"{path}.{keyword}", "must be string")
        if "$id" in schema:
            if not isinstance(schema["$id"], str):
                add(f"{path}.$id", "must be string")
            elif not re.fullmatch(r"[^#]*#?", schema["$id"]):
                add(f"{path}.$id", 'must match pattern "^[^#]*#?$"')
        for keyword in ("deprecated", "readOnly", "writeOnly", "uniqueItems"):
            if keyword in schema and not isinstance(schema[keyword], bool):
                add(f"{path}.{keyword}", "must be boolean")
        for keyword in ("examples", "enum"):
            if keyword in schema and not isinstance(schema[keyword], list):
                add(f"{path}.{keyword}", "must be array")
        if "type" in schema:
            type_problems(schema["type"], f"{path}.type")
        if "multipleOf" in schema:
            if not is_number(schema["multipleOf"]):
                add(f"{path}.multipleOf", "must be number")
            elif not schema["multipleOf"] > 0:
                add(f"{path}.multipleOf", "must be > 0")
        for keyword in ("maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum"):
            if keyword in schema and not is_number(schema[keyword]):
                add(f"{path}.{keyword}", "must be number")
        for keyword in ("maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minProperties"):
            if keyword in schema:
                non_negative_integer(schema[keyword], f"{path}.{keyword}")
        if "pattern" in schema and not isinstance(schema["pattern"], str):
            add(f"{path}.pattern", "must be string")
        if "required" in schema:
            required = schema["required"]
            if not isinstance(required, list):
                add(f"{path}.required", "must be array")
            else:
                for i, item in enumerate(required):
                    if not isinstance(item, str):
                        add(f"{path}.required.{i}", "must be string")
                # Ajv's uniqueItems skips items of the wrong type (its fast path for strings).
                names = [x for x in required if isinstance(x, str)]
                if len(set(names)) != len(names):
                    add(f"{path}.required", "must NOT have duplicate items")
        if "anyOf" in schema:
            branches = schema["anyOf"]
            if not isinstance(branches, list):
                add(f"{path}.anyOf", "must be array")
            else:
                if not branches:
                    add(f"{path}.anyOf", "must NOT have fewer than 1 items")
                for i, branch in enumerate(branches):
                    visit(branch, f"{path}.anyOf.{i}", depth + 1)
        for keyword in ("items", "additionalProperties", "propertyNames"):
            if keyword in schema:
                visit(schema[keyword], f"{path}.{keyword}", depth + 1)
        for keyword in ("properties", "$defs"):
            if keyword in schema:
                entries = schema[keyword]
                if not isinstance(entries, dict):
                    add(f"{path}.{keyword}", "must be object")
                else:
                    for name in js_keys(entries):
                        visit(entries[name], f"{path}.{keyword}.{name}", depth + 1)

    visit(document, root, 0)
    return problems
