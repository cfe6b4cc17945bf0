"""Make user-supplied text safe to put in a log line."""

_MAX_LENGTH = 200


def for_log(value: object) -> str:
    """Return ``value`` with line breaks and control characters escaped, and capped.

    Anything a user typed goes through this before it reaches a log record, so no one
    can forge a second log line or send escape sequences to an operator's terminal.
    """
    text = str(value)
    if len(text) > _MAX_LENGTH:
        text = text[:_MAX_LENGTH] + "..."

    return escape_controls(text)


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
