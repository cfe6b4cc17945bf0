"""The loaded, validated settings object the rest of the code base reads."""

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from bastion.config.schema import BY_NAME
from bastion.config.secrets import MASK, Secret

_LINE_NUMBER = re.compile(r" line [0-9]+$")


def format_value(value: object) -> str:
    """Write a setting's value the way it would be written in ``.env``."""
    if isinstance(value, bool):
        return "true" if value else "false"

    if isinstance(value, float) and value.is_integer():
        return str(int(value))

    return str(value)


class Settings:
    """Validated settings, read as attributes: ``settings.port``, ``settings.debug``.

    Secret settings hold a :class:`Secret`; call ``reveal()`` where the value is used.
    """

    def __init__(
        self, values: Mapping[str, object], origins: Mapping[str, str]
    ) -> None:
        self._values = dict(values)
        self._origins = dict(origins)

    def __getattr__(self, attribute: str) -> object:
        if attribute.startswith("_"):
            # copy and pickle probe for attributes before __init__ has run.
            raise AttributeError(attribute)

        try:
            return self._values[attribute.upper()]
        except KeyError:
            raise AttributeError(f"no setting named {attribute.upper()!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __repr__(self) -> str:
        return f"<Settings profile={self.profile!r}>"

    @property
    def profile(self) -> str:
        """The active profile: development, production or testing."""
        return self._values["APP_ENV"]

    def origin(self, name: str) -> str:
        """Say where the value of setting ``name`` came from."""
        return self._origins[name]

    def names_by_source(self) -> dict[str, list[str]]:
        """Group setting names by the source that supplied them; never a value.

        Line numbers are dropped, so each ``.env`` file is one source. Settings left
        unset are not listed.
        """
        grouped: dict[str, list[str]] = {}
        for name, origin in self._origins.items():
            if origin == "not set":
                continue
            source = _LINE_NUMBER.sub("", origin)
            grouped.setdefault(source, []).append(name)
        return grouped

    def display(self, name: str) -> str:
        """Return the value of ``name`` as it may be shown: secrets masked."""
        value = self._values[name]
        if value is None:
            return ""

        setting = BY_NAME[name]
        if setting.secret and setting.show is not None:
            return setting.show(value.reveal())

        if isinstance(value, tuple):
            return ",".join(MASK if setting.secret else str(item) for item in value)

        if setting.secret:
            return MASK

        return format_value(value)

    @property
    def bind_address(self) -> str:
        """HOST:PORT as gunicorn takes it, with brackets around an IPv6 address."""
        host = self._values["HOST"]
        if ":" in host:
            host = f"[{host}]"
        return f"{host}:{self._values['PORT']}"

    @property
    def instance_path(self) -> Path:
        """Absolute folder for local state."""
        return Path(self._values["INSTANCE_PATH"]).resolve()

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL to connect to, from DATABASE_URL or DATABASE_PATH."""
        url = self._values["DATABASE_URL"]
        if url is not None:
            return url.reveal()

        path = self._values["DATABASE_PATH"]
        if path == ":memory:":
            return "sqlite://"

        return f"sqlite:///{Path(path).resolve()}"

    def secret_key(self) -> str:
        """Return the key that signs sessions and CSRF tokens."""
        key = self._values["SECRET_KEY"]
        if isinstance(key, Secret):
            return key.reveal()
        raise LookupError("SECRET_KEY is not set")

    def secret_key_fallbacks(self) -> list[str]:
        """Return the earlier keys that are still accepted when verifying."""
        fallbacks = self._values.get("SECRET_KEY_FALLBACKS") or ()
        return [key.reveal() for key in fallbacks]
