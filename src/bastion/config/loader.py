"""Load settings from every source, validate them all, and report every problem at once.

Sources, later wins: built-in defaults, the profile's defaults, a ``.env`` file, the
process environment. This module is the only code in Bastion that reads ``os.environ``.
"""

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from bastion.config.errors import ConfigError, Problem
from bastion.config.schema import ALIASES, BY_NAME, SETTINGS, Setting
from bastion.config.secrets import (
    GENERATE_HINT,
    Secret,
    generate_key,
    key_weakness,
    load_or_create_dev_key,
)
from bastion.config.settings import Settings
from bastion.config.sources import (
    ENVIRONMENT,
    FILE_SUFFIX,
    RawValue,
    read_dotenv,
    read_environment,
    read_secret_files,
)

logger = logging.getLogger(__name__)

DEFAULT_ENV_FILE = Path(".env")
ENV_FILE_VARIABLE = "ENV_FILE"
_SHOWN_VALUE_LENGTH = 40


class _FromEnvironment:
    """Marker: take the ``.env`` path from ``ENV_FILE``, else ``./.env``."""

    def __repr__(self) -> str:
        return "ENV_FILE or ./.env"


FROM_ENVIRONMENT = _FromEnvironment()


def load_settings(
    environ: Mapping[str, str] | None = None,
    env_file: Path | str | None | _FromEnvironment = FROM_ENVIRONMENT,
) -> Settings:
    """Read and validate every setting, or raise one ConfigError listing all faults.

    ``environ`` defaults to the process environment; tests pass a dict instead.
    ``env_file`` is the ``.env`` path, which must then exist; None reads no file.
    By default the path comes from ``ENV_FILE``, else ``./.env`` is read if present
    (never a ``.env`` found in a parent folder).
    """
    if environ is None:
        environ = os.environ

    raw, problems = _read_sources(environ, env_file)

    profile, profile_problems = _resolve_profile(raw)
    problems += profile_problems

    values, origins, value_problems = _parse_all(raw, profile)
    problems += value_problems + _check_rules(values, origins, profile)
    if not problems:
        # Only a valid configuration may write a development key to disk.
        problems += _supply_missing_key(values, origins, profile)
    if problems:
        raise ConfigError(problems)

    return Settings(values, origins)


def _read_sources(
    environ: Mapping[str, str], env_file: Path | str | None | _FromEnvironment
) -> tuple[dict[str, RawValue], list[Problem]]:
    """Layer .env, the environment and secret files; later sources win."""
    declared = set(BY_NAME) | set(ALIASES)
    names = declared | {name + FILE_SUFFIX for name in BY_NAME}
    dotenv: dict[str, RawValue] = {}
    path, required, problems = _env_file_path(environ, env_file)
    if path is not None:
        dotenv, problems = read_dotenv(path, names, required)

    environment = read_environment(environ, names)
    files, file_problems = read_secret_files([dotenv, environment], set(BY_NAME))
    raw = {**dotenv, **environment, **files}
    return raw, problems + file_problems


def _env_file_path(
    environ: Mapping[str, str], env_file: Path | str | None | _FromEnvironment
) -> tuple[Path | None, bool, list[Problem]]:
    """Return the .env path to read, whether it must exist, and any problem."""
    if env_file is None:
        return None, False, []

    if not isinstance(env_file, _FromEnvironment):
        return Path(env_file), True, []

    chosen = environ.get(ENV_FILE_VARIABLE)
    if chosen is None:
        return DEFAULT_ENV_FILE, False, []

    if not chosen:
        problem = Problem(
            ENV_FILE_VARIABLE, ENVIRONMENT, "is empty; give the path of a .env file."
        )
        return None, False, [problem]

    return Path(chosen), True, []


def _resolve_profile(raw: dict[str, RawValue]) -> tuple[str, list[Problem]]:
    """Pick the profile from APP_ENV or its alias FLASK_ENV; both set must agree."""
    setting = BY_NAME["APP_ENV"]
    chosen: dict[str, str] = {}
    problems: list[Problem] = []
    for name in ("APP_ENV", "FLASK_ENV"):
        if name in raw:
            problem = _try_parse(setting, raw[name], chosen, name)
            if problem:
                problems.append(problem)

    if len(set(chosen.values())) > 1:
        flask_env = f"FLASK_ENV ({raw['FLASK_ENV'].origin}) is {chosen['FLASK_ENV']!r}"
        problems.append(
            Problem(
                "APP_ENV",
                raw["APP_ENV"].origin,
                f"is {chosen['APP_ENV']!r} but {flask_env}; "
                "set only APP_ENV, or make them the same.",
            )
        )

    if "APP_ENV" not in raw and "FLASK_ENV" in raw:
        raw["APP_ENV"] = raw["FLASK_ENV"]

    profile = chosen.get("APP_ENV") or chosen.get("FLASK_ENV") or setting.default
    if problems and not chosen:
        # The profile is unreadable; check against the strictest rules, so the fix
        # to APP_ENV reveals no further problem on the next start.
        profile = "production"
    return profile, problems


def _parse_all(
    raw: dict[str, RawValue], profile: str
) -> tuple[dict[str, object], dict[str, str], list[Problem]]:
    values: dict[str, object] = {}
    origins: dict[str, str] = {}
    problems: list[Problem] = []
    for setting in SETTINGS:
        found = raw.get(setting.name)
        if found is None:
            default = setting.default_for(profile)
            # A secret is a Secret wherever it came from, its default included.
            if setting.secret and default is not None:
                default = _as_secret(default)
            values[setting.name] = default
            origins[setting.name] = _default_origin(setting, profile)
            continue

        origins[setting.name] = found.origin
        if setting.name == "APP_ENV":
            values[setting.name] = profile
            continue

        problem = _try_parse(setting, found, values, setting.name)
        if problem:
            problems.append(problem)
        elif setting.secret:
            values[setting.name] = _as_secret(values[setting.name])

    return values, origins, problems


def _as_secret(value: object) -> Secret | tuple[Secret, ...]:
    if isinstance(value, tuple):
        return tuple(Secret(item) for item in value)
    return Secret(value)


def _try_parse(
    setting: Setting, found: RawValue, into: dict[str, object], key: str
) -> Problem | None:
    """Parse ``found`` into ``into[key]``, or return the problem it has."""
    if found.text == "":
        remedy = "unset it" if found.origin == ENVIRONMENT else "remove the line"
        return Problem(key, found.origin, f"is empty; give it a value or {remedy}.")

    try:
        into[key] = setting.parse(found.text)
    except ValueError as error:
        return Problem(key, found.origin, _describe(setting, found.text, error))
    return None


def _describe(setting: Setting, text: str, error: ValueError) -> str:
    message = f"{error}"
    if setting.secret:
        return f"{message}."

    shown = (
        text if len(text) <= _SHOWN_VALUE_LENGTH else text[:_SHOWN_VALUE_LENGTH] + "..."
    )
    # repr() escapes line breaks and control characters, so the line stays one line.
    return f"{message}; got {shown!r}."


def _default_origin(setting: Setting, profile: str) -> str:
    if profile in setting.profile_defaults:
        return f"{profile} default"
    if setting.default_for(profile) is None:
        return "not set"
    return "default"


def _check_rules(
    values: dict[str, object], origins: dict[str, str], profile: str
) -> list[Problem]:
    """Check the rules that span settings or depend on the profile."""
    problems: list[Problem] = []
    key = values.get("SECRET_KEY")
    if profile == "production" and key is None and "SECRET_KEY" not in _failed(values):
        problems.append(
            Problem(
                "SECRET_KEY",
                origins["SECRET_KEY"],
                f"is required in production; {GENERATE_HINT} and set SECRET_KEY "
                "in the environment.",
            )
        )

    if isinstance(key, Secret):
        problems += _check_strength("SECRET_KEY", key, origins, profile)

    if profile == "production" and values.get("DEBUG") is True:
        problems.append(
            Problem(
                "DEBUG",
                origins["DEBUG"],
                "must be false in production, where debug mode would expose the "
                "application's internals; remove DEBUG or set DEBUG=false.",
            )
        )

    problems += _check_fallbacks(values, origins, profile)
    if (
        profile == "production"
        and values.get("TRUSTED_HOSTS") is None
        and "TRUSTED_HOSTS" not in _failed(values)
    ):
        problems.append(
            Problem(
                "TRUSTED_HOSTS",
                origins["TRUSTED_HOSTS"],
                "is required in production; list the host names the site answers "
                "to, e.g. TRUSTED_HOSTS=example.com,www.example.com.",
            )
        )
    sqlite_source = _sqlite_source(values)
    if profile == "production" and sqlite_source is not None:
        logger.warning(
            "Production is running on SQLite (%s): one server only, writes queue "
            "behind each other, and losing that disk loses every account. Set "
            "DATABASE_URL to a PostgreSQL server for anything beyond a small install.",
            sqlite_source,
        )
    return problems


def _sqlite_source(values: dict[str, object]) -> str | None:
    """The setting that puts the database on SQLite, or None for a server."""
    url = values.get("DATABASE_URL")
    if url is None:
        return "DATABASE_PATH"
    text = url.reveal() if isinstance(url, Secret) else str(url)
    return "DATABASE_URL" if text.lower().startswith("sqlite") else None


def _check_strength(
    name: str, key: Secret, origins: dict[str, str], profile: str
) -> list[Problem]:
    """Refuse a weak key in production; elsewhere only warn, for convenience."""
    weakness = key_weakness(key.reveal())
    if weakness is None:
        return []

    if profile != "production":
        logger.warning("%s %s; it would be refused in production.", name, weakness)
        return []

    return [Problem(name, origins[name], f"{weakness}; {GENERATE_HINT} and use that.")]


def _check_fallbacks(
    values: dict[str, object], origins: dict[str, str], profile: str
) -> list[Problem]:
    """Hold each earlier key to the rules of SECRET_KEY, and refuse the current key."""
    fallbacks = values.get("SECRET_KEY_FALLBACKS")
    if not fallbacks:
        return []

    problems: list[Problem] = []
    for position, key in enumerate(fallbacks, start=1):
        label = f"SECRET_KEY_FALLBACKS entry {position}"
        origins[label] = origins["SECRET_KEY_FALLBACKS"]
        problems += _check_strength(label, key, origins, profile)
        if key == values.get("SECRET_KEY"):
            problems.append(
                Problem(
                    label,
                    origins[label],
                    "equals SECRET_KEY; list only keys you have rotated away from.",
                )
            )
    return problems


def _failed(values: dict[str, object]) -> set[str]:
    return {setting.name for setting in SETTINGS if setting.name not in values}


def _supply_missing_key(
    values: dict[str, object], origins: dict[str, str], profile: str
) -> list[Problem]:
    """Give development a stored key and testing a throwaway one when none is set."""
    if values["SECRET_KEY"] is not None:
        return []

    if profile == "testing":
        values["SECRET_KEY"] = Secret(generate_key())
        origins["SECRET_KEY"] = "generated for this process"  # noqa: S105 (a label)
        return []

    instance_path = Path(values["INSTANCE_PATH"]).resolve()
    try:
        values["SECRET_KEY"] = Secret(load_or_create_dev_key(instance_path))
    except ValueError as error:
        return [Problem("SECRET_KEY", "development key", str(error))]

    # Made by the first start, read from the file by every later one.
    origins["SECRET_KEY"] = f"development key file {instance_path / 'secret_key'}"
    return []
