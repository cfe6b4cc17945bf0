"""Parsers that turn a setting's text into a typed value, from closed sets only.

Each parser raises ``ValueError`` with a sentence fragment that says what the setting
must be; the loader adds the variable name and its source. No message includes the
value itself, so a parser can be used for secrets too.
"""

import ipaddress
import re
from collections.abc import Callable

Parser = Callable[[str], object]


def expects(description: str) -> Callable[[Parser], Parser]:
    """Attach a short description of the accepted values, for generated docs."""

    def attach(parser: Parser) -> Parser:
        parser.expects = description
        return parser

    return attach


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
_NUMBER = re.compile(r"[+-]?([0-9]{1,18}(\.[0-9]{0,18})?|\.[0-9]{1,18})")
# Only spaces and tabs are trimmed: str.strip() would also drop control characters.
_BLANKS = " \t"


@expects("boolean: true/false, 1/0, yes/no, on/off")
def parse_bool(text: str) -> bool:
    """Read true/false, 1/0, yes/no or on/off in any letter case."""
    word = text.strip(_BLANKS).lower()
    if word in _TRUE:
        return True

    if word in _FALSE:
        return False

    raise ValueError("must be one of true/false, 1/0, yes/no, on/off")


def integer(minimum: int, maximum: int) -> Parser:
    """Build a parser for a whole number within ``minimum``..``maximum``."""

    @expects(f"whole number, {minimum} to {maximum}")
    def parse_integer(text: str) -> int:
        expected = f"must be a whole number from {minimum} to {maximum}"
        stripped = text.strip(_BLANKS)
        # int() alone would also take "1_000", non-ASCII digits and 5000-digit numbers.
        if not _INTEGER.fullmatch(stripped):
            raise ValueError(expected)

        value = int(stripped)
        if not minimum <= value <= maximum:
            raise ValueError(expected)

        return value

    return parse_integer


def positive_number(maximum: float) -> Parser:
    """Build a parser for a number greater than zero and at most ``maximum``."""

    @expects(f"number, above 0 and at most {maximum:g}")
    def parse_positive(text: str) -> float:
        expected = f"must be a number greater than 0 and at most {maximum:g}"
        stripped = text.strip(_BLANKS)
        # float() alone would also take "nan", "inf" and "1e400".
        if not _NUMBER.fullmatch(stripped):
            raise ValueError(expected)

        value = float(stripped)
        if not 0 < value <= maximum:
            raise ValueError(expected)

        return value

    return parse_positive


def choice(*options: str) -> Parser:
    """Build a parser for one of ``options``, matched without regard to letter case."""
    by_key = {option.lower(): option for option in options}

    @expects("one of " + ", ".join(options))
    def parse_choice(text: str) -> str:
        option = by_key.get(text.strip(_BLANKS).lower())
        if option is None:
            raise ValueError(f"must be one of {', '.join(options)}")

        return option

    return parse_choice


def text(max_length: int = 4096) -> Parser:
    """Build a parser for printable text without control characters."""

    @expects(f"text, up to {max_length} characters")
    def parse_text(value: str) -> str:
        if len(value) > max_length:
            raise ValueError(f"must be at most {max_length} characters long")

        if any(not character.isprintable() for character in value):
            raise ValueError("must not contain control characters or line breaks")

        return value

    return parse_text


_HOSTNAME = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(\.(?!-)[A-Za-z0-9-]{1,63})*")


@expects("IP address or host name")
def parse_host(value: str) -> str:
    """Read a listen address: an IP address or a host name, without a port."""
    stripped = value.strip(_BLANKS)
    try:
        return str(ipaddress.ip_address(stripped))
    except ValueError:
        pass

    # "0" or "1.2.3.4.5" look like names but resolve as addresses: "0" is 0.0.0.0.
    numeric = stripped.rsplit(".", 1)[-1].isdigit()
    if len(stripped) > 253 or numeric or not _HOSTNAME.fullmatch(stripped):
        raise ValueError(
            "must be an IP address or host name without a port, such as 127.0.0.1"
        )

    return stripped


_KEY = re.compile(r"[\x21-\x7e]+")


@expects("key: printable ASCII, no spaces")
def parse_key(value: str) -> str:
    """Read a signing key: printable ASCII without spaces, as `bastion gen-key` makes.

    Flask-Login encodes keys as Latin-1, so other characters would fail at sign-in.
    """
    if len(value) > 1024:
        raise ValueError("must be at most 1024 characters long")

    if not _KEY.fullmatch(value):
        raise ValueError("must use printable ASCII characters only, without spaces")

    return value


@expects("comma-separated keys")
def key_list(value: str) -> tuple[str, ...]:
    """Read a comma-separated list of keys; spaces around each key are dropped."""
    keys = tuple(key.strip(_BLANKS) for key in value.split(","))
    if any(not key for key in keys):
        raise ValueError("has an empty entry; separate keys with single commas")

    for key in keys:
        parse_key(key)
    return keys


@expects("comma-separated host names; a leading dot allows subdomains")
def host_list(value: str) -> tuple[str, ...]:
    """Read host names such as ``example.com,.example.org`` (no ports, no schemes)."""
    hosts = tuple(host.strip(_BLANKS).lower() for host in value.split(","))
    if any(not host for host in hosts):
        raise ValueError("has an empty entry; separate host names with single commas")

    for host in hosts:
        name = host.removeprefix(".").strip("[]")
        try:
            ipaddress.ip_address(name)
            continue
        except ValueError:
            pass
        if not _HOSTNAME.fullmatch(name):
            raise ValueError(
                "must list host names without scheme, port or path, "
                "such as example.com,www.example.com"
            )
    return hosts


@expects("text without line breaks, e.g. a URL path")
def optional_text(value: str) -> str:
    """Read a short single line of text."""
    return text(2048)(value)


@expects("rate limits such as '10 per minute; 50 per hour'")
def rate_limits(value: str) -> str:
    """Read rate limits in the notation of the limits library."""
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ValueError(
            "must be limits such as '10 per minute; 50 per hour'"
        ) from None
    return value.strip(_BLANKS)


@expects("memory:// or redis://host:6379/0")
def storage_url(value: str) -> str:
    """Read where rate-limit counters live: in memory, or in Redis."""
    stripped = text(2048)(value).strip(_BLANKS)
    if not stripped.startswith(("memory://", "redis://", "rediss://")):
        raise ValueError("must start with memory://, redis:// or rediss://")
    return stripped
