"""ECMAScript regular expressions (the ``u`` flag, as Ajv compiles ``pattern``) for Python ``re``.

Ajv tests a string with ``new RegExp(pattern, "u").test(value)``: a search anywhere in the
string, where ``.``, ``\\d``, ``\\w``, ``\\s``, ``\\b`` and ``$`` mean what ECMA-262 says, not
what Python's ``re`` says. :func:`compile_pattern` parses the pattern with ECMA-262's grammar
(refusing what ``new RegExp(p, "u")`` refuses) and writes an equivalent Python expression:

- ``.`` is any code point but ``\\n``, ``\\r``, U+2028 and U+2029; ``$`` is the very end
  (Python's ``$`` also matches before a final newline); ``\\d``, ``\\w``, ``\\b`` are ASCII;
  ``\\s`` is ECMA-262's White_Space and line terminators; classes are computed as code point
  sets, so negations and ranges inside classes are exact;
- escapes: ``\\t \\n \\v \\f \\r``, ``\\cX``, ``\\0``, ``\\xHH``, ``\\uHHHH`` (a surrogate pair of
  them is one code point), ``\\u{H…}``, identity escapes of syntax characters and ``/``;
- groups ``( )``, ``(?: )``, named ``(?<name> )``, lookahead ``(?= )`` ``(?! )``, lookbehind
  ``(?<= )`` ``(?<! )`` (fixed-width only: Python's limit), backreferences ``\\1`` and
  ``\\k<name>`` (a group that did not take part matches the empty string, as in JavaScript);
- quantifiers ``* + ? {n} {n,} {n,m}`` and their lazy forms;
- ``\\p{…}`` / ``\\P{…}`` for General_Category values (``L``, ``Lu``, ``Letter``, ``gc=Lu``,
  ``General_Category=Uppercase_Letter``…) and ``Any``, ``ASCII``, ``Assigned``, with the
  Unicode version of Python's ``unicodedata``.

Not supported (a :class:`PatternError` saying so): other Unicode properties (scripts,
``Alphabetic``…), lookbehind of variable width. A pattern JavaScript refuses is refused too.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache
from typing import Dict, List, Optional, Tuple

MAX_CODE_POINT = 0x10FFFF
Ranges = List[Tuple[int, int]]


class PatternError(ValueError):
    """The pattern is not a valid ECMAScript ``u`` pattern, or uses what this module lacks."""

    def __init__(self, message: str, unsupported: bool = False) -> None:
        super().__init__(message)
        self.unsupported = unsupported


def _normalize(ranges: Ranges) -> Ranges:
    merged: Ranges = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def _complement(ranges: Ranges) -> Ranges:
    result: Ranges = []
    start = 0
    for lo, hi in _normalize(ranges):
        if lo > start:
            result.append((start, lo - 1))
        start = hi + 1
    if start <= MAX_CODE_POINT:
        result.append((start, MAX_CODE_POINT))
    return result


DIGITS: Ranges = [(0x30, 0x39)]
WORD: Ranges = [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]
# ECMA-262 WhiteSpace (TAB, VT, FF, ZWNBSP, Zs) and LineTerminator (LF, CR, LS, PS).
SPACE: Ranges = _normalize(
    [
        (0x09, 0x0D),
        (0x20, 0x20),
        (0xA0, 0xA0),
        (0x1680, 0x1680),
        (0x2000, 0x200A),
        (0x2028, 0x2029),
        (0x202F, 0x202F),
        (0x205F, 0x205F),
        (0x3000, 0x3000),
        (0xFEFF, 0xFEFF),
    ]
)
LINE_TERMINATORS: Ranges = [(0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2029)]

_CATEGORY_NAMES: Dict[str, str] = {
    "Cased_Letter": "LC",
    "Close_Punctuation": "Pe",
    "Connector_Punctuation": "Pc",
    "Control": "Cc",
    "cntrl": "Cc",
    "Currency_Symbol": "Sc",
    "Dash_Punctuation": "Pd",
    "Decimal_Number": "Nd",
    "digit": "Nd",
    "Enclosing_Mark": "Me",
    "Final_Punctuation": "Pf",
    "Format": "Cf",
    "Initial_Punctuation": "Pi",
    "Letter": "L",
    "Letter_Number": "Nl",
    "Line_Separator": "Zl",
    "Lowercase_Letter": "Ll",
    "Mark": "M",
    "Combining_Mark": "M",
    "Math_Symbol": "Sm",
    "Modifier_Letter": "Lm",
    "Modifier_Symbol": "Sk",
    "Nonspacing_Mark": "Mn",
    "Number": "N",
    "Open_Punctuation": "Ps",
    "Other": "C",
    "Other_Letter": "Lo",
    "Other_Number": "No",
    "Other_Punctuation": "Po",
    "Other_Symbol": "So",
    "Paragraph_Separator": "Zp",
    "Private_Use": "Co",
    "Punctuation": "P",
    "punct": "P",
    "Separator": "Z",
    "Space_Separator": "Zs",
    "Spacing_Mark": "Mc",
    "Surrogate": "Cs",
    "Symbol": "S",
    "Titlecase_Letter": "Lt",
    "Unassigned": "Cn",
    "Uppercase_Letter": "Lu",
}
_CATEGORIES = {
    "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe",
    "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn",
}  # fmt: skip
_GROUPS = {"L", "LC", "M", "N", "P", "S", "Z", "C"}


@lru_cache(maxsize=None)
def _category_table() -> Dict[str, Ranges]:
    table: Dict[str, Ranges] = {}
    current: Optional[str] = None
    start = 0
    category = unicodedata.category
    for cp in range(MAX_CODE_POINT + 1):
        cat = category(chr(cp))
        if cat != current:
            if current is not None:
                table.setdefault(current, []).append((start, cp - 1))
            current, start = cat, cp
    table.setdefault(current or "Cn", []).append((start, MAX_CODE_POINT))
    return table


@lru_cache(maxsize=None)
def _category_ranges(name: str) -> Tuple[Tuple[int, int], ...]:
    table = _category_table()
    if name == "LC":
        members = ["Lu", "Ll", "Lt"]
    elif name in _GROUPS:
        members = [c for c in _CATEGORIES if c[0] == name]
    else:
        members = [name]
    ranges: Ranges = []
    for member in members:
        ranges.extend(table.get(member, []))
    return tuple(_normalize(ranges))


def _property_ranges(body: str) -> Ranges:
    name, eq, value = body.partition("=")
    if eq:
        if name not in ("General_Category", "gc"):
            raise PatternError(
                f"\\p{{{body}}}: only General_Category properties are supported in Python", True
            )
        key = value
    else:
        key = name
        if key == "Any":
            return [(0, MAX_CODE_POINT)]
        if key == "ASCII":
            return [(0, 0x7F)]
        if key == "Assigned":
            return _complement(list(_category_ranges("Cn")))
    category = _CATEGORY_NAMES.get(key, key)
    if category in _CATEGORIES or category in _GROUPS:
        return list(_category_ranges(category))
    if re.fullmatch(r"[A-Za-z_]+", key):
        raise PatternError(f"\\p{{{body}}} is not supported in Python (General_Category only)", True)
    raise PatternError(f"invalid property name \\p{{{body}}}")


def _char(cp: int) -> str:
    if cp <= 0xFFFF:
        return "\\u%04x" % cp
    return "\\U%08x" % cp


def _class(ranges: Ranges) -> str:
    ranges = _normalize(ranges)
    if not ranges:
        return "(?!)"
    body = "".join(_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges)
    return f"[{body}]"


_WORD_CLASS = _class(WORD)
_BOUNDARY = f"(?:(?<={_WORD_CLASS})(?!{_WORD_CLASS})|(?<!{_WORD_CLASS})(?={_WORD_CLASS}))"
_NOT_BOUNDARY = f"(?:(?<={_WORD_CLASS})(?={_WORD_CLASS})|(?<!{_WORD_CLASS})(?!{_WORD_CLASS}))"
_SYNTAX = set("^$\\.*+?()[]{}|")
_CONTROL = {"t": 0x09, "n": 0x0A, "v": 0x0B, "f": 0x0C, "r": 0x0D}
_ID_START = re.compile(r"[$_\w]")


class _Translator:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.group_count = _count_groups(source)
        self.names: Dict[str, int] = {}
        self.open_groups: List[int] = []
        self.next_group = 0
        # (name, marker index, groups open, groups opened so far), resolved once every name is known.
        self.name_refs: List[Tuple[str, int, Tuple[int, ...], int]] = []
        self.out: List[str] = []

    def error(self, message: str) -> PatternError:
        return PatternError(f"Invalid regular expression: /{self.src}/u: {message}")

    def peek(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.src[i] if i < len(self.src) else ""

    def translate(self) -> str:
        text = self.disjunction()
        if self.pos < len(self.src):
            raise self.error("Unmatched ')'" if self.peek() == ")" else "Unexpected character")
        for name, index, open_groups, opened in self.name_refs:
            if name not in self.names:
                raise self.error("Invalid named capture referenced")
            reference = self.backreference(self.names[name], open_groups, opened)
            text = text.replace(f"\x00{index}\x00", reference, 1)
        return text

    def disjunction(self) -> str:
        alternatives = [self.alternative()]
        while self.peek() == "|":
            self.pos += 1
            alternatives.append(self.alternative())
        return "|".join(alternatives)

    def alternative(self) -> str:
        parts: List[str] = []
        while self.pos < len(self.src) and self.peek() not in ("|", ")"):
            parts.append(self.term())
        return "".join(parts)

    def term(self) -> str:
        ch = self.peek()
        quantifiable = True
        if ch == "^":
            self.pos += 1
            atom, quantifiable = "^", False
        elif ch == "$":
            self.pos += 1
            atom, quantifiable = r"\Z", False
        elif ch == "\\" and self.peek(1) in ("b", "B"):
            atom = _BOUNDARY if self.peek(1) == "b" else _NOT_BOUNDARY
            self.pos += 2
            quantifiable = False
        elif ch == "(":
            atom, quantifiable = self.group()
        elif ch == ".":
            self.pos += 1
            atom = _class(_complement(LINE_TERMINATORS))
        elif ch == "[":
            atom = self.character_class()
        elif ch == "\\":
            atom = self.atom_escape()
        elif ch in ("*", "+", "?", "{"):
            raise self.error("Nothing to repeat")
        elif ch in ("]", "}"):
            raise self.error("Lone quantifier brackets")
        else:
            cp = ord(ch)
            self.pos += 1
            atom = _char(cp)
        quantifier = self.quantifier()
        if quantifier:
            if not quantifiable:
                raise self.error("Nothing to repeat")
            return f"(?:{atom}){quantifier}"
        return atom

    def quantifier(self) -> str:
        ch = self.peek()
        if ch in ("*", "+", "?"):
            self.pos += 1
            q = ch
        elif ch == "{":
            match = re.compile(r"\{([0-9]+)(,([0-9]*))?\}").match(self.src, self.pos)
            if match is None:
                raise self.error("Incomplete quantifier")
            low = int(match.group(1))
            high = match.group(3)
            if high not in (None, "") and int(high) < low:
                raise self.error("numbers out of order in {} quantifier")
            limit = 4294967294
            if low > limit or (high not in (None, "") and int(high) > limit):
                raise PatternError("quantifier bounds above 4294967294 are not supported", True)
            self.pos = match.end()
            q = match.group()
        else:
            return ""
        if self.peek() == "?":
            self.pos += 1
            q += "?"
        return q

    def group(self) -> Tuple[str, bool]:
        src = self.src
        if src.startswith("(?:", self.pos):
            self.pos += 3
            prefix, capture, quantifiable = "(?:", False, True
        elif src.startswith("(?=", self.pos) or src.startswith("(?!", self.pos):
            prefix, capture, quantifiable = src[self.pos : self.pos + 3], False, False
            self.pos += 3
        elif src.startswith("(?<=", self.pos) or src.startswith("(?<!", self.pos):
            prefix, capture, quantifiable = src[self.pos : self.pos + 4], False, False
            self.pos += 4
        elif src.startswith("(?<", self.pos):
            self.pos += 3
            name = self.group_name()
            if name in self.names:
                raise self.error("Duplicate capture group name")
            self.next_group += 1
            self.names[name] = self.next_group
            prefix, capture, quantifiable = "(", True, True
        elif src.startswith("(?", self.pos):
            raise self.error("Invalid group")
        else:
            self.pos += 1
            self.next_group += 1
            prefix, capture, quantifiable = "(", True, True
        number = self.next_group if capture else 0
        if capture:
            self.open_groups.append(number)
        body = self.disjunction()
        if self.peek() != ")":
            raise self.error("Unterminated group")
        self.pos += 1
        if capture:
            self.open_groups.pop()
        return f"{prefix}{body})", quantifiable

    def group_name(self) -> str:
        end = self.src.find(">", self.pos)
        if end < 0:
            raise self.error("Invalid capture group name")
        name = self.src[self.pos : end]
        if not name or not _ID_START.match(name[0]) or name[0].isdigit():
            raise self.error("Invalid capture group name")
        if not all(c == "$" or c == "_" or c.isalnum() or c in "\u200c\u200d" for c in name):
            raise self.error("Invalid capture group name")
        self.pos = end + 1
        return name

    def backreference(self, number: int, open_groups: Tuple[int, ...], opened: int) -> str:
        # Inside its own group, or before it (a forward reference: the group is not reached yet,
        # or was reset by the quantifier around both), a backreference is to "undefined",
        # which JavaScript matches as the empty string.
        if number in open_groups or number > opened:
            return "(?:)"
        # A group that took no part matches the empty string in JavaScript, fails in Python.
        return f"(?:(?({number})\\{number}))"

    def atom_escape(self) -> str:
        self.pos += 1  # the backslash
        ch = self.peek()
        if ch == "":
            raise self.error("\\ at end of pattern")
        if ch in "123456789":
            match = re.compile(r"[0-9]+").match(self.src, self.pos)
            number = int(match.group())
            if number > self.group_count:
                raise self.error("Invalid escape")
            self.pos = match.end()
            return self.backreference(number, tuple(self.open_groups), self.next_group)
        if ch == "k":
            if self.peek(1) != "<":
                raise self.error("Invalid named reference")
            self.pos += 2
            end = self.src.find(">", self.pos)
            if end < 0:
                raise self.error("Invalid named reference")
            name = self.src[self.pos : end]
            self.pos = end + 1
            marker = f"\x00{len(self.name_refs)}\x00"
            self.name_refs.append((name, len(self.name_refs), tuple(self.open_groups), self.next_group))
            return marker
        ranges = self.class_escape_ranges()
        if ranges is not None:
            return _class(ranges)
        return _char(self.character_escape())

    def class_escape_ranges(self) -> Optional[Ranges]:
        """\\d \\D \\s \\S \\w \\W \\p{…} \\P{…} at self.pos (after the backslash), or None."""
        ch = self.peek()
        table = {"d": DIGITS, "s": SPACE, "w": WORD}
        if ch.lower() in table:
            self.pos += 1
            ranges = table[ch.lower()]
            return _complement(ranges) if ch.isupper() else list(ranges)
        if ch in ("p", "P"):
            if self.peek(1) != "{":
                raise self.error("Invalid property name")
            end = self.src.find("}", self.pos)
            if end < 0:
                raise self.error("Invalid property name")
            body = self.src[self.pos + 2 : end]
            self.pos = end + 1
            ranges = _property_ranges(body)
            return _complement(ranges) if ch == "P" else ranges
        return None

    def character_escape(self, in_class: bool = False) -> int:
        """The code point of a CharacterEscape at self.pos (after the backslash)."""
        ch = self.peek()
        if ch in _CONTROL:
            self.pos += 1
            return _CONTROL[ch]
        if ch == "c":
            letter = self.peek(1)
            if re.fullmatch("[A-Za-z]", letter or "-"):
                self.pos += 2
                return ord(letter) % 32
            raise self.error("Invalid unicode escape")
        if ch == "0":
            if self.peek(1).isdigit() and self.peek(1) in "0123456789":
                raise self.error("Invalid decimal escape" if not in_class else "Invalid class escape")
            self.pos += 1
            return 0
        if ch == "x":
            match = re.compile(r"[0-9A-Fa-f]{2}").match(self.src, self.pos + 1)
            if match is None:
                raise self.error("Invalid escape")
            self.pos = match.end()
            return int(match.group(), 16)
        if ch == "u":
            return self.unicode_escape()
        if ch in _SYNTAX or ch == "/" or (in_class and ch == "-"):
            self.pos += 1
            return ord(ch)
        raise self.error("Invalid escape")

    def unicode_escape(self) -> int:
        src = self.src
        if self.peek(1) == "{":
            match = re.compile(r"\{([0-9A-Fa-f]+)\}").match(src, self.pos + 1)
            if match is None or int(match.group(1), 16) > MAX_CODE_POINT:
                raise self.error("Invalid Unicode escape")
            self.pos = match.end()
            return int(match.group(1), 16)
        hex4 = re.compile(r"[0-9A-Fa-f]{4}")
        match = hex4.match(src, self.pos + 1)
        if match is None:
            raise self.error("Invalid Unicode escape")
        value = int(match.group(), 16)
        self.pos = match.end()
        if 0xD800 <= value <= 0xDBFF and src.startswith("\\u", self.pos):
            trail = hex4.match(src, self.pos + 2)
            if trail is not None and 0xDC00 <= int(trail.group(), 16) <= 0xDFFF:
                self.pos = trail.end()
                return 0x10000 + ((value - 0xD800) << 10) + (int(trail.group(), 16) - 0xDC00)
        return value

    def character_class(self) -> str:
        self.pos += 1
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        ranges: Ranges = []
        while True:
            if self.pos >= len(self.src):
                raise self.error("Unterminated character class")
            if self.peek() == "]":
                self.pos += 1
                break
            first, first_set = self.class_atom()
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.pos += 1
                second, second_set = self.class_atom()
                if first_set is not None or second_set is not None:
                    raise self.error("Invalid character class")
                if first > second:
                    raise self.error("Range out of order in character class")
                ranges.append((first, second))
            elif first_set is not None:
                ranges.extend(first_set)
            else:
                ranges.append((first, first))
        return _class(_complement(ranges) if negated else ranges)

    def class_atom(self) -> Tuple[int, Optional[Ranges]]:
        ch = self.peek()
        if ch != "\\":
            self.pos += 1
            return ord(ch), None
        self.pos += 1
        if self.peek() == "b":
            self.pos += 1
            return 0x08, None
        ranges = self.class_escape_ranges()
        if ranges is not None:
            return -1, ranges
        if self.peek() in "123456789" and self.peek() != "":
            raise self.error("Invalid class escape")
        return self.character_escape(in_class=True), None


def _count_groups(source: str) -> int:
    """Capturing groups in a pattern (for the validity of ``\\N``), skipping classes and escapes."""
    count = 0
    i = 0
    in_class = False
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(" and (not source.startswith("(?", i) or (source.startswith("(?<", i) and source[i + 3 : i + 4] not in ("=", "!"))):
            count += 1
        i += 1
    return count


@lru_cache(maxsize=256)
def translate_pattern(pattern: str) -> str:
    """The Python ``re`` source equivalent to ``new RegExp(pattern, "u")``."""
    return _Translator(pattern).translate()


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> "re.Pattern[str]":
    """A compiled Python regex for an ECMAScript ``u`` pattern; use ``.search`` as RegExp.test."""
    source = translate_pattern(pattern)
    try:
        return re.compile(source)
    except re.error as error:
        raise PatternError(
            f"pattern /{pattern}/u cannot be run by Python's re ({error}); "
            "variable-width lookbehind is the usual cause",
            True,
        ) from None
    except RecursionError:
        raise PatternError(f"pattern /{pattern}/u is nested too deeply", True) from None


def pattern_test(pattern: str, value: str) -> bool:
    """``new RegExp(pattern, "u").test(value)``."""
    return compile_pattern(pattern).search(value) is not None


if __name__ == "__main__":  # pragma: no cover - a manual check: python3 -m config_client.ecma_regex PATTERN TEXT
    print(pattern_test(sys.argv[1], sys.argv[2]))
