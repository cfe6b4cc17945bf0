"""The parsers read a setting's text from closed sets and fail only with ValueError."""

import math
import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.config.parsers import (
    choice,
    integer,
    parse_bool,
    parse_host,
    positive_number,
    text,
)

BOOL_WORDS = {
    "true": True,
    "1": True,
    "yes": True,
    "on": True,
    "false": False,
    "0": False,
    "no": False,
    "off": False,
}
BOOL_MESSAGE = "must be one of true/false, 1/0, yes/no, on/off"

parse_port = integer(1, 65535)
PORT_MESSAGE = "must be a whole number from 1 to 65535"
# A whole number as the PORT parser reads it: ASCII digits, an optional sign.
PORT_FORM = re.compile(r"[ \t]*[+-]?[0-9]+[ \t]*")

parse_hours = positive_number(24 * 366)
HOURS_MESSAGE = "must be a number greater than 0 and at most 8784"

# Property tests stay fast and deterministic in CI.
quick = settings(max_examples=300, deadline=None)


def _in_any_case(word: str) -> st.SearchStrategy[str]:
    letters = [st.sampled_from([letter.lower(), letter.upper()]) for letter in word]
    return st.tuples(*letters).map("".join)


@pytest.mark.parametrize(("word", "expected"), sorted(BOOL_WORDS.items()))
def test_parse_bool_reads_each_word(word, expected):
    """Each of true/false, 1/0, yes/no, on/off reads as its boolean."""
    assert parse_bool(word) is expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [("False", False), ("TRUE", True), ("Yes", True), ("oFF", False), ("On", True)],
)
def test_parse_bool_ignores_letter_case(word, expected):
    """Letter case does not matter: "False" is False, not a truthy string."""
    assert parse_bool(word) is expected


@quick
@given(st.sampled_from(sorted(BOOL_WORDS)).flatmap(_in_any_case))
def test_parse_bool_reads_words_in_any_case(word):
    """Every mix of upper and lower case reads as the word's boolean."""
    assert parse_bool(word) is BOOL_WORDS[word.lower()]


@pytest.mark.parametrize(
    "word",
    [
        "maybe",
        "t",
        "f",
        "y",
        "n",
        "",
        " ",
        "2",
        "-1",
        "1.0",
        "truee",
        "enabled",
        "nope",
    ],
)
def test_parse_bool_rejects_other_words(word):
    """Anything outside the closed set is refused, with the set in the message."""
    with pytest.raises(ValueError, match=re.escape(BOOL_MESSAGE)):
        parse_bool(word)


@quick
@given(st.text())
def test_parse_bool_accepts_only_the_closed_set(word):
    """Any text either is a listed word (up to case and spaces) or raises ValueError."""
    try:
        result = parse_bool(word)
    except ValueError as error:
        assert str(error) == BOOL_MESSAGE
        assert word.strip(" \t").lower() not in BOOL_WORDS
    else:
        assert word.strip().isascii()
        assert result is BOOL_WORDS[word.strip(" \t").lower()]


@pytest.mark.parametrize(
    ("word", "expected"),
    [("8000", 8000), ("1", 1), ("65535", 65535), ("+8000", 8000), (" 8000 ", 8000)],
)
def test_integer_reads_whole_numbers_in_range(word, expected):
    """PORT takes a whole number from 1 to 65535 written in ASCII digits."""
    assert parse_port(word) == expected


@pytest.mark.parametrize(
    "word",
    [
        "abc",
        "",
        "0",
        "-1",
        "65536",
        "70000",
        "1_000",
        "\u0668\u0660\u0660\u0660",  # Arabic-Indic digits for 8000.
        "\uff18\uff10\uff10\uff10",  # Full-width digits for 8000.
        "8000.0",
        "8e3",
        "0x1f40",
        "8 000",
        "8000abc",
    ],
)
def test_integer_rejects_other_text(word):
    """Separators, non-ASCII digits, decimals and out-of-range numbers are refused."""
    with pytest.raises(ValueError, match=PORT_MESSAGE):
        parse_port(word)


@quick
@given(st.integers(min_value=1, max_value=65535))
def test_integer_round_trips_every_port(number):
    """Every number in range reads back from its decimal text."""
    assert parse_port(str(number)) == number


@quick
@given(st.one_of(st.integers(max_value=0), st.integers(min_value=65536)))
def test_integer_rejects_every_number_out_of_range(number):
    """Every number outside the range is refused with the range in the message."""
    with pytest.raises(ValueError, match=PORT_MESSAGE):
        parse_port(str(number))


number_like_text = st.text(
    alphabet=st.sampled_from("0123456789+-_. eE\t\n\u0668\u0660\uff18\u00b2x"),
    max_size=8,
)


@quick
@given(st.one_of(st.text(), number_like_text))
def test_integer_fails_only_with_value_error(word):
    """Any text either is a whole number in range or raises ValueError."""
    try:
        result = parse_port(word)
    except ValueError as error:
        assert str(error) == PORT_MESSAGE
        assert not PORT_FORM.fullmatch(word) or not 1 <= int(word) <= 65535
    else:
        assert PORT_FORM.fullmatch(word)
        assert result == int(word)


def test_integer_message_holds_for_very_long_numbers():
    """A number too long for int() still gets the parser's own message."""
    with pytest.raises(ValueError, match=PORT_MESSAGE):
        parse_port("1" * 5000)


@pytest.mark.parametrize(
    ("word", "expected"),
    [("24", 24.0), ("0.5", 0.5), (".5", 0.5), ("1.", 1.0), ("8784", 8784.0)],
)
def test_positive_number_reads_decimals(word, expected):
    """A plain decimal greater than zero and within the maximum is read."""
    assert parse_hours(word) == expected


@pytest.mark.parametrize(
    "word",
    [
        "nan",
        "NaN",
        "inf",
        "-inf",
        "Infinity",
        "0",
        "0.0",
        "-1",
        "1e400",
        "1e3",
        "8785",
        "",
        "abc",
        "1_0",
        "0x10",
        "\u0662\u0664",  # Arabic-Indic digits for 24.
    ],
)
def test_positive_number_rejects_other_text(word):
    """NaN, infinities, zero, negatives and exponents are refused."""
    with pytest.raises(ValueError, match=HOURS_MESSAGE):
        parse_hours(word)


@quick
@given(
    st.decimals(
        min_value=Decimal("0.001"), max_value=Decimal(8784), places=3, allow_nan=False
    )
)
def test_positive_number_round_trips_decimals(number):
    """Every decimal in range reads back from its plain text."""
    assert parse_hours(f"{number:f}") == float(number)


@quick
@given(st.one_of(st.text(), st.floats().map(repr), number_like_text))
def test_positive_number_fails_only_with_value_error(word):
    """Any text either gives a finite number in range or raises ValueError."""
    try:
        result = parse_hours(word)
    except ValueError as error:
        assert str(error) == HOURS_MESSAGE
    else:
        assert math.isfinite(result)
        assert 0 < result <= 24 * 366


def test_choice_returns_the_declared_spelling():
    """A choice is matched in any letter case and returned as declared."""
    parse_level = choice("DEBUG", "INFO", "WARNING")

    assert parse_level("info") == "INFO"
    assert parse_level(" Warning ") == "WARNING"


@pytest.mark.parametrize("word", ["warn", "trace", "", "INFO!", "DEBUG INFO"])
def test_choice_rejects_other_words(word):
    """A word outside the options is refused, and the message lists them."""
    with pytest.raises(ValueError, match="must be one of DEBUG, INFO, WARNING$"):
        choice("DEBUG", "INFO", "WARNING")(word)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("a\nb", "must not contain control characters or line breaks"),
        ("a\x00b", "must not contain control characters or line breaks"),
        ("a\x1b[2Jb", "must not contain control characters or line breaks"),
        ("a\u2028b", "must not contain control characters or line breaks"),
        ("x" * 4097, "must be at most 4096 characters long"),
    ],
)
def test_text_rejects_control_characters_and_long_values(value, fragment):
    """Text settings stay printable and bounded."""
    with pytest.raises(ValueError, match=re.escape(fragment)):
        text()(value)


def test_text_keeps_printable_text_as_given():
    """Printable text, spaces and non-ASCII letters included, is kept unchanged."""
    assert text()(" mot de passe é ") == " mot de passe é "


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "10.0.0.5", "localhost", "app.internal", "::1", "fe80::1"]
)
def test_parse_host_reads_addresses_and_names(host):
    """IPv4, IPv6 and host names are listen addresses."""
    assert parse_host(host) == host


@pytest.mark.parametrize(
    "host",
    [
        "",
        "a b",
        "http://localhost",
        "host/path",
        "\u00e4.example",
        "-leading-dash.example",
        "bad..dots",
        "[::1",
    ],
)
def test_parse_host_rejects_other_text(host):
    """URLs, spaces, paths and malformed names are not listen addresses."""
    with pytest.raises(ValueError, match="must be an IP address or host name"):
        parse_host(host)


@pytest.mark.parametrize(
    "host", [":8000", "localhost:8000", "127.0.0.1:8000", "0.0.0.0:8000", "[::1]:80"]
)
def test_parse_host_rejects_a_port(host):
    """A port in HOST is refused, so gunicorn never binds a port other than PORT."""
    with pytest.raises(ValueError, match="without a port"):
        parse_host(host)
