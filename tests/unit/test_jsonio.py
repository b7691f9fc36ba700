"""pyrunc.jsonio: the writer is plain Python, the reader CPython's C scanner."""

import json
import random

import pytest

from pyrunc import jsonio

TRICKY = ["", "plain", 'quote " and \\ backslash', "tab\tnewline\ncr\r", "\b\f\x00\x01\x1f\x7f",
          "<html> & 'apostrophe'", "é ü ß 中文", "\u2028\u2029", "emoji \U0001F600", "\ud800 lone"]


@pytest.mark.parametrize("text", TRICKY)
def test_strings_are_escaped_as_encoding_json_does(text):
    # ensure_ascii=False is Go's behaviour too: non-ASCII goes out as UTF-8.
    assert jsonio.dumps(text) == json.dumps(text, ensure_ascii=False)


def test_random_strings_match_the_standard_encoder():
    rng = random.Random(7)
    for _ in range(2000):
        text = "".join(chr(rng.choice((rng.randrange(0x80), rng.randrange(0x800), rng.randrange(0x10FFFF))))
                       for _ in range(rng.randrange(16)))
        assert jsonio.dumps(text) == json.dumps(text, ensure_ascii=False)


def test_nested_values_compact_and_indented():
    value = {"a": [1, 2.5, True, False, None], "b": {}, "c": [], "d": {"e": "f"}, "n": -3}
    assert jsonio.dumps(value) == json.dumps(value, separators=(",", ":"))
    assert jsonio.dumps(value, "  ") == json.dumps(value, indent="  ")


def test_whole_floats_are_written_as_integers_as_go_does():
    assert jsonio.dumps([1.0, 0.5]) == "[1,0.5]"


def test_unserialisable_value_is_a_type_error():
    with pytest.raises(TypeError):
        jsonio.dumps({"x": object()})


def test_round_trip_and_surrounding_whitespace():
    value = {"k": ["v", 1, {"x": None}], "u": "ü"}
    assert jsonio.loads(" \n" + jsonio.dumps(value, "\t") + "\n ") == value
    assert jsonio.loads(jsonio.dumps(value).encode()) == value


@pytest.mark.parametrize("text", ["", "{", '{"a": 1} x', "[1,]", "NaN", "{'a': 1}"])
def test_bad_documents_raise_value_error(text):
    with pytest.raises(ValueError):
        jsonio.loads(text)
