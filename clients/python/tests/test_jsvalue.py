"""JSON with JavaScript's semantics, and ECMAScript patterns in Python's re."""

from __future__ import annotations

import unittest

import vectors  # noqa: F401 - puts the client on sys.path

from config_client.ecma_regex import PatternError, pattern_test, translate_pattern
from config_client.jsvalue import (
    canonical_json,
    decode_utf8,
    js_equal,
    js_number_str,
    parse_json,
    parse_json_object,
)


class JsonTest(unittest.TestCase):
    def test_numbers_read_as_doubles(self) -> None:
        value = parse_json('{"a":7.0,"b":9007199254740993,"c":1e400,"d":-0}')
        self.assertEqual(value["a"], 7)
        self.assertIsInstance(value["a"], int)
        self.assertEqual(value["b"], 9007199254740992)  # rounded to the nearest double
        self.assertEqual(value["c"], float("inf"))
        self.assertEqual(js_number_str(value["d"]), "0")

    def test_numbers_written_as_javascript_writes_them(self) -> None:
        cases = {1e21: "1e+21", 1e20: "100000000000000000000", 0.000001: "0.000001", 1e-7: "1e-7",
                 1.5e-7: "1.5e-7", 123.456: "123.456", 0.1 + 0.2: "0.30000000000000004", 2**53 + 2: "9007199254740994",
                 -1.5: "-1.5", 5e-324: "5e-324"}  # fmt: skip
        for number, text in cases.items():
            with self.subTest(text):
                self.assertEqual(js_number_str(number), text)

    def test_refuses_what_json_parse_refuses(self) -> None:
        for text in ("NaN", '{"a":Infinity}', "[01]", '{"a":1,}', "\ufeff{}", "'a'", '"\x01"'):
            with self.subTest(text):
                with self.assertRaises(ValueError):
                    parse_json(text)

    def test_bytes_are_strict_utf8_and_a_bom_is_not_json(self) -> None:
        self.assertIsNone(decode_utf8(b"\xed\xa0\x80"))  # an encoded surrogate
        self.assertIsNone(decode_utf8(b"\xc0\xaf"))  # an overlong "/"
        self.assertEqual(decode_utf8(b"\xef\xbb\xbfx"), "\ufeffx")
        self.assertIsNone(parse_json_object(b"\xef\xbb\xbf{}"))
        self.assertIsNone(parse_json_object(b"[]"))
        self.assertEqual(parse_json_object(b'{"a":1,"a":2}'), {"a": 2})

    def test_nesting_deeper_than_python_recursion_still_parses(self) -> None:
        depth = 50_000
        value = parse_json('{"a":' + "[" * depth + "]" * depth + "}")
        for _ in range(depth - 1):
            value = value["a"] if isinstance(value, dict) else value[0]
        self.assertIsInstance(value, list)

    def test_canonical_json_sorts_keys_by_utf16_code_units(self) -> None:
        value = {"b": 1, "a": [True, None, {"\uffff": 1, "\U0001f600": 2}], "10": "x\n\u2028", "9": "\ud800"}
        self.assertEqual(
            canonical_json(value),
            '{"10":"x\\n\u2028","9":"\\ud800","a":[true,null,{"\U0001f600":2,"\uffff":1}],"b":1}',
        )

    def test_deep_equality_never_mixes_booleans_and_numbers(self) -> None:
        self.assertTrue(js_equal({"a": [1, 2.0]}, {"a": [1.0, 2]}))
        self.assertFalse(js_equal(True, 1))
        self.assertFalse(js_equal([0], [False]))
        self.assertFalse(js_equal({"a": None}, {}))


class EcmaPatternTest(unittest.TestCase):
    def test_classes_and_anchors_mean_what_ecmascript_says(self) -> None:
        cases = [
            ("^\\d+$", "١٢٣", False),  # \d is ASCII
            ("^\\w+$", "é", False),  # \w is ASCII
            ("^\\s$", "\ufeff", True),  # ZWNBSP is white space in ECMAScript
            ("^\\s$", "\x1c", False),  # but not in Python's \s
            ("^a$", "a\n", False),  # $ is the very end
            ("^.$", "\u2028", False),  # . stops at line terminators
            ("^.$", "😀", True),  # and counts code points under the u flag
            ("^[^]$", "\n", True),
            ("[]", "a", False),
            ("\\bé", "é", False),  # \b is ASCII too
            ("^\\p{Lu}\\p{Ll}+$", "Élan", True),
            ("(a)|\\1b", "b", True),  # a group that took no part matches the empty string
            ("(?<y>x)\\k<y>", "xx", True),
            ("b", "abc", True),  # unanchored: anywhere in the string
        ]
        for pattern, text, expected in cases:
            with self.subTest(pattern=pattern, text=text):
                self.assertEqual(pattern_test(pattern, text), expected)

    def test_refuses_what_the_u_flag_refuses(self) -> None:
        for pattern in ("(", "a{2,1}", "{", "]", "\\a", "\\1", "[\\w-z]", "(?i)a", "(?P<n>a)", "a**", "\\c1"):
            with self.subTest(pattern):
                with self.assertRaises(PatternError) as caught:
                    translate_pattern(pattern)
                self.assertFalse(caught.exception.unsupported)

    def test_says_what_it_cannot_run(self) -> None:
        for pattern in ("\\p{Script=Latin}", "(?<=a+)b"):
            with self.subTest(pattern):
                with self.assertRaises(PatternError) as caught:
                    pattern_test(pattern, "ab")
                self.assertTrue(caught.exception.unsupported)


if __name__ == "__main__":
    unittest.main()
