"""<NAME>_FILE secrets: content less one newline; bad files refused, never shown."""

import os
import secrets
import threading
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import pytest

from bastion.config import ConfigError, Settings, load_settings

CANARY = "canary-Fw7Kp2Ns"
KEY = CANARY + secrets.token_hex(16)
DEVICE = "/dev/zero"


def load(tmp_path: Path, **environ: str) -> Settings:
    """Load the testing profile from exactly ``environ``, without a .env file."""
    environ.setdefault("APP_ENV", "testing")
    environ.setdefault("INSTANCE_PATH", str(tmp_path / "instance"))
    environ.setdefault("TRUSTED_HOSTS", "localhost")
    return load_settings(environ=environ, env_file=None)


def refused(tmp_path: Path, **environ: str) -> ConfigError:
    """Return the ConfigError that loading ``environ`` raises."""
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, **environ)
    return caught.value


def origin(path: Path | str, variable: str = "SECRET_KEY_FILE") -> str:
    """The origin of a value read from ``path`` through ``variable``."""
    return f"file {str(path)!r} from {variable}"


@pytest.mark.parametrize(
    "ending", ["", "\n", "\r\n"], ids=["no-newline", "newline", "crlf"]
)
def test_secret_file_is_read_less_one_trailing_newline(tmp_path, ending):
    """SECRET_KEY_FILE gives the file's content without its final line break."""
    path = tmp_path / "secret_key"
    path.write_bytes((KEY + ending).encode())
    settings = load(tmp_path, SECRET_KEY_FILE=str(path))

    assert settings.secret_key() == KEY
    assert settings.origin("SECRET_KEY") == origin(path)


@pytest.mark.parametrize("ending", ["\n\n", "\r\n\r\n", " \n"])
def test_only_one_trailing_newline_is_removed(tmp_path, ending):
    """A second line break or a trailing space stays, so the key is refused."""
    path = tmp_path / "secret_key"
    path.write_bytes((KEY + ending).encode())
    error = refused(tmp_path, SECRET_KEY_FILE=str(path))

    [problem] = error.problems
    assert (problem.name, problem.origin) == ("SECRET_KEY", origin(path))
    assert "printable ASCII" in problem.message
    assert CANARY not in error.report()


def test_non_secret_setting_keeps_inner_newlines_visible(tmp_path):
    """DATABASE_PATH_FILE with two newlines is refused, showing the value escaped."""
    path = tmp_path / "database_path"
    path.write_text("users.db\n\n", encoding="utf-8")
    error = refused(tmp_path, DATABASE_PATH_FILE=str(path))

    [problem] = error.problems
    assert problem.origin == origin(path, "DATABASE_PATH_FILE")
    assert "got 'users.db\\n'." in problem.message


def test_secret_file_through_a_symlink_is_read(tmp_path):
    """Kubernetes mounts secrets as symlinks; those are followed."""
    target = tmp_path / "..data" / "secret_key"
    target.parent.mkdir()
    target.write_text(KEY + "\n", encoding="utf-8")
    link = tmp_path / "secret_key"
    link.symlink_to(target)

    assert load(tmp_path, SECRET_KEY_FILE=str(link)).secret_key() == KEY


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "no-such-file"


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "folder").mkdir()
    return tmp_path / "folder"


def _fifo(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "fifo")
    return tmp_path / "fifo"


def _device(tmp_path: Path) -> Path:
    return Path(DEVICE)


def _symlink_to_fifo(tmp_path: Path) -> Path:
    (tmp_path / "link").symlink_to(_fifo(tmp_path))
    return tmp_path / "link"


def _symlink_loop(tmp_path: Path) -> Path:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    return tmp_path / "loop"


def _written(content: bytes) -> Callable[[Path], Path]:
    def make(tmp_path: Path) -> Path:
        (tmp_path / "secret_key").write_bytes(content)
        return tmp_path / "secret_key"

    return make


CANARY_BYTES = CANARY.encode()
BAD_FILES = [
    ("missing", _missing, "does not exist; check the path."),
    ("folder", _folder, "name the secret file itself."),
    ("fifo", _fifo, "is not a regular file; name the secret file itself."),
    ("device", _device, "is not a regular file; name the secret file itself."),
    ("link-to-fifo", _symlink_to_fifo, "is not a regular file"),
    ("symlink-loop", _symlink_loop, "cannot be read"),
    (
        "over-64-kib",
        _written(CANARY_BYTES * (64 * 1024 // len(CANARY_BYTES) + 1)),
        "is larger than 64 KiB",
    ),
    ("invalid-utf-8", _written(CANARY_BYTES + b"\xff\xfe\n"), "is not UTF-8 text;"),
    ("latin-1", _written("clé".encode("latin-1") + CANARY_BYTES), "not UTF-8"),
]


def _finishes(action: Callable[[], object], fifo: Path) -> object:
    """Run ``action``; fail, rather than hang, when it blocks on ``fifo``."""
    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(action()), daemon=True)
    worker.start()
    worker.join(timeout=5)
    hung = worker.is_alive()
    while worker.is_alive():
        with suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout=0.1)
    assert not hung, "reading the secret file blocked"
    return outcome[0]


def _refused_error(tmp_path: Path, **environ: str) -> ConfigError | Settings:
    try:
        return load(tmp_path, **environ)
    except ConfigError as error:
        return error


@pytest.mark.parametrize(
    ("make", "fragment"),
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
def test_unusable_secret_file_names_variable_and_path_only(tmp_path, make, fragment):
    """A file that cannot hold a secret is refused by variable and path, at once."""
    path = make(tmp_path)
    error = _finishes(
        lambda: _refused_error(tmp_path, SECRET_KEY_FILE=str(path)),
        tmp_path / "fifo",
    )

    assert isinstance(error, ConfigError)
    [problem] = error.problems
    assert problem.name == "SECRET_KEY_FILE"
    assert problem.origin == "environment"
    assert problem.message.startswith(f"{str(path)!r} ")
    assert fragment in problem.message
    assert CANARY not in error.report()


def test_secret_file_of_exactly_64_kib_is_read(tmp_path):
    """64 KiB is the limit: such a file is read, and its value judged as a key."""
    path = tmp_path / "secret_key"
    path.write_bytes(b"k" * (64 * 1024))
    error = refused(tmp_path, SECRET_KEY_FILE=str(path))

    [problem] = error.problems
    assert problem.name == "SECRET_KEY"
    assert "at most 1024 characters" in problem.message


@pytest.mark.parametrize(
    "content",
    [CANARY_BYTES + b"\x00" + CANARY_BYTES, b"\x00" + CANARY_BYTES + b"\n"],
    ids=["nul-inside", "nul-first"],
)
def test_secret_file_with_a_nul_byte_is_refused_without_its_content(tmp_path, content):
    """A NUL byte makes the key unusable; the error names the file, not the bytes."""
    path = tmp_path / "secret_key"
    path.write_bytes(content)
    error = refused(tmp_path, SECRET_KEY_FILE=str(path))

    [problem] = error.problems
    assert str(problem).startswith(f"SECRET_KEY ({origin(path)}): ")
    assert CANARY not in error.report()
    assert "\x00" not in error.report()


def test_empty_secret_file_is_an_empty_value(tmp_path):
    """An empty secret file is an empty value, named by its file."""
    path = tmp_path / "secret_key"
    path.write_bytes(b"\n")
    error = refused(tmp_path, SECRET_KEY_FILE=str(path))

    [problem] = error.problems
    assert str(problem) == (
        f"SECRET_KEY ({origin(path)}): is empty; give it a value or remove the line."
    )


def test_empty_secret_file_variable_is_refused(tmp_path):
    """SECRET_KEY_FILE set to nothing asks for a path."""
    error = refused(tmp_path, SECRET_KEY_FILE="")

    [problem] = error.problems
    assert str(problem) == (
        "SECRET_KEY_FILE (environment): is empty; give the path of a file."
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever the mode")
def test_unreadable_secret_file_names_variable_and_path(tmp_path):
    """A file without read permission is refused, naming variable and path."""
    path = tmp_path / "secret_key"
    path.write_text(KEY, encoding="utf-8")
    path.chmod(0)
    error = refused(tmp_path, SECRET_KEY_FILE=str(path))

    [problem] = error.problems
    assert problem.name == "SECRET_KEY_FILE"
    assert str(path) in problem.message
    assert "check its permissions" in problem.message


def test_weak_key_from_a_file_is_refused_in_production_naming_the_file(tmp_path):
    """The strength rules apply to a key from a file, and the error names it."""
    path = tmp_path / "secret_key"
    path.write_text(CANARY + "\n", encoding="utf-8")
    error = refused(tmp_path, APP_ENV="production", SECRET_KEY_FILE=str(path))

    [problem] = error.problems
    assert str(problem).startswith(f"SECRET_KEY ({origin(path)}): is shorter than 32")
    assert CANARY not in error.report()


def test_database_url_file_is_read_and_shown_masked(tmp_path):
    """DATABASE_URL_FILE gives the URL; display hides its password."""
    path = tmp_path / "database_url"
    path.write_text(f"postgres://bastion:{CANARY}@db.internal/bastion\n")
    settings = load(tmp_path, DATABASE_URL_FILE=str(path))

    expected = f"postgresql+psycopg://bastion:{CANARY}@db.internal/bastion"
    assert settings.database_url == expected
    assert settings.origin("DATABASE_URL") == origin(path, "DATABASE_URL_FILE")
    assert settings.display("DATABASE_URL") == (
        "postgresql+psycopg://bastion:***@db.internal/bastion"
    )


@pytest.mark.parametrize(
    "content",
    [
        f"mysql://bastion:{CANARY}@db.internal/bastion",
        f"postgresql://bastion:{CANARY}@db.internal",
        f"postgresql://bastion:p@{CANARY}@db.internal/bastion",
    ],
    ids=["scheme", "no-database", "unescaped-at"],
)
def test_bad_database_url_file_is_refused_without_the_url(tmp_path, content):
    """A bad URL from a file is refused naming the file, and never printed."""
    path = tmp_path / "database_url"
    path.write_text(content + "\n", encoding="utf-8")
    error = refused(tmp_path, DATABASE_URL_FILE=str(path))

    [problem] = error.problems
    assert (problem.name, problem.origin) == (
        "DATABASE_URL",
        origin(path, "DATABASE_URL_FILE"),
    )
    assert CANARY not in error.report()


def test_missing_database_url_file_names_its_variable(tmp_path):
    """DATABASE_URL_FILE naming no file is refused under that name."""
    path = tmp_path / "database_url"
    error = refused(tmp_path, DATABASE_URL_FILE=str(path))

    [problem] = error.problems
    assert str(problem) == (
        f"DATABASE_URL_FILE (environment): {str(path)!r} does not exist; "
        "check the path."
    )


def test_secret_key_fallbacks_file_is_read(tmp_path):
    """SECRET_KEY_FALLBACKS_FILE gives the list of earlier keys."""
    earlier = [secrets.token_hex(32), secrets.token_hex(32)]
    path = tmp_path / "fallbacks"
    path.write_text(",".join(earlier) + "\n", encoding="utf-8")
    settings = load(tmp_path, SECRET_KEY_FALLBACKS_FILE=str(path))

    assert settings.secret_key_fallbacks() == earlier
    assert settings.origin("SECRET_KEY_FALLBACKS") == origin(
        path, "SECRET_KEY_FALLBACKS_FILE"
    )


def test_secret_file_named_in_dotenv_is_read(tmp_path):
    """SECRET_KEY_FILE may itself come from .env; its origin names the file."""
    path = tmp_path / "secret_key"
    path.write_text(KEY + "\n", encoding="utf-8")
    env_file = tmp_path / ".env"
    env_file.write_text(f"SECRET_KEY_FILE={path}\n", encoding="utf-8")
    settings = load_settings(
        environ={"APP_ENV": "production", "TRUSTED_HOSTS": "localhost"},
        env_file=env_file,
    )

    assert settings.secret_key() == KEY
    assert settings.origin("SECRET_KEY") == origin(path)


def test_bad_file_named_in_dotenv_is_reported_at_its_line(tmp_path):
    """A missing file named in .env is reported at the .env line naming it."""
    env_file = tmp_path / ".env"
    env_file.write_text(f"PORT=8001\nSECRET_KEY_FILE={tmp_path / 'nope'}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"APP_ENV": "testing"}, env_file=env_file)

    [problem] = caught.value.problems
    assert (problem.name, problem.origin) == (
        "SECRET_KEY_FILE",
        f"{env_file} line 2",
    )
