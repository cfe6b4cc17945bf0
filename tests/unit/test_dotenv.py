""".env files as people write them: forms, line numbers, duplicates and bad lines."""

import logging
import os
import tempfile
import threading
from contextlib import chdir, suppress
from pathlib import Path

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bastion.config import ConfigError, Settings, load_settings

CANARY = "canary-Hq4mT9xZ"
quick = hypothesis.settings(max_examples=300, deadline=None)


def write_env(tmp_path: Path, content: str | bytes) -> Path:
    """Write ``content`` byte for byte to ``tmp_path/.env`` and return its path."""
    path = tmp_path / ".env"
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    path.write_bytes(data)
    return path


def load(env_file: Path | None, tmp_path: Path, **environ: str) -> Settings:
    """Load the testing profile from ``env_file`` and exactly ``environ``."""
    environ.setdefault("APP_ENV", "testing")
    environ.setdefault("INSTANCE_PATH", str(tmp_path / "instance"))
    return load_settings(environ=environ, env_file=env_file)


def refused(env_file: Path | None, tmp_path: Path, **environ: str) -> ConfigError:
    """Return the ConfigError that loading ``env_file`` raises."""
    with pytest.raises(ConfigError) as caught:
        load(env_file, tmp_path, **environ)
    return caught.value


def escape_double_quoted(value: str) -> str:
    """Escape ``value`` for a double-quoted .env value, as python-dotenv reads it."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


# Each form people write, the DATABASE_PATH it gives, and the line it is on.
FORMS = [
    ("export DATABASE_PATH=a.db\n", "a.db", 1),
    ("export   DATABASE_PATH=a.db\n", "a.db", 1),
    ("DATABASE_PATH = a.db\n", "a.db", 1),
    ("DATABASE_PATH\t=\ta.db\t\n", "a.db", 1),
    ("  DATABASE_PATH=a.db\n", "a.db", 1),
    ("DATABASE_PATH=my file.db  \n", "my file.db", 1),
    ("DATABASE_PATH='a b # c.db'\n", "a b # c.db", 1),
    ("DATABASE_PATH=' padded '\n", " padded ", 1),
    ("DATABASE_PATH='say \"hi\".db'\n", 'say "hi".db', 1),
    ('DATABASE_PATH="a b # c.db"\n', "a b # c.db", 1),
    ('DATABASE_PATH="it\'s.db"\n', "it's.db", 1),
    ('DATABASE_PATH="say \\"hi\\".db"\n', 'say "hi".db', 1),
    ('DATABASE_PATH="C:\\\\data\\\\a.db"\n', "C:\\data\\a.db", 1),
    ("DATABASE_PATH=a.db # the file\n", "a.db", 1),
    ("DATABASE_PATH=a.db\t# the file\n", "a.db", 1),
    ("DATABASE_PATH='a.db' # the file\n", "a.db", 1),
    ('DATABASE_PATH="a.db"# the file\n', "a.db", 1),
    ("DATABASE_PATH=a#b.db\n", "a#b.db", 1),
    ("# DATABASE_PATH=commented.db\nDATABASE_PATH=a.db\n", "a.db", 2),
    ("  # indented comment\n\n\nDATABASE_PATH=a.db\n", "a.db", 4),
    ("DATABASE_PATH=a.db", "a.db", 1),
    ("DATABASE_PATH=$HOME/${USER}.db\n", "$HOME/${USER}.db", 1),
    ('A=x\nDATABASE_PATH="${A}/$A.db"\n', "${A}/$A.db", 2),
    ("DATABASE_PATH=a.db\r\n", "a.db", 1),
    ("# c\r\n\r\nexport DATABASE_PATH = 'a.db' # c\r\n", "a.db", 3),
    ("\ufeffDATABASE_PATH=a.db\n", "a.db", 1),
    ("\ufeffDATABASE_PATH=a.db\r\nPORT=8001\r\n", "a.db", 1),
    ("\ufeff# c\r\nDATABASE_PATH=a.db\r\n", "a.db", 2),
    ('CERT="-----BEGIN-----\nAAAA\n-----END-----"\nDATABASE_PATH=a.db\n', "a.db", 4),
    ('CERT="one\r\ntwo"\r\nDATABASE_PATH=a.db\r\n', "a.db", 3),
    ("CERT='one\ntwo'\nDATABASE_PATH=a.db\n", "a.db", 3),
]


@pytest.mark.parametrize(("content", "value", "line"), FORMS)
def test_dotenv_form_gives_exact_value_and_line(tmp_path, content, value, line):
    """Each way people write a line gives the exact value and its line number."""
    env_file = write_env(tmp_path, content)
    settings = load(env_file, tmp_path)

    assert settings.database_path == value
    assert settings.origin("DATABASE_PATH") == f"{env_file} line {line}"


def test_windows_line_endings_keep_values_and_lines(tmp_path):
    """CRLF endings leave no carriage return in values and count lines right."""
    env_file = write_env(
        tmp_path, "\ufeffPORT=8001\r\n\r\nLOG_LEVEL='error'\r\nWORKERS=3 # c\r\n"
    )
    settings = load(env_file, tmp_path)

    assert (settings.port, settings.log_level, settings.workers) == (8001, "ERROR", 3)
    assert settings.origin("PORT") == f"{env_file} line 1"
    assert settings.origin("LOG_LEVEL") == f"{env_file} line 3"
    assert settings.origin("WORKERS") == f"{env_file} line 4"


def test_multi_line_value_is_one_value_starting_on_its_first_line(tmp_path):
    """A double-quoted value spanning lines is read whole, at the line it starts."""
    env_file = write_env(tmp_path, 'PORT=8001\nDATABASE_PATH="one\ntwo"\n')
    error = refused(env_file, tmp_path)

    [problem] = error.problems
    assert problem.name == "DATABASE_PATH"
    assert problem.origin == f"{env_file} line 2"
    assert "got 'one\\ntwo'." in problem.message


@pytest.mark.parametrize(
    "content",
    ["DEBUG=", "DEBUG=''", 'DEBUG=""', "DEBUG=   ", "export DEBUG=", "DEBUG= # c"],
)
def test_empty_value_is_parsed_then_refused_naming_its_line(tmp_path, content):
    """Every spelling of an empty value is an error naming the .env line."""
    env_file = write_env(tmp_path, f"# settings\n{content}\n")
    error = refused(env_file, tmp_path)

    [problem] = error.problems
    assert str(problem) == (
        f"DEBUG ({env_file} line 2): is empty; give it a value or remove the line."
    )


def test_environment_value_replaces_an_empty_dotenv_value(tmp_path):
    """An empty .env line that the environment overrides is not reported."""
    env_file = write_env(tmp_path, "PORT=\n")

    assert load(env_file, tmp_path, PORT="8001").port == 8001


@pytest.mark.parametrize(
    ("content", "first", "last"),
    [
        ("PORT=8001\nPORT=8002\n", 1, 2),
        ("PORT=8001\n\n# c\nexport PORT = 8002\n", 1, 4),
        ("\n\nPORT=8001 # c\n\nPORT='8002'\n", 3, 5),
        ("PORT=8001\r\n\r\nPORT=8002\r\n", 1, 3),
        ('PORT=8001\nX="a\nb"\nPORT=8002\n', 1, 4),
    ],
)
def test_duplicate_key_warns_with_both_lines_and_last_wins(
    tmp_path, caplog, content, first, last
):
    """A key set twice: the last wins, and one warning names the key and lines."""
    env_file = write_env(tmp_path, content)
    with caplog.at_level(logging.WARNING, logger="bastion.config"):
        settings = load(env_file, tmp_path)

    assert settings.port == 8002
    assert settings.origin("PORT") == f"{env_file} line {last}"
    [record] = [r for r in caplog.records if "twice" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        f"{env_file} sets 'PORT' twice, on line {first} and line {last}; "
        "the last one wins."
    )


def test_key_set_three_times_warns_for_each_repeat(tmp_path, caplog):
    """Each repeat of a key is its own warning, naming the line before it."""
    env_file = write_env(tmp_path, "PORT=8001\nPORT=8002\nPORT=8003\n")
    with caplog.at_level(logging.WARNING, logger="bastion.config"):
        settings = load(env_file, tmp_path)

    assert settings.port == 8003
    messages = [r.getMessage() for r in caplog.records if "twice" in r.getMessage()]
    assert [message.split(", ", 1)[1] for message in messages] == [
        "on line 1 and line 2; the last one wins.",
        "on line 2 and line 3; the last one wins.",
    ]


def test_duplicate_secret_warning_shows_no_value(tmp_path, caplog):
    """The warning for a repeated secret names lines, never either value."""
    first, second = CANARY + "-first-0123456789abcdef", CANARY + "-second-0123456789"
    env_file = write_env(tmp_path, f"SECRET_KEY={first}\nSECRET_KEY={second}\n")
    with caplog.at_level(logging.DEBUG):
        settings = load(env_file, tmp_path)

    assert settings.secret_key() == second
    assert "sets 'SECRET_KEY' twice, on line 1 and line 2" in caplog.text
    assert CANARY not in caplog.text


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (f"SECRET_KEY {CANARY}\n", 1),
        (f"PORT=8001\nSECRET_KEY: {CANARY}\n", 2),
        (f'SECRET_KEY="{CANARY}\n', 1),
        (f"SECRET_KEY='{CANARY}\n", 1),
        (f'SECRET_KEY="{CANARY}" {CANARY}\n', 1),
        (f"SECRET_KEY='{CANARY}'{CANARY}\n", 1),
        (f"={CANARY}\n", 1),
        (f"'SECRET_KEY={CANARY}\n", 1),
        (f"# c\r\n\r\n{CANARY}\r\n", 3),
        (f"\ufeffPORT=8001\n{CANARY}\n", 2),
        (f'X="a\nb"\n{CANARY}\n', 3),
        ("PORT=8001\nexport\n", 2),
    ],
)
def test_unparsable_line_names_file_and_line_never_content(tmp_path, content, line):
    """A line that is no assignment is reported by file and number, never quoted."""
    env_file = write_env(tmp_path, content)
    error = refused(env_file, tmp_path)

    [problem] = error.problems
    assert str(problem) == (
        f"{env_file} (line {line}): cannot be parsed; write it as NAME=value."
    )
    assert CANARY not in error.report()


def test_lines_after_an_unparsable_line_are_still_read(tmp_path):
    """One bad line does not hide the problems on the lines after it."""
    env_file = write_env(tmp_path, f'SECRET_KEY="{CANARY}\nPORT=0\n')
    error = refused(env_file, tmp_path)

    assert [(p.name, p.origin) for p in error.problems] == [
        (str(env_file), "line 1"),
        ("PORT", f"{env_file} line 2"),
    ]


# ENV_FILE and ./.env


def test_env_file_variable_chooses_the_file(tmp_path):
    """ENV_FILE names the .env to read, and origins name that file."""
    chosen = tmp_path / "prod.env"
    chosen.write_text("PORT=8001\n", encoding="utf-8")
    write_env(tmp_path, "PORT=8002\n")
    environ = {"APP_ENV": "testing", "ENV_FILE": str(chosen)}
    settings = load_settings(environ=environ)

    assert settings.port == 8001
    assert settings.origin("PORT") == f"{chosen} line 1"


def test_missing_file_named_by_env_file_is_an_error(tmp_path):
    """A file named by ENV_FILE that does not exist is refused, naming it."""
    missing = tmp_path / "missing.env"
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"APP_ENV": "testing", "ENV_FILE": str(missing)})

    [problem] = caught.value.problems
    assert str(problem) == (
        f"{missing} (env file): does not exist; check ENV_FILE or --env-file."
    )


def test_empty_env_file_variable_is_an_error(tmp_path):
    """ENV_FILE set to nothing is refused rather than read as ./.env."""
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"APP_ENV": "testing", "ENV_FILE": ""})

    [problem] = caught.value.problems
    assert (problem.name, problem.origin) == ("ENV_FILE", "environment")


def test_dotenv_in_the_working_folder_is_read_by_default(tmp_path, monkeypatch):
    """Without ENV_FILE, ./.env is read."""
    write_env(tmp_path, "PORT=8001\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={"APP_ENV": "testing"})

    assert settings.port == 8001
    assert settings.origin("PORT") == ".env line 1"


def test_dotenv_in_a_parent_folder_is_never_read(tmp_path, monkeypatch):
    """A .env above the working folder is ignored."""
    write_env(tmp_path, "PORT=8001\n")
    (tmp_path / "app").mkdir()
    monkeypatch.chdir(tmp_path / "app")
    settings = load_settings(environ={"APP_ENV": "testing"})

    assert settings.port == 8000
    assert settings.origin("PORT") == "default"


def test_missing_dotenv_in_the_working_folder_is_no_error(tmp_path, monkeypatch):
    """Without ENV_FILE and without ./.env, only defaults and environment apply."""
    monkeypatch.chdir(tmp_path)

    assert load_settings(environ={"APP_ENV": "testing"}).origin("PORT") == "default"


def _open_writer_to_unblock(fifo: Path) -> None:
    """Open and close the write end of ``fifo`` so a reader blocked on it returns."""
    with suppress(OSError):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


def test_env_file_that_is_a_fifo_is_refused_without_hanging(tmp_path):
    """ENV_FILE naming a FIFO is refused at once instead of waiting for a writer."""
    fifo = tmp_path / "env.fifo"
    os.mkfifo(fifo)
    outcome: list[Settings | Exception] = []
    environ = {"APP_ENV": "testing", "ENV_FILE": str(fifo)}
    worker = threading.Thread(
        target=lambda: outcome.append(_load_or_error(environ)), daemon=True
    )

    worker.start()
    worker.join(timeout=2)
    hung = worker.is_alive()
    while worker.is_alive():
        _open_writer_to_unblock(fifo)
        worker.join(timeout=0.1)

    assert not hung, "load_settings blocked on the FIFO"
    assert isinstance(outcome[0], ConfigError)
    assert str(fifo) in str(outcome[0])


def _load_or_error(environ: dict[str, str]) -> Settings | Exception:
    try:
        return load_settings(environ=environ)
    except Exception as error:
        return error


# Properties

# DATABASE_PATH refuses control characters, so only printable text is generated.
printable_text = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]),
    min_size=1,
    max_size=80,
).filter(str.isprintable)


@quick
@given(value=printable_text)
def test_any_printable_double_quoted_value_reads_back_identical(value):
    """Printable text, escaped for double quotes, reads back exactly."""
    with tempfile.TemporaryDirectory() as folder:
        env_file = Path(folder) / ".env"
        env_file.write_text(
            f'DATABASE_PATH="{escape_double_quoted(value)}"\nPORT=8001\n',
            encoding="utf-8",
        )
        settings = load(env_file, Path(folder))

    assert settings.database_path == value
    assert settings.port == 8001


# python-dotenv reads \\ and \' as escapes even between single quotes; see the
# xfail test below, so backslashes are left out here.
@quick
@given(value=printable_text.filter(lambda text: not set(text) & {"'", "\\"}))
def test_any_printable_single_quoted_value_reads_back_identical(value):
    """Printable text without ' or \\, in single quotes, reads back exactly."""
    with tempfile.TemporaryDirectory() as folder:
        env_file = Path(folder) / ".env"
        env_file.write_text(f"DATABASE_PATH='{value}'\nPORT=8001\n", encoding="utf-8")
        settings = load(env_file, Path(folder))

    assert settings.database_path == value
    assert settings.port == 8001


def test_single_quoted_backslashes_follow_python_dotenv(tmp_path):
    """Between single quotes a doubled backslash is one, as the guide documents."""
    env_file = write_env(tmp_path, "DATABASE_PATH='a\\\\b'\n")

    assert load(env_file, tmp_path).database_path == "a\\b"


def test_single_quoted_trailing_backslash_is_a_clean_error(tmp_path):
    """A backslash before the closing quote escapes it: an error naming the line."""
    env_file = write_env(tmp_path, "PORT=8001\nDATABASE_PATH='C:\\data\\'\n")

    error = refused(env_file, tmp_path)
    assert "line 2" in str(error)


line_fragments = st.sampled_from(
    [
        "PORT=8001",
        "export ",
        "SECRET_KEY",
        "DATABASE_PATH",
        "APP_ENV=production",
        "=",
        " = ",
        "'",
        '"',
        "\\",
        "#",
        "$",
        "${",
        "\n",
        "\r\n",
        "\r",
        "\x00",
        "\ufeff",
        "\t",
        " ",
        "é",
    ]
)
dotenv_bytes = st.one_of(
    st.binary(max_size=200),
    st.lists(line_fragments, max_size=30).map(lambda parts: "".join(parts).encode()),
    st.lists(
        st.one_of(line_fragments.map(str.encode), st.binary(max_size=4)), max_size=30
    ).map(b"".join),
)


@quick
@given(content=dotenv_bytes)
def test_any_bytes_as_dotenv_give_settings_or_config_error(content):
    """Whatever a .env holds, loading returns settings or raises ConfigError."""
    with tempfile.TemporaryDirectory() as folder, chdir(folder):
        env_file = Path(folder) / ".env"
        env_file.write_bytes(content)
        # No APP_ENV here: the file may pick any profile, even production.
        environ = {"INSTANCE_PATH": str(Path(folder) / "instance")}
        try:
            loaded = load_settings(environ=environ, env_file=env_file)
        except ConfigError as error:
            assert error.problems
            assert all("\n" not in str(problem) for problem in error.problems)
        else:
            assert isinstance(loaded, Settings)
