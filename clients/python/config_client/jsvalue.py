"""JSON values with the semantics of the Node side (JSON.parse, JSON.stringify, ===).

Every verdict of the protocol depends on how JavaScript reads and writes JSON: numbers are
IEEE doubles (so ``1.0`` is ``1`` and ``9007199254740993`` is ``9007199254740992``), object
keys that are array indices come first in ascending order, strings compare by UTF-16 code
units, ``true`` is never ``1``. This module gives Python the same behaviour, so the signed
schema hash, the defaults and the validation verdicts agree with the Node SDK byte for byte.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any, Iterable, List, Optional

# Integers beyond this are not exact in a double; JavaScript rounds them, so do we.
MAX_SAFE_INTEGER = 2**53 - 1
_MAX_INDEX = 2**32 - 2
_INDEX_KEY = re.compile(r"0|[1-9][0-9]{0,9}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class InheritedMember:
    """A member every JavaScript object inherits (``toString``, ``constructor``…).

    Ajv reads properties as ``data[name] !== undefined``, so a property named ``toString`` is
    "present" in every object, with a function as its value. Validation reproduces that; the
    value is never a JSON type, so every type check fails on it.
    """

    __slots__ = ()

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return "<inherited JavaScript member>"


INHERITED = InheritedMember()

# Object.prototype's members (V8): what `{}[name]` finds without an own property.
OBJECT_PROTOTYPE_MEMBERS = frozenset(
    [
        "constructor",
        "__defineGetter__",
        "__defineSetter__",
        "hasOwnProperty",
        "__lookupGetter__",
        "__lookupSetter__",
        "isPrototypeOf",
        "propertyIsEnumerable",
        "toString",
        "valueOf",
        "__proto__",
        "toLocaleString",
    ]
)


def member(obj: dict, key: str) -> Any:
    """``obj[key]`` as JavaScript reads it: own value, an inherited member, or None (undefined)."""
    if key in obj:
        return obj[key]
    if key in OBJECT_PROTOTYPE_MEMBERS:
        return INHERITED
    return None


_UNDEFINED = object()


def is_number(value: Any) -> bool:
    """``typeof value == "number"`` (bool is not a number in JavaScript)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    """A number that is neither NaN nor infinite (Number.isFinite)."""
    return is_number(value) and (isinstance(value, int) or math.isfinite(value))


def is_integer_number(value: Any) -> bool:
    """Ajv's integer: a finite number without a fractional part (``1.0`` is one)."""
    return is_finite_number(value) and float(value).is_integer()


def is_safe_integer(value: Any) -> bool:
    """Number.isSafeInteger."""
    return is_integer_number(value) and abs(value) <= MAX_SAFE_INTEGER


def is_plain_object(value: Any) -> bool:
    """A JSON object (a dict)."""
    return isinstance(value, dict)


def has_lone_surrogate(text: str) -> bool:
    """True when the string holds a surrogate code point (JSON text can, UTF-8 cannot)."""
    return _LONE_SURROGATE.search(text) is not None


def utf16_key(text: str) -> bytes:
    """Sort key ordering strings by UTF-16 code units, as JavaScript's ``<`` does."""
    return text.encode("utf-16-be", "surrogatepass")


def sorted_code_units(keys: Iterable[str]) -> List[str]:
    """Keys sorted by UTF-16 code units (compareCodeUnits)."""
    return sorted(keys, key=utf16_key)


def _is_index_key(key: str) -> bool:
    return _INDEX_KEY.fullmatch(key) is not None and int(key) <= _MAX_INDEX


def js_keys(obj: dict) -> List[str]:
    """Object.keys order: array-index keys ascending, then the others in insertion order."""
    keys = list(obj.keys())
    indices = [k for k in keys if _is_index_key(k)]
    if not indices:
        return keys
    indices.sort(key=int)
    return indices + [k for k in keys if not _is_index_key(k)]


# --- parsing -------------------------------------------------------------------------------


def js_number(text: str) -> Any:
    """A JSON number as JavaScript holds it: an int when it is a safe integer, else a float."""
    if "." not in text and "e" not in text and "E" not in text and len(text) <= 16:
        value = int(text)
        if abs(value) <= MAX_SAFE_INTEGER:
            return value
    number = float(text)
    if math.isfinite(number) and number.is_integer() and abs(number) <= MAX_SAFE_INTEGER:
        return int(number)
    return number


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_utf8(data: bytes) -> Optional[str]:
    """Fatal UTF-8 decoding, or None. A leading byte order mark is kept: JSON refuses it, and a
    secret's text stays exactly what was sealed."""
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return None


def parse_json(text: str) -> Any:
    """JSON.parse: raises ValueError for anything JSON.parse refuses (NaN, Infinity included)."""
    try:
        return json.loads(text, parse_int=js_number, parse_float=js_number, parse_constant=_refuse_constant)
    except RecursionError:
        # Deeper than Python's recursive parser goes; V8's parser is iterative.
        return _IterativeParser(text).parse()


def parse_json_bytes(data: bytes) -> Any:
    """UTF-8 JSON bytes to a value; raises ValueError (a byte order mark is not JSON)."""
    text = decode_utf8(data)
    if text is None:
        raise ValueError("not UTF-8")
    return parse_json(text)


def parse_json_object(data: bytes) -> Optional[dict]:
    """The JSON object in ``data`` (UTF-8), or None when it is not UTF-8 JSON or not an object."""
    try:
        value = parse_json_bytes(data)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_STRING_CHUNK = re.compile(r'[^"\\\x00-\x1f]*')
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")


class _IterativeParser:
    """A JSON parser without recursion, for documents nested deeper than json.loads allows."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self) -> ValueError:
        return ValueError(f"invalid JSON at position {self.pos}")

    def ws(self) -> None:
        self.pos = _WS.match(self.text, self.pos).end()

    def parse(self) -> Any:
        # Each open container: [container, pending key or None]
        stack: List[list] = []
        value: Any = _UNDEFINED
        text = self.text
        while True:
            self.ws()
            if value is _UNDEFINED:
                if self.pos >= len(text):
                    raise self.fail()
                ch = text[self.pos]
                if ch == "{":
                    self.pos += 1
                    self.ws()
                    if text.startswith("}", self.pos):
                        self.pos += 1
                        value = {}
                    else:
                        stack.append([{}, self.key()])
                        continue
                elif ch == "[":
                    self.pos += 1
                    self.ws()
                    if text.startswith("]", self.pos):
                        self.pos += 1
                        value = []
                    else:
                        stack.append([[], None])
                        continue
                else:
                    value = self.scalar()
                continue
            if not stack:
                if self.pos != len(text):
                    raise self.fail()
                return value
            top = stack[-1]
            container = top[0]
            if isinstance(container, dict):
                container[top[1]] = value
            else:
                container.append(value)
            value = _UNDEFINED
            self.ws()
            if text.startswith(",", self.pos):
                self.pos += 1
                if isinstance(container, dict):
                    self.ws()
                    top[1] = self.key()
                continue
            closer = "}" if isinstance(container, dict) else "]"
            if not text.startswith(closer, self.pos):
                raise self.fail()
            self.pos += 1
            stack.pop()
            value = container

    def key(self) -> str:
        if not self.text.startswith('"', self.pos):
            raise self.fail()
        key = self.string()
        self.ws()
        if not self.text.startswith(":", self.pos):
            raise self.fail()
        self.pos += 1
        return key

    def scalar(self) -> Any:
        text = self.text
        if text.startswith('"', self.pos):
            return self.string()
        for literal, result in (("true", True), ("false", False), ("null", None)):
            if text.startswith(literal, self.pos):
                self.pos += len(literal)
                return result
        match = _NUMBER.match(text, self.pos)
        if match is None:
            raise self.fail()
        self.pos = match.end()
        return js_number(match.group())

    def string(self) -> str:
        text = self.text
        self.pos += 1
        parts: List[str] = []
        while True:
            chunk = _STRING_CHUNK.match(text, self.pos)
            parts.append(chunk.group())
            self.pos = chunk.end()
            if self.pos >= len(text):
                raise self.fail()
            ch = text[self.pos]
            if ch == '"':
                self.pos += 1
                break
            if ch != "\\":
                raise self.fail()  # a control character
            esc = text[self.pos + 1 : self.pos + 2]
            if esc in _ESCAPES:
                parts.append(_ESCAPES[esc])
                self.pos += 2
            elif esc == "u" and _HEX4.fullmatch(text, self.pos + 2, self.pos + 6):
                parts.append(chr(int(text[self.pos + 2 : self.pos + 6], 16)))
                self.pos += 6
            else:
                raise self.fail()
        joined = "".join(parts)
        # A \uD83D\uDE00 pair is one code point, as json.loads (and a UTF-16 string) has it.
        return joined.encode("utf-16-be", "surrogatepass").decode("utf-16-be", "surrogatepass")


# --- writing -------------------------------------------------------------------------------


def js_number_str(value: Any) -> str:
    """Number::toString (what String(x) and JSON.stringify write for a finite number)."""
    if isinstance(value, bool):
        raise TypeError("not a number")
    if isinstance(value, int):
        if abs(value) <= MAX_SAFE_INTEGER:
            return str(value)
        value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest digits that read back as the same double, as V8 does; the
    # layout is then ECMA-262's Number::toString: value = 0.digits x 10^n.
    decimal = Decimal(repr(abs(value))).normalize()
    _, digit_tuple, exponent = decimal.as_tuple()
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = int(exponent) + k
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    exp = ("+" if e >= 0 else "-") + str(abs(e))
    if k == 1:
        return sign + digits + "e" + exp
    return sign + digits[0] + "." + digits[1:] + "e" + exp


def _escape_string(text: str) -> str:
    # json.dumps escapes exactly what JSON.stringify escapes (", \, control characters, with
    # lower-case hex); JSON.stringify also escapes lone surrogates, which json.dumps writes raw.
    out = json.dumps(text, ensure_ascii=False)
    if has_lone_surrogate(out):
        out = _LONE_SURROGATE.sub(lambda m: "\\u%04x" % ord(m.group()), out)
    return out


def js_stringify(value: Any, sort_keys: bool = False) -> str:
    """JSON.stringify(value) (no whitespace), keys in JavaScript's order or sorted by code units."""
    parts: List[str] = []
    _write(value, parts, sort_keys, 0)
    return "".join(parts)


_MAX_WRITE_DEPTH = 10000


def _write(value: Any, parts: List[str], sort_keys: bool, depth: int) -> None:
    if depth > _MAX_WRITE_DEPTH:
        raise ValueError("value is nested too deeply to serialise")
    if value is None or value is INHERITED:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, (int, float)):
        parts.append(js_number_str(value) if is_finite_number(value) else "null")
    elif isinstance(value, str):
        parts.append(_escape_string(value))
    elif isinstance(value, (list, tuple)):
        parts.append("[")
        for i, item in enumerate(value):
            if i:
                parts.append(",")
            _write(item, parts, sort_keys, depth + 1)
        parts.append("]")
    elif isinstance(value, dict):
        keys = sorted_code_units(value.keys()) if sort_keys else js_keys(value)
        parts.append("{")
        first = True
        for key in keys:
            if not first:
                parts.append(",")
            first = False
            parts.append(_escape_string(key))
            parts.append(":")
            _write(value[key], parts, sort_keys, depth + 1)
        parts.append("}")
    else:
        raise TypeError(f"{type(value).__name__} is not a JSON value")


def canonical_json(value: Any) -> str:
    """The canonical JSON of the contract (what schemaHash hashes): no whitespace, every object's
    keys sorted by UTF-16 code units ("10" before "9"), strings and numbers as JSON.stringify."""
    return js_stringify(value, sort_keys=True)


def js_string(value: Any) -> str:
    """String(value) for JSON values (what error messages quote)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if is_number(value):
        return js_number_str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join("" if item is None else js_string(item) for item in value)
    if isinstance(value, dict):
        # String() calls the object's toString: an own "toString" key is not callable.
        if "toString" in value:
            raise TypeError("Cannot convert object to primitive value")
        return "[object Object]"
    if value is INHERITED:
        return "function"
    return str(value)


_NO_OWN = object()


def js_equal(a: Any, b: Any) -> bool:
    """fast-deep-equal, as Ajv's enum, const and uniqueItems call it: JSON equality without
    ``True == 1``, and with its quirks (an object with an own ``toString`` or ``valueOf`` key
    on the left makes it throw TypeError: JavaScript calls that value as a method)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if is_number(a) and is_number(b):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(js_equal(a[i], b[i]) for i in range(len(a) - 1, -1, -1))
    if isinstance(a, dict) and isinstance(b, dict):
        ca, cb = a.get("constructor", _NO_OWN), b.get("constructor", _NO_OWN)
        if (ca is _NO_OWN) != (cb is _NO_OWN) or not _strict_equal(ca, cb):
            return False
        for method in ("valueOf", "toString"):
            if method in a:
                raise TypeError(f"a.{method} is not a function")
        keys = js_keys(a)
        if len(keys) != len(b):
            return False
        if any(key not in b for key in reversed(keys)):
            return False
        return all(js_equal(a[key], b[key]) for key in reversed(keys))
    return a is b


def _strict_equal(a: Any, b: Any) -> bool:
    """``a === b`` for JSON values (objects are equal only to themselves)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if is_number(a) and is_number(b):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return a is b
