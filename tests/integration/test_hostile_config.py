"""The real CLI against hostile settings: exit 2, a line per fault, no secret shown."""

import logging
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bastion.cli import main
from bastion.config.schema import ALIASES, BY_NAME
from tests.data.hostile_config import (
    CANARY,
    CORPUS,
    FIFO,
    FOLDER,
    LOOP,
    OTHER_KEY,
    STRONG_KEY,
    Hostile,
)

# One problem per line: the variable or file, its origin, then a sentence.
PROBLEM_LINE = re.compile(r"\S.* \(.+\): \S.*[.?]")
LEAKS = [CANARY, STRONG_KEY, OTHER_KEY, "\x1b", "\x00"]


def clean_environment() -> dict[str, str | None]:
    """Unset every variable Bastion reads, so the parent shell cannot leak in."""
    names = {*BY_NAME, *ALIASES, "ENV_FILE"}
    return {name: None for name in names | {name + "_FILE" for name in names}}


def invoke(args: list[str], environ: dict[str, str]) -> Result:
    """Run ``bastion`` with ``args`` in-process with only ``environ`` set."""
    # Production requires TRUSTED_HOSTS; the cases here are about other settings.
    base = {**clean_environment(), "TRUSTED_HOSTS": "localhost"}
    return CliRunner().invoke(main, args, env={**base, **environ})


def materialise(case: Hostile, tmp_path: Path) -> dict[str, str]:
    """Create the case's files and .env under ``tmp_path``; return its environment."""
    for name, content in case.files.items():
        path = tmp_path / name
        if content == FOLDER:
            path.mkdir()
        elif content == FIFO:
            os.mkfifo(path)
        elif content == LOOP:
            path.symlink_to(path)
        else:
            path.write_bytes(content)

    if case.dotenv is not None:
        dotenv = case.dotenv.replace(b"{tmp}", str(tmp_path).encode())
        (tmp_path / ".env").write_bytes(dotenv)
    return {
        name: value.replace("{tmp}", str(tmp_path))
        for name, value in case.environ.items()
    }


def problem_lines(stderr: str) -> list[str]:
    """The lines after the report's header; log lines from earlier tests come first."""
    lines = stderr.splitlines()
    [start] = [i for i, line in enumerate(lines) if line.startswith("Bastion")]
    return lines[start + 1 :]


def test_corpus_is_large_and_named_uniquely():
    """The corpus holds at least 45 cases, each with its own id."""
    ids = [case.id for case in CORPUS]

    assert len(ids) >= 45
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CORPUS, ids=[case.id for case in CORPUS])
def test_hostile_input_exits_2_naming_the_variable(tmp_path, monkeypatch, caplog, case):
    """`config check` refuses each hostile input: status 2, named, nothing leaked."""
    monkeypatch.chdir(tmp_path)
    environ = materialise(case, tmp_path)
    with caplog.at_level(logging.DEBUG):
        result = invoke(["config", "check"], environ)

    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert case.expect in result.output
    problems = problem_lines(result.stderr)
    assert problems
    assert all(PROBLEM_LINE.fullmatch(line) for line in problems), problems
    for leak in LEAKS:
        assert leak not in result.output
        assert leak not in caplog.text


# One strong secret, planted in one place through one source at a time.
CANARY_SECRET = "CanaryValue" + "9f4e2d7c1b8a6e3f5d0c2b7a9e1f4d6c"
DATABASE_URL = f"postgresql://bastion:{CANARY_SECRET}@db.internal:5432/bastion"
MASKED_URL = "postgresql+psycopg://bastion:***@db.internal:5432/bastion"
PLACES = {
    "SECRET_KEY": {"SECRET_KEY": CANARY_SECRET},
    "SECRET_KEY_FALLBACKS": {
        "SECRET_KEY": STRONG_KEY,
        "SECRET_KEY_FALLBACKS": f"{OTHER_KEY},{CANARY_SECRET}",
    },
    "DATABASE_URL": {"SECRET_KEY": STRONG_KEY, "DATABASE_URL": DATABASE_URL},
}


def plant(place: str, source: str, tmp_path: Path) -> dict[str, str]:
    """Set the settings of ``place`` through ``source``; return the environment."""
    values = PLACES[place]
    environ = {"APP_ENV": "production"}
    if source == "dotenv":
        lines = [f"{name}={value}" for name, value in values.items()]
        (tmp_path / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return environ

    if source == "environment":
        return {**environ, **values}

    for name, value in values.items():
        path = tmp_path / name.lower()
        path.write_text(value + "\n", encoding="utf-8")
        environ[f"{name}_FILE"] = str(path)
    return environ


@pytest.mark.parametrize("broken", [False, True], ids=["valid", "with-a-fault"])
@pytest.mark.parametrize("source", ["dotenv", "environment", "file"])
@pytest.mark.parametrize("place", sorted(PLACES))
def test_canary_secret_never_appears_in_output_or_logs(
    tmp_path, monkeypatch, caplog, place, source, broken
):
    """`config show` and `config check` print no secret, from any source or place."""
    monkeypatch.chdir(tmp_path)
    environ = plant(place, source, tmp_path)
    if broken:
        environ["DEBUG"] = "true"
    with caplog.at_level(logging.DEBUG):
        shown = invoke(["config", "show"], environ)
        checked = invoke(["config", "check"], environ)

    assert (shown.exit_code, checked.exit_code) == ((2, 2) if broken else (0, 0))
    for text in [shown.output, checked.output, caplog.text]:
        assert CANARY_SECRET not in text
        assert STRONG_KEY not in text
    for record in caplog.records:
        assert CANARY_SECRET not in f"{record.getMessage()} {vars(record)!r}"
    if not broken:
        assert "SECRET_KEY=**********  # " in shown.output
        assert "Settings are valid (production profile)." in checked.output
    if place == "DATABASE_URL" and not broken:
        assert f"DATABASE_URL={MASKED_URL}  # " in shown.output


def test_show_names_the_origin_of_each_planted_secret(tmp_path, monkeypatch):
    """`config show` says a secret came from its file, without showing the file."""
    monkeypatch.chdir(tmp_path)
    environ = plant("DATABASE_URL", "file", tmp_path)
    result = invoke(["config", "show"], environ)

    url_file = tmp_path / "database_url"
    expected = f"DATABASE_URL={MASKED_URL}  # file {str(url_file)!r} from "
    assert expected + "DATABASE_URL_FILE" in result.output
    assert CANARY_SECRET not in result.output


def test_url_password_with_slash_and_at_is_never_shown(tmp_path, monkeypatch):
    """A password like 'pa/ss@secret' is refused or masked whole, never shown."""
    monkeypatch.chdir(tmp_path)
    url = f"postgresql://bastion:pa/ss@{CANARY}@db.internal/bastion"
    result = invoke(["config", "show"], {"APP_ENV": "testing", "DATABASE_URL": url})

    assert CANARY not in result.output


def test_url_password_in_the_query_is_never_shown(tmp_path, monkeypatch):
    """DATABASE_URL's ?password= parameter is masked like the password part."""
    monkeypatch.chdir(tmp_path)
    url = f"postgresql://bastion@db.internal/bastion?password={CANARY}"
    result = invoke(["config", "show"], {"APP_ENV": "testing", "DATABASE_URL": url})

    assert CANARY not in result.output


def test_url_port_out_of_range_is_refused(tmp_path, monkeypatch):
    """A database port above 65535 is refused when the settings are checked."""
    monkeypatch.chdir(tmp_path)
    url = "postgresql://bastion@db.internal:99999999/bastion"
    result = invoke(["config", "check"], {"APP_ENV": "testing", "DATABASE_URL": url})

    assert result.exit_code == 2
    assert "DATABASE_URL" in result.output


def _limit_memory() -> None:
    # Without a cap, reading /dev/zero would take every byte of the machine's memory.
    cap = 512 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


@pytest.mark.slow
def test_env_file_that_is_an_endless_device_exits_2(tmp_path):
    """ENV_FILE naming /dev/zero is refused with status 2, not read forever."""
    environ = {
        name: value
        for name, value in os.environ.items()
        if name not in clean_environment()
    }
    result = subprocess.run(
        [str(Path(sys.executable).parent / "bastion"), "config", "check"],
        cwd=tmp_path,
        env={**environ, "APP_ENV": "testing", "ENV_FILE": "/dev/zero"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=_limit_memory,
    )

    assert result.returncode == 2, result.stderr[-300:]
    assert "/dev/zero" in result.stderr
    assert "Traceback" not in result.stderr
