"""The real `bastion` command and gunicorn config, run as processes with a set env."""

import ast
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bastion.config.schema import ALIASES, BY_NAME

BASTION = Path(sys.executable).parent / "bastion"
# Variables that would change what the processes read, beyond the declared settings.
_ALSO_CLEARED = {"ENV_FILE", "GUNICORN_CMD_ARGS", "PYTHONWARNINGS"}

pytestmark = pytest.mark.slow


def _is_setting(name: str) -> bool:
    base = name.removesuffix("_FILE")
    return (
        name in BY_NAME or name in ALIASES or base in BY_NAME or name in _ALSO_CLEARED
    )


def run(
    args: list[str], tmp_path: Path, **settings: str
) -> subprocess.CompletedProcess:
    """Run ``args`` in ``tmp_path`` (no .env there) with only ``settings`` set."""
    env = {name: value for name, value in os.environ.items() if not _is_setting(name)}
    env.setdefault("INSTANCE_PATH", str(tmp_path / "instance"))
    env.update(settings)
    return subprocess.run(
        args,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def bastion(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess:
    """Run the installed `bastion` console script."""
    return run([str(BASTION), *args], tmp_path, **settings)


def gunicorn_conf(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess:
    """Import bastion.gunicorn_conf in a fresh interpreter and print bind, workers."""
    code = "import bastion.gunicorn_conf as c; print(c.bind, c.workers)"
    return run([sys.executable, "-c", code], tmp_path, **settings)


def test_help_lists_the_commands(tmp_path):
    """`bastion --help` lists serve, gen-key and db."""
    result = bastion(tmp_path, "--help")

    assert result.returncode == 0
    commands = re.findall(r"^  (\S+)", result.stdout.split("Commands:")[1], re.M)
    assert {"serve", "gen-key", "db"} <= set(commands)


def test_gen_key_prints_a_new_hex_key_each_time(tmp_path):
    """`bastion gen-key` prints 64 hex characters, different on every run."""
    first = bastion(tmp_path, "gen-key")
    second = bastion(tmp_path, "gen-key")

    assert first.returncode == second.returncode == 0
    assert re.fullmatch(r"[0-9a-f]{64}\n", first.stdout)
    assert re.fullmatch(r"[0-9a-f]{64}\n", second.stdout)
    assert first.stdout != second.stdout
    assert first.stderr == ""


def test_serve_in_production_without_key_exits_2(tmp_path):
    """`serve` in production without SECRET_KEY exits 2 naming it, no traceback."""
    result = bastion(tmp_path, "serve", APP_ENV="production")

    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr
    assert "bastion gen-key" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout == ""


def test_serve_reports_every_problem_without_showing_the_key(tmp_path):
    """A placeholder key and DEBUG in production are both reported; no key is shown."""
    result = bastion(
        tmp_path, "serve", APP_ENV="production", SECRET_KEY="changeme", DEBUG="true"
    )

    lines = result.stderr.splitlines()
    assert result.returncode == 2
    assert any(line.startswith("SECRET_KEY (environment): ") for line in lines)
    assert any(line.startswith("DEBUG (environment): ") for line in lines)
    assert "changeme" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_db_upgrade_then_current_shows_the_head(tmp_path):
    """`db upgrade` migrates a new SQLite file and `db current` shows the head."""
    settings = {
        "APP_ENV": "development",
        "DATABASE_PATH": str(tmp_path / "data" / "bastion.db"),
    }

    upgrade = bastion(tmp_path, "db", "upgrade", **settings)
    assert upgrade.returncode == 0, upgrade.stderr
    current = bastion(tmp_path, "db", "current", **settings)

    assert current.returncode == 0, current.stderr
    assert re.search(r"^[0-9]{4}\b.*\(head\)", current.stdout, re.M)
    assert (tmp_path / "data" / "bastion.db").is_file()


def test_db_upgrade_creates_a_database_only_its_owner_can_read(tmp_path):
    """The SQLite file holds password hashes: mode 0600 in a 0700 folder."""
    database = tmp_path / "data" / "bastion.db"

    upgrade = bastion(
        tmp_path,
        "db",
        "upgrade",
        APP_ENV="development",
        DATABASE_PATH=str(database),
    )

    assert upgrade.returncode == 0, upgrade.stderr
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert stat.S_IMODE(database.parent.stat().st_mode) == 0o700


def test_db_command_with_bad_settings_exits_2(tmp_path):
    """Database commands check the settings first, like serve."""
    result = bastion(tmp_path, "db", "current", PORT="0")

    assert result.returncode == 2
    assert "PORT (environment): " in result.stderr
    assert "Traceback" not in result.stderr


def test_development_runs_share_one_stored_key(tmp_path):
    """Two development runs create one key file and the second reuses it."""
    settings = {"DATABASE_PATH": str(tmp_path / "bastion.db")}

    first = bastion(tmp_path, "db", "upgrade", **settings)
    key = (tmp_path / "instance" / "secret_key").read_text(encoding="ascii")
    second = bastion(tmp_path, "db", "upgrade", **settings)

    assert first.returncode == second.returncode == 0
    assert "generated a development key" in first.stderr
    assert "generated a development key" not in second.stderr
    assert sorted(os.listdir(tmp_path / "instance")) == ["secret_key"]
    assert (tmp_path / "instance" / "secret_key").read_text(encoding="ascii") == key


def test_unusable_instance_path_exits_2_without_traceback(tmp_path):
    """An INSTANCE_PATH that is a file is a settings problem, not a crash."""
    (tmp_path / "not-a-folder").write_text("", encoding="utf-8")
    result = bastion(
        tmp_path, "db", "current", INSTANCE_PATH=str(tmp_path / "not-a-folder")
    )

    assert "Traceback" not in result.stderr
    assert result.returncode == 2


def test_gunicorn_binds_loopback_when_only_port_is_set(tmp_path):
    """A stray PORT with HOST unset binds 127.0.0.1, never every interface."""
    result = gunicorn_conf(tmp_path, PORT="9000")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "['127.0.0.1:9000'] 2\n"


def test_gunicorn_bind_for_ipv6_is_one_gunicorn_can_parse(tmp_path):
    """An IPv6 HOST is bracketed, so gunicorn reads the address and PORT apart."""
    from gunicorn.util import parse_address

    result = gunicorn_conf(tmp_path, HOST="::1", PORT="9000", WORKERS="3")

    assert result.returncode == 0, result.stderr
    bind, workers = result.stdout.rsplit(" ", 1)
    assert [parse_address(address) for address in ast.literal_eval(bind)] == [
        ("::1", 9000)
    ]
    assert workers == "3\n"


def test_gunicorn_conf_with_bad_settings_exits_2(tmp_path):
    """Bad settings stop gunicorn's config with status 2 and the problems, no trace."""
    result = gunicorn_conf(
        tmp_path, APP_ENV="production", SECRET_KEY="changeme", PORT="0"
    )

    assert result.returncode == 2
    assert "SECRET_KEY (environment): " in result.stderr
    assert "PORT (environment): " in result.stderr
    assert "Traceback" not in result.stderr
    assert "changeme" not in result.stderr
    assert result.stdout == ""


def test_db_upgrade_with_json_logs_writes_only_json(tmp_path):
    """Warnings from loading the settings come out as JSON too, not as bare text."""
    env_file = tmp_path / "settings.env"
    env_file.write_text("LOG_FORMAT=json\nLOG_FORMAT=json\n")

    upgrade = bastion(
        tmp_path,
        "--env-file",
        str(env_file),
        "db",
        "upgrade",
        APP_ENV="development",
        DATABASE_PATH=str(tmp_path / "bastion.db"),
    )

    assert upgrade.returncode == 0, upgrade.stderr
    records = [json.loads(line) for line in upgrade.stderr.splitlines()]
    assert any("twice" in record["message"] for record in records)
