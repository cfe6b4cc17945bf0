"""Decide where to send a user after sign-in, never off this site."""

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str:
    """Return ``target`` when it is a path on this site, else ``"/"``.

    Browsers read ``//host``, ``/\\host`` and paths with tabs or line breaks in them
    (which they silently drop) as links to another site, so all of those are refused.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"

    if "\\" in target or any(not character.isprintable() for character in target):
        return "/"

    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"

    return target
