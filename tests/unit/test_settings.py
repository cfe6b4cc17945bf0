"""load_settings: profiles, source precedence, validation, secrets kept out of text."""

import copy
import logging
import re
import secrets
import stat
from functools import partial
from pathlib import Path

import pytest

from bastion.config import ConfigError, Settings, load_settings

# Weak (too short) but unique, so any text that holds it has leaked a secret.
CANARY = "canary-Zq8vW3kP"
STRONG_KEY = secrets.token_hex(32)


def load(tmp_path: Path, env_file: Path | None = None, **environ: str) -> Settings:
    """Load settings from exactly ``environ``, with local state under ``tmp_path``."""
    environ.setdefault("INSTANCE_PATH", str(tmp_path / "instance"))
    # Production requires TRUSTED_HOSTS; tests about other settings declare one.
    environ.setdefault("TRUSTED_HOSTS", "localhost")
    return load_settings(environ=environ, env_file=env_file)


def refused(build, **environ: str) -> ConfigError:
    """Return the ConfigError that ``build(**environ)`` raises."""
    with pytest.raises(ConfigError) as caught:
        build(**environ)
    return caught.value


def write_env(tmp_path: Path, content: str) -> Path:
    """Write a .env file under ``tmp_path`` and return its path."""
    path = tmp_path / ".env"
    path.write_text(content, encoding="utf-8")
    return path


def names(error: ConfigError) -> set[str]:
    """The setting names that ``error`` has problems with."""
    return {problem.name for problem in error.problems}


# Profiles


def test_profile_defaults_to_development(tmp_path):
    """Without APP_ENV or FLASK_ENV the profile is development."""
    settings = load(tmp_path)

    assert settings.profile == "development"
    assert settings.origin("APP_ENV") == "default"


@pytest.mark.parametrize(
    ("value", "profile"),
    [
        ("development", "development"),
        ("production", "production"),
        ("testing", "testing"),
        ("PRODUCTION", "production"),
        ("Testing", "testing"),
        (" production ", "production"),
    ],
)
def test_app_env_selects_the_profile_in_any_case(tmp_path, value, profile):
    """APP_ENV picks the profile, without regard to letter case."""
    settings = load(tmp_path, APP_ENV=value, SECRET_KEY=STRONG_KEY)

    assert settings.profile == profile
    assert settings.app_env == profile


@pytest.mark.parametrize("value", ["production", "Production"])
def test_flask_env_is_read_as_app_env(tmp_path, value):
    """FLASK_ENV alone selects the profile, for existing .env files."""
    settings = load(tmp_path, FLASK_ENV=value, SECRET_KEY=STRONG_KEY)

    assert settings.profile == "production"
    assert settings.origin("APP_ENV") == "environment"


def test_flask_env_from_a_dotenv_file_selects_the_profile(tmp_path):
    """FLASK_ENV in .env selects the profile like APP_ENV would."""
    env_file = write_env(tmp_path, "FLASK_ENV=testing\n")

    assert load(tmp_path, env_file).profile == "testing"


def test_app_env_and_flask_env_that_differ_are_refused(tmp_path):
    """APP_ENV and FLASK_ENV set to different profiles is an error naming both."""
    error = refused(
        partial(load, tmp_path),
        APP_ENV="production",
        FLASK_ENV="development",
        SECRET_KEY=STRONG_KEY,
    )

    [problem] = error.problems
    assert "APP_ENV" in str(problem)
    assert "FLASK_ENV" in str(problem)
    assert "'production'" in problem.message
    assert "'development'" in problem.message


def test_app_env_and_flask_env_that_agree_are_accepted(tmp_path):
    """APP_ENV and FLASK_ENV naming the same profile, in any case, is fine."""
    settings = load(tmp_path, APP_ENV="testing", FLASK_ENV="TESTING")

    assert settings.profile == "testing"


@pytest.mark.parametrize("name", ["APP_ENV", "FLASK_ENV"])
def test_unknown_profile_is_refused(tmp_path, name):
    """A profile outside the three is refused under the name that was set."""
    error = refused(partial(load, tmp_path), **{name: "staging"})

    problem = error.problems[0]
    assert problem.name == name
    assert "must be one of development, production, testing" in problem.message


def test_unknown_profile_is_checked_by_production_rules(tmp_path):
    """With an unreadable profile, production's rules apply, so nothing hides."""
    error = refused(partial(load, tmp_path), APP_ENV="prod", DEBUG="true")

    names = [problem.name for problem in error.problems]
    assert names == ["APP_ENV", "SECRET_KEY", "DEBUG"]


# Precedence: environment, then .env, then the profile's default, then the default.


def test_default_applies_when_no_source_sets_a_value(make_settings):
    """A setting no source mentions takes its built-in default."""
    settings = make_settings()

    assert settings.port == 8000
    assert settings.origin("PORT") == "default"


def test_profile_default_beats_the_default(make_settings):
    """The testing profile's default replaces the built-in one."""
    settings = make_settings()

    assert settings.database_path == ":memory:"
    assert settings.origin("DATABASE_PATH") == "testing default"


def test_dotenv_beats_the_profile_default(make_settings, tmp_path):
    """A value in .env replaces the profile's default."""
    env_file = write_env(tmp_path, f"DATABASE_PATH={tmp_path / 'dotenv.db'}\n")
    settings = make_settings(env_file=env_file)

    assert settings.database_path == str(tmp_path / "dotenv.db")
    assert settings.origin("DATABASE_PATH") == f"{env_file} line 1"


def test_dotenv_beats_the_default(make_settings, tmp_path):
    """A value in .env replaces the built-in default."""
    env_file = write_env(tmp_path, "# settings\nPORT=8001\n")
    settings = make_settings(env_file=env_file)

    assert settings.port == 8001
    assert settings.origin("PORT") == f"{env_file} line 2"


def test_environment_beats_dotenv(make_settings, tmp_path):
    """The process environment replaces a value from .env."""
    env_file = write_env(tmp_path, "PORT=8001\nAPP_ENV=production\n")
    settings = make_settings(env_file=env_file, PORT="8002", APP_ENV="testing")

    assert settings.port == 8002
    assert settings.origin("PORT") == "environment"
    assert settings.profile == "testing"


def test_dotenv_reads_export_quotes_and_comments(make_settings, tmp_path):
    """export, single and double quotes and comments work as in a shell."""
    env_file = write_env(
        tmp_path,
        "# Bastion settings\n"
        "\n"
        "export PORT=8003\n"
        'LOG_LEVEL="warning"  # quieter\n'
        "HOST='localhost'\n"
        "WORKERS=3 # a comment after a value\n",
    )
    settings = make_settings(env_file=env_file)

    assert settings.port == 8003
    assert settings.log_level == "WARNING"
    assert settings.host == "localhost"
    assert settings.workers == 3


def test_dotenv_does_not_expand_dollar_signs(make_settings, tmp_path):
    """$NAME and ${NAME} in .env stay literal, since keys may contain $."""
    key = STRONG_KEY[:20] + "$HOME${PATH}$"
    env_file = write_env(
        tmp_path,
        f"SECRET_KEY={key}\n"
        f"DATABASE_PATH='{tmp_path}/$USER.db'\n"
        f'INSTANCE_PATH="{tmp_path}/${{HOME}}"\n',
    )
    settings = load_settings(environ={"APP_ENV": "testing"}, env_file=env_file)

    assert settings.secret_key() == key
    assert settings.database_path == f"{tmp_path}/$USER.db"
    assert settings.instance_path.name == "${HOME}"


def test_unparsable_dotenv_line_names_its_number_not_its_content(
    make_settings, tmp_path
):
    """A line that is no assignment is reported by line number, never quoted."""
    env_file = write_env(
        tmp_path, f"PORT=8001\n\n# comment\nSECRET_KEY {CANARY}\nDEBUG=false\n"
    )
    error = refused(make_settings, env_file=env_file)

    [problem] = error.problems
    assert problem.name == str(env_file)
    assert problem.origin == "line 4"
    assert "cannot be parsed" in problem.message
    assert CANARY not in str(error)


def test_dotenv_problems_are_reported_with_the_other_problems(make_settings, tmp_path):
    """A bad .env line and a bad value are both in the one error."""
    env_file = write_env(tmp_path, "PORT=0\nnot an assignment\n")
    error = refused(make_settings, env_file=env_file, DEBUG="maybe")

    assert names(error) == {str(env_file), "PORT", "DEBUG"}
    assert len(error.report().splitlines()) == 3


# Values


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("PORT", "abc", "must be a whole number from 1 to 65535"),
        ("PORT", "0", "must be a whole number from 1 to 65535"),
        ("PORT", "70000", "must be a whole number from 1 to 65535"),
        ("PORT", "1_000", "must be a whole number from 1 to 65535"),
        ("WORKERS", "0", "must be a whole number from 1 to 64"),
        ("DEBUG", "maybe", "must be one of true/false, 1/0, yes/no, on/off"),
        ("DEBUG", "y", "must be one of true/false, 1/0, yes/no, on/off"),
        ("SESSION_LIFETIME_HOURS", "0", "must be a number greater than 0"),
        ("SESSION_LIFETIME_HOURS", "-1", "must be a number greater than 0"),
        ("SESSION_LIFETIME_HOURS", "nan", "must be a number greater than 0"),
        ("SESSION_LIFETIME_HOURS", "inf", "must be a number greater than 0"),
        ("LOG_LEVEL", "trace", "must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("LOG_LEVEL", "warn", "must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("HOST", "http://localhost", "must be an IP address or host name"),
    ],
)
def test_bad_value_is_refused_naming_the_setting_and_source(
    make_settings, name, value, fragment
):
    """A bad value gives one problem with the name, the source and what is expected."""
    error = refused(make_settings, **{name: value})

    [problem] = error.problems
    assert problem.name == name
    assert problem.origin == "environment"
    assert fragment in problem.message
    assert str(problem).startswith(f"{name} (environment): ")


@pytest.mark.parametrize(
    "name", ["PORT", "DEBUG", "LOG_LEVEL", "APP_ENV", "SECRET_KEY", "DATABASE_URL"]
)
def test_empty_value_is_refused(make_settings, name):
    """An empty value is an error, not a silent default."""
    error = refused(make_settings, **{name: ""})

    problem = error.problems[0]
    assert problem.name == name
    assert "is empty" in problem.message


def test_empty_value_in_dotenv_is_refused_with_its_line(make_settings, tmp_path):
    """NAME= in .env is an error that names the file and line."""
    env_file = write_env(tmp_path, "PORT=8001\nDEBUG=\n")
    error = refused(make_settings, env_file=env_file)

    [problem] = error.problems
    assert problem.name == "DEBUG"
    assert problem.origin == f"{env_file} line 2"
    assert "is empty" in problem.message


def test_bad_value_is_shown_with_repr_on_one_line(make_settings):
    """A non-secret bad value is quoted with repr: control characters stay escaped."""
    error = refused(make_settings, LOG_LEVEL="bad\nline\x1b[2J\u202e")

    assert "\n" not in error.report()
    assert "\x1b" not in error.report()
    assert "\u202e" not in error.report()
    assert r"got 'bad\nline\x1b[2J\u202e'." in error.problems[0].message


def test_long_bad_value_is_shortened(make_settings):
    """A long non-secret bad value is cut to 40 characters."""
    error = refused(make_settings, LOG_LEVEL="x" * 200)

    assert f"got {'x' * 40 + '...'!r}." in error.problems[0].message


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("off", False)])
def test_debug_is_read_as_a_boolean(make_settings, value, expected):
    """DEBUG is read from the closed set of words."""
    assert make_settings(DEBUG=value).debug is expected


def test_debug_defaults_to_false(make_settings):
    """DEBUG is off unless set."""
    assert make_settings().debug is False


def test_session_lifetime_defaults_to_a_day(make_settings):
    """SESSION_LIFETIME_HOURS is 24 unless set."""
    assert make_settings().session_lifetime_hours == 24


def test_session_lifetime_takes_fractions(make_settings):
    """SESSION_LIFETIME_HOURS can be part of an hour."""
    assert make_settings(SESSION_LIFETIME_HOURS="0.5").session_lifetime_hours == 0.5


@pytest.mark.parametrize("level", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
def test_log_level_takes_each_level_in_any_case(make_settings, level):
    """LOG_LEVEL is one of the logging levels, returned in capitals."""
    assert make_settings(LOG_LEVEL=level.lower()).log_level == level


def test_log_level_defaults_to_info(make_settings):
    """LOG_LEVEL is INFO unless set."""
    assert make_settings().log_level == "INFO"


def test_testing_database_is_in_memory(make_settings):
    """The testing profile uses an in-memory SQLite database by default."""
    assert make_settings().database_url == "sqlite://"


def test_database_path_gives_a_sqlite_url(make_settings, tmp_path):
    """DATABASE_PATH becomes an absolute SQLite URL."""
    settings = make_settings(DATABASE_PATH=str(tmp_path / "users.db"))

    assert settings.database_url == f"sqlite:///{tmp_path / 'users.db'}"


def test_database_url_beats_database_path(make_settings, tmp_path):
    """DATABASE_URL is used even when DATABASE_PATH is also set."""
    settings = make_settings(
        DATABASE_URL=f"sqlite:///{tmp_path / 'from-url.db'}",
        DATABASE_PATH=str(tmp_path / "from-path.db"),
    )

    assert "from-url.db" in settings.database_url
    assert "from-path.db" not in settings.database_url


# Production rules


def test_production_without_secret_key_is_refused(make_settings):
    """Production needs SECRET_KEY, and the message says how to make one."""
    error = refused(make_settings, APP_ENV="production")

    [problem] = error.problems
    assert problem.name == "SECRET_KEY"
    assert "bastion gen-key" in problem.message
    assert str(problem).startswith("SECRET_KEY (")


def test_debug_in_production_is_refused(make_settings):
    """DEBUG=true is refused in production."""
    error = refused(
        make_settings, APP_ENV="production", SECRET_KEY=STRONG_KEY, DEBUG="on"
    )

    [problem] = error.problems
    assert problem.name == "DEBUG"
    assert "must be false in production" in problem.message


def test_debug_in_dotenv_is_refused_in_production_naming_the_line(tmp_path):
    """The DEBUG problem points at the .env line that set it."""
    env_file = write_env(tmp_path, "APP_ENV=production\nDEBUG=true\n")
    error = refused(partial(load, tmp_path, env_file), SECRET_KEY=STRONG_KEY)

    [problem] = error.problems
    assert problem.origin == f"{env_file} line 2"


def test_debug_in_development_is_allowed(make_settings):
    """DEBUG=true is fine outside production."""
    assert make_settings(APP_ENV="development", DEBUG="true").debug is True


@pytest.mark.parametrize(
    "key",
    [
        "your-secret-key-here",
        "generate-with-secrets-token-hex-32",
        "my-secret-key",
        "changeme",
        "secret",
        "dev",
        "CHANGEME",
        "Change_Me",
        "Your_Secret_Key_Here",
    ],
)
def test_placeholder_key_is_refused_in_production(make_settings, key):
    """Keys copied from tutorials and templates are refused as placeholders."""
    error = refused(make_settings, APP_ENV="production", SECRET_KEY=key)

    [problem] = error.problems
    assert problem.name == "SECRET_KEY"
    assert "well-known placeholder" in problem.message
    assert "bastion gen-key" in problem.message


@pytest.mark.parametrize(
    "key",
    [
        "changeme-changeme-changeme-changeme",
        "your-secret-key-here-your-secret-key-here",
        "generate-with-secrets-token-hex-32-generate-with",
        "my-secret-key-my-secret-key-my-secret-key",
        "secret-secret-secret-secret-secret-secret",
        "dev-dev-dev-dev-dev-dev-dev-dev-dev-dev-dev",
        "CHANGEME_0123456789_CHANGEME_0123456789",
    ],
)
def test_padded_placeholder_key_is_refused_in_production(make_settings, key):
    """A placeholder padded past 32 characters is still refused."""
    assert len(key) > 32
    error = refused(make_settings, APP_ENV="production", SECRET_KEY=key)

    assert names(error) == {"SECRET_KEY"}


@pytest.mark.parametrize(
    "key", ["SECRET-secret-SECRET-secret-SECRET", "Password-PASSWORD-password-Password"]
)
def test_placeholder_repeated_in_mixed_case_is_refused_in_production(
    make_settings, key
):
    """Changing the case of a repeated placeholder does not make it a secret."""
    assert len(key) > 32
    refused(make_settings, APP_ENV="production", SECRET_KEY=key)


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("Zq8vW3kPm2Rt7Yx", "shorter than 32 characters"),
        ("a1b2c3d4" * 3, "shorter than 32 characters"),
        ("abababababababababababababababababab", "fewer than 10 distinct characters"),
        ("012345678" * 4, "fewer than 10 distinct characters"),
    ],
)
def test_weak_key_is_refused_in_production(make_settings, key, fragment):
    """Short keys and keys with little variety are refused in production."""
    error = refused(make_settings, APP_ENV="production", SECRET_KEY=key)

    [problem] = error.problems
    assert problem.name == "SECRET_KEY"
    assert fragment in problem.message


@pytest.mark.parametrize("make_key", [secrets.token_hex, secrets.token_urlsafe])
def test_generated_key_is_accepted_in_production(make_settings, make_key):
    """Keys from the secrets module, as `bastion gen-key` makes, are accepted."""
    key = make_key(32)
    settings = make_settings(APP_ENV="production", SECRET_KEY=key)

    assert settings.secret_key() == key
    assert settings.origin("SECRET_KEY") == "environment"


def test_weak_key_outside_production_only_warns(make_settings, caplog):
    """A weak key in development loads, with a warning that names no value."""
    with caplog.at_level(logging.WARNING):
        settings = make_settings(APP_ENV="development", SECRET_KEY=CANARY)

    assert settings.secret_key() == CANARY
    assert "would be refused in production" in caplog.text
    assert CANARY not in caplog.text


def test_every_problem_is_reported_at_once(make_settings):
    """Several faults come back together in one ConfigError, one line each."""
    error = refused(
        make_settings,
        APP_ENV="production",
        SECRET_KEY="changeme",
        DEBUG="true",
        PORT="0",
    )

    assert names(error) == {"SECRET_KEY", "DEBUG", "PORT"}
    assert len(error.report().splitlines()) == 3
    assert str(error) == error.report()


# Secrets stay out of text


@pytest.mark.parametrize(
    "environ",
    [
        {"APP_ENV": "production", "SECRET_KEY": CANARY},
        {"APP_ENV": "production", "SECRET_KEY": CANARY * 4, "DEBUG": "true"},
        {"SECRET_KEY": CANARY + " with spaces"},
        {"SECRET_KEY": CANARY + "\x00"},
        {"SECRET_KEY": CANARY * 400},
        {"DATABASE_URL": CANARY},
        {"DATABASE_URL": f"postgresql://user:{CANARY}@db.internal:port/bastion"},
        {"DATABASE_URL": f"postgresql://user:{CANARY}\n@db.internal/bastion"},
    ],
    ids=[
        "weak-key",
        "repeated-weak-key",
        "key-with-spaces",
        "key-with-nul",
        "long-key",
        "url-not-a-url",
        "url-bad-port",
        "url-line-break",
    ],
)
def test_secret_value_never_appears_in_errors_or_logs(make_settings, caplog, environ):
    """Errors about a secret name it and its source, never its value."""
    with caplog.at_level(logging.DEBUG):
        error = refused(make_settings, **environ)

    texts = [str(error), error.report(), repr(error), repr(error.problems)]
    assert all(CANARY not in text for text in texts)
    assert CANARY not in caplog.text


def test_secret_in_dotenv_never_appears_in_errors(tmp_path):
    """A bad secret read from .env is reported by file and line only."""
    env_file = write_env(tmp_path, f"APP_ENV=production\nSECRET_KEY='{CANARY}'\n")
    error = refused(partial(load, tmp_path, env_file))

    [problem] = error.problems
    assert problem.origin == f"{env_file} line 2"
    assert CANARY not in str(error)


def test_loaded_settings_never_show_secrets(make_settings):
    """repr, str and display of the settings and their secrets hold no secret."""
    settings = make_settings(
        APP_ENV="production",
        SECRET_KEY=STRONG_KEY,
        DATABASE_URL=f"postgresql://user:{CANARY}@db.internal/bastion",
    )
    shown = [
        repr(settings),
        str(settings),
        str(settings.secret_key),
        repr(settings.secret_key),
        str(settings.SECRET_KEY),
        repr(settings.SECRET_KEY),
        f"{settings.SECRET_KEY}",
        f"{settings.SECRET_KEY!r}",
        str(settings.DATABASE_URL),
        repr(settings.DATABASE_URL),
        repr(vars(settings)),
        *(settings.display(name) for name in settings),
    ]

    for text in shown:
        assert STRONG_KEY not in text
        assert CANARY not in text
    assert settings.display("SECRET_KEY") != ""
    assert settings.secret_key() == STRONG_KEY


def test_url_password_with_an_unescaped_at_is_never_shown(make_settings):
    """A password holding '@' is either refused or fully masked."""
    url = f"postgresql://user:p@{CANARY}@db.internal/bastion"
    try:
        settings = make_settings(DATABASE_URL=url)
    except ConfigError as error:
        assert CANARY not in str(error)
    else:
        assert CANARY not in settings.display("DATABASE_URL")


# Keys generated for development and testing


def test_development_key_is_created_only_for_the_owner(tmp_path):
    """Without SECRET_KEY, development stores a new key in INSTANCE_PATH, mode 0600."""
    settings = load(tmp_path, APP_ENV="development")

    key_file = tmp_path / "instance" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert settings.secret_key() == key_file.read_text(encoding="ascii")
    assert re.fullmatch("[0-9a-f]{64}", settings.secret_key())
    assert "secret_key" in settings.origin("SECRET_KEY")


def test_development_key_is_reused_across_restarts(tmp_path):
    """A second start in development reads the stored key instead of making one."""
    first = load(tmp_path, APP_ENV="development")
    second = load(tmp_path, APP_ENV="development")

    assert first.secret_key() == second.secret_key()
    assert [path.name for path in (tmp_path / "instance").iterdir()] == ["secret_key"]
    # Both name the file, and neither claims to have just generated the key.
    key_file = (tmp_path / "instance" / "secret_key").resolve()
    expected = f"development key file {key_file}"
    assert first.origin("SECRET_KEY") == second.origin("SECRET_KEY") == expected


def test_development_key_is_not_stored_when_a_key_is_set(tmp_path):
    """A key given in the environment is used, and no key file is written."""
    settings = load(tmp_path, APP_ENV="development", SECRET_KEY=STRONG_KEY)

    assert settings.secret_key() == STRONG_KEY
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_testing_key_is_fresh_and_never_stored(tmp_path):
    """The testing profile gets a throwaway key per load and writes no file."""
    first = load(tmp_path, APP_ENV="testing")
    second = load(tmp_path, APP_ENV="testing")

    assert first.secret_key() != second.secret_key()
    assert not (tmp_path / "instance").exists()


@pytest.mark.parametrize("case", ["instance-path-is-a-file", "key-file-is-empty"])
def test_unusable_development_key_store_is_a_config_error(tmp_path, case):
    """A key file that cannot be made or read is reported like any bad setting."""
    instance = tmp_path / "instance"
    if case == "instance-path-is-a-file":
        instance.write_text("not a folder", encoding="utf-8")
    else:
        instance.mkdir()
        (instance / "secret_key").write_text("", encoding="ascii")

    error = refused(partial(load, tmp_path), APP_ENV="development")

    assert "INSTANCE_PATH" in str(error) or "SECRET_KEY" in str(error)


def test_settings_can_be_copied(make_settings):
    """A shallow copy of the settings reads the same values."""
    settings = make_settings(PORT="8004")

    assert copy.copy(settings).port == 8004
