"""Make user-supplied text safe to put in a log line."""

import json
import re

_MAX_LENGTH = 200


def for_log(value: object) -> str:
    """Return ``value`` with backslashes, line breaks and control characters escaped,
    and capped.

    Anything a user typed goes through this before it reaches a log record, so no one
    can forge a second log line or send escape sequences to an operator's terminal.
    Backslashes are doubled first, so typed text such as ``\\x0a`` or ``\\"`` reads
    differently from an escaped control character or quote.
    """
    text = str(value)
    if len(text) > _MAX_LENGTH:
        text = text[:_MAX_LENGTH] + "..."

    return escape_controls(text.replace("\\", "\\\\"))


def quoted(value: object) -> str:
    """``value`` for a key=value log line: quoted when it could pass for more than one
    pair, so typed text such as ``/x user=1`` cannot forge a field.

    Control characters must be escaped already (``for_log``); only quotes need it here.
    """
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    text = str(value)
    # Quotes of both kinds and backslashes too: a parser may read 'x y' as one value.
    if not text or any(character in text for character in " \"'=\\"):
        return '"' + text.replace('"', '\\"') + '"'
    return text


def escape_controls(text: str) -> str:
    """Return ``text`` with every non-printable character written as an escape."""
    if text.isprintable():
        return text

    return "".join(
        character if character.isprintable() else _escape(character)
        for character in text
    )


def _escape(character: str) -> str:
    code = ord(character)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


MASK = "[REDACTED]"
# Set on a record whose message was built from values masked one by one, so the
# formatter does not mask it again (records of bastion.security and bastion.access).
ALREADY_MASKED = "_bastion_already_masked"
# A scheme starts where no scheme character precedes it: trying every position of a
# long word as a scheme's start made this quadratic (seconds for 16 kB of letters).
# URL parsers end the user name at its first colon and the password at the last @
# of the authority, so a password may hold an @ and the mask runs to that last one.
# The authority ends at /, ?, # or a space: running on to the end of the text from
# every scheme made 64 kB of "a://:" take 4 seconds, and let an @ in a later query
# or sentence pass for the end of a password.
_URL_PASSWORD = re.compile(
    r"(?P<head>(?<![a-z0-9+.\-])[a-z][a-z0-9+.\-]*://[^:/?#\s]*:)[^/?#\s]+@",
    re.I,
)
# A quoted value runs to its closing quote, escaped quotes and spaces included
# (passwords may have them).
_QUOTED_VALUE = r"(?:\\.|(?!(?P=quote))[^\\\r\n])+"
# As a client sends them, and as a WSGI environ names them: HTTP_AUTHORIZATION.
_CREDENTIAL_HEADERS = (
    r"(?:http_)?(?:authorization|proxy[-_]authorization|cookie|set[-_]cookie)"
)
# A bare value, as in a header line, is masked to the end of the line; a quoted one,
# as in the repr of a headers dict or an environ, to its closing quote, so the
# fields after it stay readable.
_CREDENTIAL_HEADER = re.compile(
    rf"(?P<head>\b{_CREDENTIAL_HEADERS}['\"]?\s*[:=]\s*(?P<quote>['\"])?)"
    rf"(?(quote){_QUOTED_VALUE}|[^\r\n]+)",
    re.I,
)
# A named secret followed by its value, as in a logged form, dict, query or cookie:
# password=..., 'csrf_token': '...', session=..., __Host-remember=...
_SECRET_NAMES = "|".join(  # names to look for, not secrets themselves
    (
        # One run over the name for all of these: new_password, db_pwd, passphrase,
        # client_secret, SECRET_KEY, ssh_private_key, X-Api-Key, csrf_token...
        r"[\w-]*(?:password|pwd|passphrase|secret(?:[-_]key)?|private[-_]key"
        r"|api[-_]key|token)",
        "passwd",
        r"(?:__host-)?session",
        r"(?:__host-)?remember",
    )
)
# Not after a slash or dot: instance/secret_key is a file name, not a value. A bare
# value runs to the first space or separator.
_SECRET_FIELD = re.compile(
    rf"(?P<head>(?<![\w/.-])(?:{_SECRET_NAMES})['\"]?\s*[:=]\s*(?P<quote>['\"])?)"
    rf"(?(quote){_QUOTED_VALUE}|[^\s'\"&,;}}]+)",
    re.I,
)
# A (name, value) tuple, as a MultiDict or a list of headers prints its items. Only
# in parentheses: a plain list of names, ["SECRET_KEY", "TRUSTED_HOSTS"], is no pair.
_SECRET_PAIR = re.compile(
    rf"(?P<head>\(\s*(?P<name_quote>['\"])(?:{_SECRET_NAMES}|{_CREDENTIAL_HEADERS})"
    rf"(?P=name_quote),\s*(?P<quote>['\"])){_QUOTED_VALUE}",
    re.I,
)
# Field names whose values are secret: the names above, and credential headers as
# a dict of headers or a WSGI environ names them.
_SECRET_NAME = re.compile(rf"{_SECRET_NAMES}|{_CREDENTIAL_HEADERS}", re.I)


def is_secret_name(name: str) -> bool:
    """Whether a field called ``name`` holds a secret (password, token, session...)."""
    return _SECRET_NAME.fullmatch(name) is not None


# Any run of 13 or more digits with up to two separators between them; _mask_card
# decides. Colons are left out, so times such as 2026-12-03 16:55:39 stay apart.
# Spaces of every width count: a card written with thin or ideographic spaces is one.
_SEPARATOR = r"[ ._/+\t\u00a0\u2000-\u200a\u202f\u205f\u3000\u2013\u2014-]{0,2}"
_CARD_LIKE = re.compile(rf"(?<!\d)(?:\d{_SEPARATOR}){{12,}}\d(?!\d)")
_CARD_LENGTHS = range(13, 20)
# Beyond this many digits a run is masked whole rather than searched window by window.
_LONGEST_RUN_SEARCHED = 64
# One pass that finds text none of the patterns above could match, which is nearly
# every log value: those skip the substitutions. It runs on every line, so names are
# grouped by first letter, digits first: a position whose character starts no branch
# is passed at once, in about 60% of the time a flat list of names took.
_SUSPECT = re.compile(
    rf"\d(?:{_SEPARATOR}\d){{12}}|://|a(?:uthorization|pi[-_]key)|cookie"
    r"|p(?:ass[wp]|wd|rivate[-_]key)|se(?:cret|ssion)|token|remember",
    re.I,
)


class Redactor:
    """Mask secrets in log text: known secret values, URL passwords, credential
    headers, values named as passwords, tokens or session cookies, and card-like
    numbers that pass the Luhn check."""

    def __init__(self, secret_values: list[str] | None = None) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted(
            {value for value in secret_values or [] if len(value) >= 8},
            key=len,
            reverse=True,
        )

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        if _SUSPECT.search(text) is None:
            return text
        text = _URL_PASSWORD.sub(r"\g<head>***@", text)
        text = _CREDENTIAL_HEADER.sub(rf"\g<head>{MASK}", text)
        text = _SECRET_FIELD.sub(rf"\g<head>{MASK}", text)
        text = _SECRET_PAIR.sub(rf"\g<head>{MASK}", text)
        return _CARD_LIKE.sub(_mask_card, text)


# The redactor of the log handler, set by configure_logging.
_current = Redactor()


def use_redactor(redactor: Redactor) -> None:
    """Make ``redactor`` the one ``redact`` applies."""
    global _current
    _current = redactor


def redact(text: str) -> str:
    """Mask secrets in ``text`` as the log handler would, for copies kept elsewhere."""
    return _current(text)


# Masking must see a value whole: masking only its start let a secret cut at the
# end of that start, and so left unmasked, move into the kept part when text before
# it was masked to something shorter. A value longer than this (beyond what HTTP
# lets a request line or a path be) is not searched, costing time, but left out.
_LONGEST_SEARCHED = 4096


def masked_for_log(value: object) -> str:
    """``value`` as a log may show it: masked first, so a secret is found whole before
    escaping changes its characters or the cut leaves part of it; then escaped and cut.
    """
    text = str(value)
    if len(text) > _LONGEST_SEARCHED:
        return f"[{len(text)} characters, too long to check for secrets; left out]"
    return for_log(redact(text))


def _mask_card(match: re.Match) -> str:
    """Mask a run of digits if any card-length stretch of it passes the Luhn check.

    Checking only the whole run let a card through with one digit added before or
    after it. This masks more long numbers than strictly needed; a log loses little.
    """
    digits = [int(char) for char in match.group() if char.isdigit()]
    if len(digits) > _LONGEST_RUN_SEARCHED:
        return MASK
    for length in _CARD_LENGTHS:
        for start in range(len(digits) - length + 1):
            if _passes_luhn(digits[start : start + length]):
                return MASK
    return match.group()


def _passes_luhn(digits: list[int]) -> bool:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0
