"""Source precedence, one test per adjacent pair: value and origin both pinned."""

import secrets
from pathlib import Path

import pytest

from bastion.config import ConfigError, Secret, Settings, load_settings
from bastion.config.schema import BY_NAME

STRONG_KEY = secrets.token_hex(32)

# Two valid texts per setting, each read back as written by ``shown``: the first for
# the lower source, the second for the higher one.
VALUES = {
    "PORT": ("8001", "8002"),
    "WORKERS": ("3", "5"),
    "HOST": ("localhost", "::1"),
    "DEBUG": ("false", "true"),
    "LOG_LEVEL": ("WARNING", "ERROR"),
    "SESSION_LIFETIME_HOURS": ("12", "0.5"),
    "DATABASE_PATH": ("lower.db", "higher.db"),
    "PASSWORD_HASH_ITERATIONS": ("4", "5"),
    "SECRET_KEY": (STRONG_KEY, secrets.token_hex(32)),
    "SECRET_KEY_FALLBACKS": (secrets.token_hex(32), secrets.token_hex(32)),
    "DATABASE_URL": ("sqlite:////srv/lower.db", "sqlite:////srv/higher.db"),
}
SECRETS = ["SECRET_KEY", "SECRET_KEY_FALLBACKS", "DATABASE_URL"]
# A value for each setting that the testing profile gives a default of its own.
NOT_PROFILE_DEFAULT = {
    "DATABASE_PATH": "dotenv.db",
    "PASSWORD_HASH_MEMORY_KIB": "20000",
    "PASSWORD_HASH_ITERATIONS": "4",
    "PASSWORD_HASH_PARALLELISM": "2",
}


def load(tmp_path: Path, dotenv: str | None = None, **environ: str) -> Settings:
    """Load the testing profile from ``environ`` and, if given, a .env file."""
    environ.setdefault("APP_ENV", "testing")
    environ.setdefault("INSTANCE_PATH", str(tmp_path / "instance"))
    env_file = None
    if dotenv is not None:
        env_file = tmp_path / ".env"
        env_file.write_text(dotenv, encoding="utf-8")
    return load_settings(environ=environ, env_file=env_file)


def secret_file(tmp_path: Path, name: str, content: str) -> Path:
    """Write ``content`` and a trailing newline to a file, as secret mounts hold."""
    path = tmp_path / f"{name.lower()}.secret"
    path.write_text(content + "\n", encoding="utf-8")
    return path


def shown(settings: Settings, name: str) -> str:
    """The value of ``name`` as text, secrets revealed."""
    value = getattr(settings, name)
    if isinstance(value, Secret):
        return value.reveal()

    if isinstance(value, tuple):
        return ",".join(item.reveal() for item in value)

    return settings.display(name)


def file_origin(path: Path, name: str) -> str:
    """The origin that a value read through ``NAME_FILE`` reports."""
    return f"file {str(path)!r} from {name}_FILE"


@pytest.mark.parametrize("name", sorted(NOT_PROFILE_DEFAULT))
def test_profile_default_beats_the_default(tmp_path, name):
    """The testing profile's own default replaces the built-in one."""
    setting = BY_NAME[name]
    development = load(tmp_path, APP_ENV="development", SECRET_KEY=STRONG_KEY)
    testing = load(tmp_path)

    assert getattr(development, name.lower()) == setting.default
    assert development.origin(name) == "default"
    assert getattr(testing, name.lower()) == setting.profile_defaults["testing"]
    assert testing.origin(name) == "testing default"


@pytest.mark.parametrize(("name", "value"), sorted(NOT_PROFILE_DEFAULT.items()))
def test_dotenv_beats_the_profile_default(tmp_path, name, value):
    """A .env value replaces the profile's default, and names its line."""
    settings = load(tmp_path, f"# first\n{name}={value}\n")

    assert settings.display(name) == value
    assert settings.origin(name) == f"{tmp_path / '.env'} line 2"


@pytest.mark.parametrize("name", sorted(VALUES))
def test_environment_beats_dotenv(tmp_path, name):
    """The process environment replaces the .env value of the same name."""
    lower, higher = VALUES[name]
    settings = load(tmp_path, f"{name}={lower}\n", **{name: higher})

    assert shown(settings, name) == higher
    assert settings.origin(name) == "environment"


@pytest.mark.parametrize("name", sorted(VALUES))
def test_name_file_in_environment_beats_name_in_dotenv(tmp_path, name):
    """NAME_FILE in the environment replaces NAME from .env."""
    lower, higher = VALUES[name]
    path = secret_file(tmp_path, name, higher)
    settings = load(tmp_path, f"{name}={lower}\n", **{f"{name}_FILE": str(path)})

    assert shown(settings, name) == higher
    assert settings.origin(name) == file_origin(path, name)


@pytest.mark.parametrize("name", SECRETS + ["PORT"])
def test_name_file_in_dotenv_beats_name_in_environment(tmp_path, name):
    """A secret file is read last, so it wins even over the environment."""
    lower, higher = VALUES[name]
    path = secret_file(tmp_path, name, higher)
    settings = load(tmp_path, f"{name}_FILE={path}\n", **{name: lower})

    assert shown(settings, name) == higher
    assert settings.origin(name) == file_origin(path, name)


def test_name_file_in_environment_beats_name_file_in_dotenv(tmp_path):
    """With NAME_FILE in both .env and the environment, the environment's file wins."""
    lower, higher = VALUES["SECRET_KEY"]
    dotenv_file = secret_file(tmp_path, "dotenv", lower)
    environment_file = secret_file(tmp_path, "environment", higher)
    settings = load(
        tmp_path,
        f"SECRET_KEY_FILE={dotenv_file}\n",
        SECRET_KEY_FILE=str(environment_file),
    )

    assert settings.secret_key() == higher
    assert settings.origin("SECRET_KEY") == file_origin(environment_file, "SECRET_KEY")


@pytest.mark.parametrize("name", SECRETS + ["PORT"])
def test_name_and_name_file_both_in_the_environment_is_an_error(tmp_path, name):
    """NAME and NAME_FILE set in the environment: nobody can tell which was meant."""
    lower, higher = VALUES[name]
    path = secret_file(tmp_path, name, higher)
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, **{name: lower, f"{name}_FILE": str(path)})

    [problem] = caught.value.problems
    assert problem.name == name
    assert problem.origin == "environment"
    assert f"through {name}_FILE; keep only one." in problem.message
    assert lower not in str(caught.value)
    assert higher not in str(caught.value)


def test_name_and_name_file_both_in_dotenv_is_an_error(tmp_path):
    """NAME and NAME_FILE on two lines of one .env is the same error."""
    path = secret_file(tmp_path, "key", STRONG_KEY)
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, f"SECRET_KEY={STRONG_KEY}\nSECRET_KEY_FILE={path}\n")

    [problem] = caught.value.problems
    assert problem.name == "SECRET_KEY"
    assert problem.origin == f"{tmp_path / '.env'} line 2"
    assert STRONG_KEY not in str(caught.value)


def test_clash_in_dotenv_is_reported_at_dotenv_when_environment_has_a_file(
    tmp_path,
):
    """A clash inside .env names .env even when the environment sets NAME_FILE too."""
    path = secret_file(tmp_path, "key", STRONG_KEY)
    with pytest.raises(ConfigError) as caught:
        load(
            tmp_path,
            f"SECRET_KEY={STRONG_KEY}\nSECRET_KEY_FILE={path}\n",
            SECRET_KEY_FILE=str(path),
        )

    [problem] = caught.value.problems
    assert problem.origin.startswith(str(tmp_path / ".env"))
