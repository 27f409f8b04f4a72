"""Configuration schemas: defaults, validation and error paths exactly as the Node SDK has them.

The Node SDK validates with Ajv (draft 2020-12, ``allErrors``, ``strict``, the contract's
``x-`` keywords) after filling in defaults itself (libs/contracts/src/validation). This module
reproduces that pipeline for the supported keywords (SUPPORTED_KEYWORDS):

1. :func:`check_json_safety`: forbidden keys, nesting deeper than 32, lone surrogates;
2. :func:`normalize_config`: every omitted property with a ``default`` gets it, an omitted
   object its properties' defaults, map entries sorted by key, secrets left out unless asked;
3. :class:`Validator`: Ajv's errors, keyword by keyword, in Ajv's order and with its quirks
   (types checked per keyword group, ``anyOf`` errors dropped once a branch passes, lengths in
   code points, ``pattern`` as an ECMAScript ``u`` regex, ``multipleOf`` within 1e-9);
4. :func:`issues_from_errors`: the issues the SDK reports, at dotted paths, with the same
   filtering (a nullable object's "must be null" branch, range rules on a value of the wrong
   type and sums over invalid fields are not reported).
"""

from __future__ import annotations

import math
import re
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from .ecma_regex import PatternError, compile_pattern
from .jsvalue import (
    INHERITED,
    OBJECT_PROTOTYPE_MEMBERS,
    is_finite_number,
    is_integer_number,
    is_number,
    is_plain_object,
    js_equal,
    js_keys,
    js_number_str,
    js_string,
    js_stringify,
    has_lone_surrogate,
    member,
    sorted_code_units,
    utf16_key,
)

# Deepest nesting accepted in a configuration document (the document itself is level 1).
MAX_CONFIG_DEPTH = 32
FORBIDDEN_KEYS = frozenset(["__proto__", "constructor", "prototype"])
_MAX_SAFETY_ISSUES = 20
_MAX_NORMALIZE_DEPTH = 64
# Slack added to an x-sum tolerance so that floating-point rounding of the sum never decides.
SUM_ROUNDING_SLACK = 1e-9
_ABSENT = object()


class Issue:
    """One problem with a configuration, at a dotted field path (``""`` for the document)."""

    __slots__ = ("path", "message")

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message

    def __repr__(self) -> str:
        return f"Issue({self.path!r}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Issue) and (self.path, self.message) == (other.path, other.message)

    def to_json(self) -> Dict[str, str]:
        return {"path": self.path, "message": self.message}


class SchemaCompileError(ValueError):
    """The schema cannot be compiled (Ajv would throw): an invalid pattern, a $ref cycle."""


class SchemaRecursionError(RuntimeError):
    """Validation or defaults recurse without end (Node overflows its stack on the same schema)."""


def join_path(parent: str, key: str) -> str:
    """``join_path('', 'a')`` is ``a``, ``join_path('a', 'b')`` is ``a.b``."""
    return key if parent == "" else f"{parent}.{key}"


def _js_truthy(value: Any) -> bool:
    if value is None or value is False:
        return False
    if is_number(value):
        return value != 0 and not (isinstance(value, float) and math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def _field(schema: Any, key: str, default: Any = None) -> Any:
    """``schema[key]`` for an object schema; boolean schemas have no keywords."""
    return schema.get(key, default) if isinstance(schema, dict) else default


# --- reading schemas (schema-walk.ts) -------------------------------------------------------


def _type_includes(schema: Any, type_name: str) -> bool:
    declared = _field(schema, "type")
    return type_name in declared if isinstance(declared, list) else declared == type_name


def is_object_schema(schema: Any) -> bool:
    """``type: object``, or properties without a type."""
    return _type_includes(schema, "object") or (
        _field(schema, "type") is None and _js_truthy(_field(schema, "properties"))
    )


def is_map_schema(schema: Any) -> bool:
    """An object with no fixed properties whose entries all follow one schema."""
    return (
        is_object_schema(schema)
        and _field(schema, "properties") is None
        and is_plain_object(_field(schema, "additionalProperties"))
    )


_REF = re.compile(r"#/\$defs/([^/]+)")


class SchemaWalker:
    """A configuration schema read the way defaults and paths need it: local $refs followed."""

    def __init__(self, root: Any) -> None:
        self.root = root

    def resolve(self, schema: Any) -> Any:
        """``schema`` with its local ``$ref`` followed (siblings of $ref stay visible)."""
        current = schema
        hops = 0
        while isinstance(current, dict) and current.get("$ref") is not None and hops < 32:
            target = self._target(current["$ref"])
            if target is None:
                return current
            siblings = {k: v for k, v in current.items() if k != "$ref"}
            merged = dict(target) if isinstance(target, dict) else {}
            merged.update(siblings)
            current = merged
            hops += 1
        return current

    def object_branch(self, schema: Any) -> Any:
        """The object branch of a nullable object, or the schema itself."""
        resolved = self.resolve(schema)
        branches = _field(resolved, "anyOf")
        if branches is None:
            return resolved
        objects = [b for b in (self.resolve(b) for b in branches) if is_object_schema(b)]
        return objects[0] if len(objects) == 1 else resolved

    def accepts_null(self, schema: Any) -> bool:
        resolved = self.resolve(schema)
        return _type_includes(resolved, "null") or any(
            _type_includes(self.resolve(b), "null") for b in (_field(resolved, "anyOf") or [])
        )

    def property_at(self, path: str) -> Any:
        """The schema of the property at a dotted path through objects, or None."""
        current: Any = self.root
        for key in path.split("."):
            properties = _field(self.object_branch(current), "properties") if current is not None else None
            current = properties[key] if isinstance(properties, dict) and key in properties else None
            if current is None:
                return None
        return self.resolve(current)

    def secret_paths(self) -> List[str]:
        """Dotted paths of the properties marked ``writeOnly: true`` (the secrets)."""
        paths: List[str] = []
        self._visit(self.root, "", lambda s, p: paths.append(p) if _field(s, "writeOnly") is True else None)
        return paths

    def map_paths(self) -> List[str]:
        paths: List[str] = []
        self._visit(self.root, "", lambda s, p: paths.append(p) if is_map_schema(s) else None)
        return paths

    def _visit(self, schema: Any, path: str, found: Any, depth: int = 0) -> None:
        if depth > 32:
            return
        obj = self.object_branch(schema)
        properties = _field(obj, "properties") or {}
        for name in js_keys(properties):
            child = properties[name]
            child_path = join_path(path, name)
            resolved = self.object_branch(child)
            found(resolved, child_path)
            if not is_map_schema(resolved):
                self._visit(child, child_path, found, depth + 1)

    def _target(self, ref: Any) -> Any:
        match = _REF.fullmatch(ref) if isinstance(ref, str) else None
        defs = _field(self.root, "$defs")
        if match is None or not isinstance(defs, dict):
            return None
        name = match.group(1).replace("~1", "/").replace("~0", "~")
        return defs.get(name)


# --- defaults (config-normalizer.ts) -------------------------------------------------------


def clone(value: Any) -> Any:
    """A deep copy of a JSON value."""
    if isinstance(value, list):
        return [clone(item) for item in value]
    if isinstance(value, dict):
        return {key: clone(value[key]) for key in js_keys(value)}
    return value


class _Normalizer:
    def __init__(self, walker: SchemaWalker, include_secrets: bool) -> None:
        self.walker = walker
        self.include_secrets = include_secrets

    def value(self, schema: Any, value: Any, depth: int) -> Any:
        if depth > _MAX_NORMALIZE_DEPTH:
            return value
        if isinstance(value, list):
            items = _field(self.walker.resolve(schema), "items")
            return [clone(item) if items is None else self.value(items, item, depth + 1) for item in value]
        if not isinstance(value, dict):
            return value
        obj = self.walker.object_branch(schema)
        if not is_object_schema(obj):
            return clone(value)
        return self.map(obj, value, depth) if is_map_schema(obj) else self.object(obj, value, depth)

    def missing(self, schema: Any, depth: int) -> Any:
        resolved = self.walker.resolve(schema)
        if _field(resolved, "writeOnly") is True:
            return _ABSENT
        if isinstance(resolved, dict) and "default" in resolved:
            return self.value(schema, clone(resolved["default"]), depth)
        obj = self.walker.object_branch(schema)
        if is_object_schema(obj) and not self.walker.accepts_null(schema) and not is_map_schema(obj):
            return self.object(obj, {}, depth)
        return _ABSENT

    def object(self, schema: Any, value: dict, depth: int) -> dict:
        result: Dict[str, Any] = {}
        properties = _field(schema, "properties") or {}
        for name in js_keys(properties):
            child = properties[name]
            given = value.get(name, _ABSENT)
            if _field(self.walker.resolve(child), "writeOnly") is True and not self.include_secrets:
                continue
            normalized = self.missing(child, depth + 1) if given is _ABSENT else self.value(child, given, depth + 1)
            if normalized is not _ABSENT:
                result[name] = normalized
        extra_schema = _field(schema, "additionalProperties")
        for key in js_keys(value):
            if key in properties:
                continue
            item = value[key]
            result[key] = self.value(extra_schema, item, depth + 1) if is_plain_object(extra_schema) else clone(item)
        return {key: result[key] for key in js_keys(result)}

    def map(self, schema: Any, value: dict, depth: int) -> dict:
        entry = schema["additionalProperties"]
        result = {key: self.value(entry, value[key], depth + 1) for key in sorted_code_units(value.keys())}
        return {key: result[key] for key in js_keys(result)}


def normalize_config(root: Any, value: Any, include_secrets: bool) -> Any:
    """The configuration a document stands for, with defaults filled in (see module doc)."""
    try:
        return _Normalizer(SchemaWalker(root), include_secrets).value(root, value, 0)
    except RecursionError:
        raise SchemaRecursionError("the schema's defaults recurse without end") from None


def default_config(json_schema: Any) -> dict:
    """The service's default configuration, without secrets."""
    return normalize_config(json_schema, {}, False)


# --- json-safety.ts ------------------------------------------------------------------------


def _escape_surrogates(text: str) -> str:
    return re.sub("[\ud800-\udfff]", lambda m: "\\u%04x" % ord(m.group()), text)


def _ill_formed(path: str) -> Issue:
    where = "the document" if path == "" else path
    return Issue(path, f"{where} is not well-formed Unicode (it holds a lone surrogate, which UTF-8 cannot encode)")


def check_json_safety(value: Any) -> List[Issue]:
    """Forbidden keys, nesting deeper than 32 levels, and strings that are not well-formed Unicode."""
    issues: List[Issue] = []
    _visit_safety(value, "", 1, issues)
    return issues


def _visit_safety(value: Any, path: str, depth: int, issues: List[Issue]) -> None:
    if len(issues) >= _MAX_SAFETY_ISSUES:
        return
    if isinstance(value, str):
        if has_lone_surrogate(value):
            issues.append(_ill_formed(path))
        return
    if not isinstance(value, (dict, list)):
        return
    if depth > MAX_CONFIG_DEPTH:
        issues.append(Issue(path, f"{path} is nested deeper than {MAX_CONFIG_DEPTH} levels"))
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _visit_safety(item, join_path(path, str(index)), depth + 1, issues)
        return
    for key in js_keys(value):
        if has_lone_surrogate(key):
            issues.append(_ill_formed(join_path(path, _escape_surrogates(key))))
        else:
            key_path = join_path(path, key)
            if key in FORBIDDEN_KEYS:
                issues.append(Issue(key_path, f"{key_path} is a forbidden key"))
            else:
                _visit_safety(value[key], key_path, depth + 1, issues)
        if len(issues) >= _MAX_SAFETY_ISSUES:
            return


# --- Ajv, for the supported keywords -------------------------------------------------------


class AjvError:
    """One error as Ajv reports it (what issues_from_errors reads)."""

    __slots__ = ("keyword", "path", "params", "schema", "property_name", "message")

    def __init__(
        self,
        keyword: str,
        path: Tuple[str, ...],
        params: Dict[str, Any],
        schema: Any,
        property_name: Optional[str],
        message: str,
    ) -> None:
        self.keyword = keyword
        self.path = path
        self.params = params
        self.schema = schema
        self.property_name = property_name
        self.message = message


_UNTYPED = ("$ref", "const", "enum", "anyOf")
_GROUPS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    (
        "number",
        ("maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum", "multipleOf", "x-not-greater-than", "x-not-less-than"),
    ),
    ("string", ("maxLength", "minLength", "pattern")),
    ("array", ("maxItems", "minItems", "uniqueItems", "items")),
    ("object", ("maxProperties", "minProperties", "required", "propertyNames", "additionalProperties", "properties", "x-sum")),
)
_GROUP_OF = {name: keywords for name, keywords in _GROUPS}
_COMPARISONS = {
    "maximum": ("<=", lambda a, b: a <= b),
    "minimum": (">=", lambda a, b: a >= b),
    "exclusiveMaximum": ("<", lambda a, b: a < b),
    "exclusiveMinimum": (">", lambda a, b: a > b),
}
# Annotations Ajv does not count as rules beside a $ref (a cycle of such schemas never ends).
_REF_TRANSPARENT = frozenset(
    ["title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly", "$defs", "$id", "$schema"]
)


def _has_type(data: Any, type_name: str) -> bool:
    if data is INHERITED:
        return False
    if type_name == "null":
        return data is None
    if type_name == "boolean":
        return isinstance(data, bool)
    if type_name == "string":
        return isinstance(data, str)
    if type_name == "number":
        return is_finite_number(data)
    if type_name == "integer":
        return is_integer_number(data)
    if type_name == "array":
        return isinstance(data, list)
    if type_name == "object":
        return isinstance(data, dict)
    return False


def _types_of(schema: dict) -> List[str]:
    declared = schema.get("type")
    if declared is None:
        return []
    return list(declared) if isinstance(declared, list) else [declared]


# multipleOf: x / m within 1e-9 of an integer (Ajv's multipleOfPrecision 9).
MULTIPLE_OF_TOLERANCE = 1e-9


def is_multiple_of(value: Any, divisor: Any) -> bool:
    """Ajv's ``multipleOf`` with precision 9: ``|Math.round(q) - q| <= 1e-9`` for ``q = x / m``."""
    if divisor == 0:
        return False
    quotient = float(value) / float(divisor)
    if not math.isfinite(quotient):
        return True  # Infinity - Infinity is NaN, and NaN > 1e-9 is false in JavaScript
    return not abs(_js_round(quotient) - quotient) > MULTIPLE_OF_TOLERANCE


def sum_of_numbers(value: dict) -> float:
    """What x-sum adds up: every own property whose value is a finite number."""
    total = 0.0
    for key in js_keys(value):
        part = value[key]
        if is_finite_number(part):
            total += float(part)
    return total


def is_within_sum(total: float, rule: dict) -> bool:
    """The x-sum rule: ``total`` within ``tolerance`` of ``equals``, inclusive, plus 1e-9."""
    return abs(total - rule["equals"]) <= rule["tolerance"] + SUM_ROUNDING_SLACK


def _sibling(parent: Any, key: str) -> Any:
    """``parentData[key]`` as JavaScript reads it (an array's ``length`` and indices included)."""
    if isinstance(parent, dict):
        return member(parent, key)
    if isinstance(parent, list):
        if key == "length":
            return len(parent)
        if re.fullmatch(r"0|[1-9][0-9]*", key) and int(key) < len(parent):
            return parent[int(key)]
        return INHERITED
    return None


class Validator:
    """A compiled configuration schema: Ajv's verdict and errors for the supported keywords."""

    def __init__(self, root: Any) -> None:
        self.root = root
        _compile_check(root)

    def validate(self, data: Any) -> Tuple[bool, List[AjvError]]:
        errors: List[AjvError] = []
        try:
            valid = self._validate(self.root, data, (), None, None, errors)
        except RecursionError:
            raise SchemaRecursionError("validation recurses without end (a $ref cycle)") from None
        return valid, errors

    def _error(
        self,
        errors: List[AjvError],
        keyword: str,
        path: Tuple[str, ...],
        pname: Optional[str],
        params: Dict[str, Any],
        schema: Any,
        message: str,
    ) -> None:
        errors.append(AjvError(keyword, path, params, schema, pname, message))

    def _validate(
        self,
        schema: Any,
        data: Any,
        path: Tuple[str, ...],
        parent: Any,
        pname: Optional[str],
        errors: List[AjvError],
    ) -> bool:
        if schema is True:
            return True
        if schema is False:
            self._error(errors, "false schema", path, pname, {}, False, "boolean schema is false")
            return False
        if not isinstance(schema, dict):
            return True
        start = len(errors)
        types = _types_of(schema)
        group_used = {name: any(k in schema for k in keywords) for name, keywords in _GROUPS}
        checked_types = len(types) > 0 and not (
            len(types) == 1 and types[0] in _GROUP_OF and group_used[types[0]]
        )
        type_message = "must be " + ",".join(types)
        if checked_types and not any(_has_type(data, t) for t in types):
            self._error(errors, "type", path, pname, {"type": schema["type"]}, schema["type"], type_message)

        for keyword in _UNTYPED:
            if keyword in schema:
                self._untyped(keyword, schema, data, path, parent, pname, errors)

        for group, keywords in _GROUPS:
            if not group_used[group]:
                continue
            if _has_type(data, group):
                for keyword in keywords:
                    if keyword in schema:
                        getattr(self, "_" + group)(keyword, schema, data, path, parent, pname, errors)
            elif len(types) == 1 and types[0] == group and not checked_types:
                self._error(errors, "type", path, pname, {"type": schema["type"]}, schema["type"], type_message)
        return len(errors) == start

    def _untyped(self, keyword: str, schema: dict, data: Any, path, parent, pname, errors) -> None:
        value = schema[keyword]
        if keyword == "$ref":
            target = SchemaWalker(self.root)._target(value)
            self._validate(target, data, path, parent, pname, errors)
        elif keyword == "const":
            if not js_equal(data, value):
                self._error(errors, "const", path, pname, {"allowedValue": value}, value, "must be equal to constant")
        elif keyword == "enum":
            if not any(js_equal(data, option) for option in value):
                self._error(errors, "enum", path, pname, {"allowedValues": value}, value, "must be equal to one of the allowed values")
        elif keyword == "anyOf":
            before = len(errors)
            for branch in value:
                if self._validate(branch, data, path, parent, pname, errors):
                    del errors[before:]
                    return
            self._error(errors, "anyOf", path, pname, {}, value, "must match a schema in anyOf")

    def _number(self, keyword: str, schema: dict, data: Any, path, parent, pname, errors) -> None:
        limit = schema[keyword]
        if keyword in _COMPARISONS:
            comparison, holds = _COMPARISONS[keyword]
            if not holds(data, limit):
                self._error(errors, keyword, path, pname, {"comparison": comparison, "limit": limit}, limit, f"must be {comparison} {js_number_str(limit)}")
        elif keyword == "multipleOf":
            if not is_multiple_of(data, limit):
                self._error(errors, keyword, path, pname, {"multipleOf": limit}, limit, f"must be multiple of {js_number_str(limit)}")
        else:
            other = _sibling(parent, limit) if isinstance(limit, str) else None
            if is_finite_number(other):
                holds = data <= other if keyword == "x-not-greater-than" else data >= other
                if not holds:
                    self._error(errors, keyword, path, pname, {}, limit, f'must pass "{keyword}" keyword validation')

    def _string(self, keyword: str, schema: dict, data: str, path, parent, pname, errors) -> None:
        limit = schema[keyword]
        if keyword == "maxLength" and len(data) > limit:
            self._error(errors, keyword, path, pname, {"limit": limit}, limit, f"must NOT have more than {js_number_str(limit)} characters")
        elif keyword == "minLength" and len(data) < limit:
            self._error(errors, keyword, path, pname, {"limit": limit}, limit, f"must NOT have fewer than {js_number_str(limit)} characters")
        elif keyword == "pattern" and compile_pattern(limit).search(data) is None:
            self._error(errors, keyword, path, pname, {"pattern": limit}, limit, f'must match pattern "{limit}"')

    def _array(self, keyword: str, schema: dict, data: list, path, parent, pname, errors) -> None:
        value = schema[keyword]
        if keyword == "maxItems" and len(data) > value:
            self._error(errors, keyword, path, pname, {"limit": value}, value, f"must NOT have more than {js_number_str(value)} items")
        elif keyword == "minItems" and len(data) < value:
            self._error(errors, keyword, path, pname, {"limit": value}, value, f"must NOT have fewer than {js_number_str(value)} items")
        elif keyword == "uniqueItems" and value is True:
            duplicate = _find_duplicate(data, schema.get("items"))
            if duplicate is not None:
                i, j = duplicate
                self._error(errors, keyword, path, pname, {"i": i, "j": j}, value, f"must NOT have duplicate items (items ## {j} and {i} are identical)")
        elif keyword == "items":
            if value is True:
                return
            for index, item in enumerate(data):
                self._validate(value, item, path + (str(index),), data, pname, errors)

    def _object(self, keyword: str, schema: dict, data: dict, path, parent, pname, errors) -> None:
        value = schema[keyword]
        if keyword == "maxProperties" and len(data) > value:
            self._error(errors, keyword, path, pname, {"limit": value}, value, f"must NOT have more than {js_number_str(value)} properties")
        elif keyword == "minProperties" and len(data) < value:
            self._error(errors, keyword, path, pname, {"limit": value}, value, f"must NOT have fewer than {js_number_str(value)} properties")
        elif keyword == "required":
            for name in value:
                if not _present(data, name):
                    self._error(errors, keyword, path, pname, {"missingProperty": name}, value, f"must have required property '{name}'")
        elif keyword == "properties":
            for name in js_keys(value):
                if name == "__proto__":
                    continue
                if _present(data, name):
                    self._validate(value[name], member(data, name), path + (name,), data, pname, errors)
        elif keyword == "additionalProperties":
            if value is True:
                return
            known = schema.get("properties") or {}
            for key in js_keys(data):
                if key in known and key != "__proto__":
                    continue
                if value is False:
                    self._error(errors, keyword, path, pname, {"additionalProperty": key}, value, "must NOT have additional properties")
                else:
                    self._validate(value, data[key], path + (key,), data, pname, errors)
        elif keyword == "propertyNames":
            if value is True:
                return
            for key in js_keys(data):
                if not self._validate(value, key, path, data, key, errors):
                    self._error(errors, keyword, path, pname, {"propertyName": key}, value, "property name must be valid")
        elif keyword == "x-sum":
            if not is_within_sum(sum_of_numbers(data), value):
                self._error(errors, keyword, path, pname, {}, value, 'must pass "x-sum" keyword validation')


def _present(data: dict, name: str) -> bool:
    """``data[name] !== undefined``: own (null included) or inherited from Object.prototype."""
    return name in data or name in OBJECT_PROTOTYPE_MEMBERS


def _find_duplicate(data: list, items: Any) -> Optional[Tuple[int, int]]:
    """Ajv's uniqueItems: (i, j) of the duplicate it finds first, scanning from the end."""
    item_types = _types_of(items) if isinstance(items, dict) else []
    if item_types and not any(t in ("object", "array") for t in item_types):
        # Ajv's fast path: items of the declared types keyed by String(item).
        indices: Dict[str, int] = {}
        for i in range(len(data) - 1, -1, -1):
            item = data[i]
            if not any(_has_type(item, t) for t in item_types):
                continue
            key = js_string(item)
            if len(item_types) > 1 and isinstance(item, str):
                key += "_"
            if key in indices:
                return i, indices[key]
            # `indices["__proto__"] = i` sets nothing in JavaScript: that item is never found again.
            if key != "__proto__":
                indices[key] = i
        return None
    for i in range(len(data) - 1, -1, -1):
        for j in range(i - 1, -1, -1):
            if js_equal(data[i], data[j]):
                return i, j
    return None


def _subschemas(schema: Any) -> Iterable[Any]:
    if not isinstance(schema, dict):
        return
    for keyword in ("items", "additionalProperties", "propertyNames"):
        if keyword in schema:
            yield schema[keyword]
    for keyword in ("properties", "$defs"):
        if isinstance(schema.get(keyword), dict):
            yield from schema[keyword].values()
    if isinstance(schema.get("anyOf"), list):
        yield from schema["anyOf"]


def _compile_check(root: Any) -> None:
    """What makes Ajv's compile throw for a schema that passed the meta-schema."""
    walker = SchemaWalker(root)
    stack = [root]
    ids: List[str] = []
    while stack:
        schema = stack.pop()
        if not isinstance(schema, dict):
            continue
        if schema is not root and isinstance(schema.get("$id"), str):
            # The root's $id is dropped before compiling (its base is ""): a nested $id that
            # names "" again, or one another subschema already has, is ambiguous to Ajv.
            normalized = schema["$id"][:-1] if schema["$id"].endswith("#") else schema["$id"]
            if normalized == "" or normalized in ids:
                raise SchemaCompileError(f'reference "{normalized}" resolves to more than one schema')
            ids.append(normalized)
        if isinstance(schema.get("enum"), list) and not schema["enum"]:
            raise SchemaCompileError("enum must have non-empty array")
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            try:
                compile_pattern(pattern)
            except PatternError as error:
                raise SchemaCompileError(str(error)) from None
        if "x-secret" in schema and not isinstance(schema["x-secret"], bool):
            raise SchemaCompileError('x-secret value must be ["boolean"]')
        if "$ref" in schema:
            _check_ref_chain(walker, schema)
        stack.extend(_subschemas(schema))


def _check_ref_chain(walker: SchemaWalker, schema: dict) -> None:
    # A cycle of schemas that are nothing but a $ref (and annotations) never resolves: Ajv
    # overflows its stack compiling it.
    seen: List[int] = []
    current: Any = schema
    while isinstance(current, dict) and "$ref" in current:
        target = walker._target(current["$ref"])
        if not isinstance(target, dict) or "$ref" not in target:
            return
        if any(k not in _REF_TRANSPARENT and k != "$ref" for k in target):
            return
        if id(target) in seen:
            raise SchemaCompileError("Maximum call stack size exceeded")
        seen.append(id(target))
        current = target


# --- ajv-issues.ts -------------------------------------------------------------------------

_TYPE_WORDS = {
    "number": "a finite number",
    "integer": "an integer number",
    "boolean": "a boolean value",
    "string": "a string",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


def _path_of(error: AjvError) -> str:
    base = ".".join(error.path)
    if error.property_name is not None:
        return join_path(base, error.property_name)
    if error.keyword == "additionalProperties" and isinstance(error.params.get("additionalProperty"), str):
        return join_path(base, error.params["additionalProperty"])
    if error.keyword == "required" and isinstance(error.params.get("missingProperty"), str):
        return join_path(base, error.params["missingProperty"])
    return base


def _value_at(data: Any, path: str) -> Any:
    if path == "":
        return data
    current = data
    for key in path.split("."):
        if isinstance(current, dict):
            current = member(current, key)
        elif isinstance(current, list):
            current = _sibling(current, key)
        else:
            return None
    return current


def _js_round(value: float) -> float:
    """Math.round: the nearest integer, halves toward +Infinity."""
    floor = float(math.floor(value))
    return floor + 1.0 if value - floor >= 0.5 else floor


def _format_number(value: float) -> str:
    if not math.isfinite(value):
        return js_number_str(value)
    return js_number_str(_js_round(value * 1e6) / 1e6)


def _expected_types(error: AjvError) -> List[str]:
    declared = error.params.get("type")
    if isinstance(declared, list):
        return [js_string(t) for t in declared]
    return declared.split(",") if isinstance(declared, str) else []


def _type_message(types: Sequence[str]) -> str:
    words = [_TYPE_WORDS.get(t, t) for t in types]
    if len(words) == 1:
        return f"must be {words[0]}"
    return f"must be {', '.join(words[:-1])} or {words[-1]}"


def _label(path: str) -> str:
    return "configuration" if path == "" else path


def _message(error: AjvError, data: Any, path: str) -> str:
    value = _value_at(data, path)
    params = error.params
    keyword = error.keyword
    limit = params.get("limit")
    if keyword == "minimum":
        return f"must not be less than {js_string(limit)}"
    if keyword == "maximum":
        return f"must not be greater than {js_string(limit)}"
    if keyword == "exclusiveMinimum":
        return "must be a positive number" if limit == 0 else f"must be greater than {js_string(limit)}"
    if keyword == "exclusiveMaximum":
        return "must be a negative number" if limit == 0 else f"must be less than {js_string(limit)}"
    if keyword == "multipleOf":
        return f"must be a multiple of {js_string(params['multipleOf'])}"
    if keyword == "minLength":
        return "must not be empty" if limit == 1 else f"must be longer than or equal to {js_string(limit)} characters"
    if keyword == "maxLength":
        return f"must be shorter than or equal to {js_string(limit)} characters"
    if keyword == "pattern":
        return f"must match the pattern {params['pattern']}"
    if keyword == "enum":
        return "must be one of the following values: " + ", ".join(js_string(v) for v in params["allowedValues"])
    if keyword == "const":
        return f"must be {js_stringify(params['allowedValue'])}"
    if keyword == "minItems":
        return f"must contain at least {js_string(limit)} elements"
    if keyword == "maxItems":
        return f"must contain no more than {js_string(limit)} elements"
    if keyword == "uniqueItems":
        return "must not contain duplicate elements"
    if keyword == "minProperties":
        return f"must have at least {js_string(limit)} entries"
    if keyword == "maxProperties":
        count = len(value) if isinstance(value, (dict, list)) else 0
        return f"must have at most {js_string(limit)} entries (got {count})"
    if keyword == "required":
        return "is required"
    if keyword == "additionalProperties":
        return "is an unknown field"
    if keyword == "x-sum":
        total = sum_of_numbers(value) if isinstance(value, dict) else math.nan
        if isinstance(value, list):
            total = sum(float(v) for v in value if is_finite_number(v))
        return f"must sum to {js_string(error.schema['equals'])} (got {_format_number(total)})"
    if keyword in ("x-not-greater-than", "x-not-less-than"):
        other = js_string(error.schema)
        word = "less" if keyword == "x-not-greater-than" else "greater"
        segments = path.split(".")
        prop = segments.pop()
        sibling = _value_at(data, ".".join(segments + [other]))
        return (
            f"must be {word} than or equal to {other} "
            f"(got {prop} {_undefined_string(_value_at(data, path))}, {other} {_undefined_string(sibling)})"
        )
    return error.message or f"fails {keyword}"


def _undefined_string(value: Any) -> str:
    return "undefined" if value is None else js_string(value)


def issues_from_errors(errors: Sequence[AjvError], data: Any) -> List[Issue]:
    """Ajv's errors as the issues the SDK reports (ajv-issues.ts), sorted by path and message."""
    located = [(e, _path_of(e)) for e in errors if e.keyword not in ("anyOf", "if", "propertyNames")]

    def within(path: str, ancestor: str) -> bool:
        return path != "" if ancestor == "" else path.startswith(ancestor + ".")

    def has_content_errors(path: str) -> bool:
        return any(within(p, path) or (p == path and e.keyword != "type") for e, p in located)

    issues: List[Issue] = []
    types_at: Dict[str, List[str]] = {}
    for error, path in located:
        if error.keyword != "type" or has_content_errors(path):
            continue
        types = types_at.setdefault(path, [])
        for type_name in _expected_types(error):
            if type_name not in types:
                types.append(type_name)
    for path, types in types_at.items():
        issues.append(Issue(path, f"{_label(path)} {_type_message(types)}"))
    for error, path in located:
        if error.keyword == "type" or path in types_at:
            continue
        if error.keyword == "x-sum" and any(within(p, path) for _, p in located):
            continue
        text = _message(error, data, path)
        if error.property_name is not None:
            text = f"is not an allowed key: it {text}"
        issues.append(Issue(path, f"{_label(path)} {text}"))
    seen = set()
    unique: List[Issue] = []
    for issue in issues:
        key = (issue.path, issue.message)
        if key not in seen:
            seen.add(key)
            unique.append(issue)
    return sorted(unique, key=lambda i: (utf16_key(i.path), utf16_key(i.message)))


# --- validate-config.ts --------------------------------------------------------------------


class ValidationResult:
    """Either the normalized configuration (``ok``) or every issue found."""

    __slots__ = ("ok", "config", "issues")

    def __init__(self, ok: bool, config: Optional[dict] = None, issues: Optional[List[Issue]] = None) -> None:
        self.ok = ok
        self.config = config
        self.issues = issues or []

    @property
    def paths(self) -> List[str]:
        """The issues' paths, sorted and unique (as the test vectors list them)."""
        return sorted(set(i.path for i in self.issues), key=utf16_key)


def _secrets_in(service: str, secret_paths: Sequence[str], value: dict) -> List[Issue]:
    issues = []
    for path in secret_paths:
        current: Any = value
        present = True
        for key in path.split("."):
            if not isinstance(current, dict) or key not in current:
                present = False
                break
            current = current[key]
        if present:
            issues.append(Issue(path, f"{path} is a secret: set it with PUT /api/services/{service}/secrets/{path}"))
    return issues


def validate_config(definition: Any, value: Any, allow_secrets: bool = False) -> ValidationResult:
    """Validates a configuration document against a service definition (validate-config.ts).

    Omitted fields take their defaults and the result is normalized; secrets in the document
    are refused unless ``allow_secrets`` (the worker, after it opened the sealed ones).
    """
    if not isinstance(value, dict):
        return ValidationResult(False, issues=[Issue("", "configuration must be a JSON object")])
    unsafe = check_json_safety(value)
    if unsafe:
        return ValidationResult(False, issues=unsafe)
    secret_issues = [] if allow_secrets else _secrets_in(definition.name, definition.secret_paths, value)
    config = normalize_config(definition.json_schema, value, allow_secrets)
    valid, errors = definition.validator.validate(config)
    issues = [] if valid else issues_from_errors(errors, config)
    if secret_issues or issues:
        combined = sorted(secret_issues + issues, key=lambda i: utf16_key(i.path))
        return ValidationResult(False, issues=combined)
    return ValidationResult(True, config=config)
