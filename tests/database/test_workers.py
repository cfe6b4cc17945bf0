"""Real gunicorn workers on PostgreSQL: each forked worker has its own connections."""

import json
import os
import subprocess
import sys
import textwrap
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers import free_port

pytestmark = pytest.mark.slow

# A preloaded app that, like many real ones, touches the database in the master
# before gunicorn forks; then a route reports which server backend served it.
FORK_APP = textwrap.dedent(
    """
    import os
    import time

    from sqlalchemy import text

    from bastion.app import create_app
    from bastion.app.extensions import db

    app = create_app()
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.commit()

    @app.route("/_backend")
    def backend():
        backend_pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        # Held a moment, so a request sent meanwhile must go to the other worker.
        time.sleep(0.2)
        return {"worker": os.getpid(), "backend": backend_pid}
    """
)


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
        return json.loads(response.read())


def _wait_for(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            _get_json(url)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"gunicorn did not answer at {url}")


def test_preloaded_workers_never_share_a_connection(tmp_path, postgres_url):
    """With preload_app, two workers each use their own PostgreSQL backends."""
    (tmp_path / "fork_app.py").write_text(FORK_APP, encoding="utf-8")
    port = free_port()
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(tmp_path),
        "APP_ENV": "development",
        "SECRET_KEY": "f" * 8 + os.urandom(28).hex(),
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": postgres_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": "2",
    }
    command = [
        sys.executable, "-m", "gunicorn", "--config", "python:bastion.gunicorn_conf",
        "--preload", "fork_app:app",
    ]  # fmt: skip
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(command, cwd=tmp_path, env=environ, stderr=log)
    try:
        url = f"http://127.0.0.1:{port}/_backend"
        _wait_for(url)
        backends: dict[int, set[int]] = {}
        # Sequential requests may all be taken by one worker; four at once cannot.
        with ThreadPoolExecutor(4) as pool:
            for _ in range(10):
                for answer in pool.map(_get_json, [url] * 4):
                    backends.setdefault(answer["worker"], set()).add(answer["backend"])
                if len(backends) == 2:
                    break
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()

    assert len(backends) == 2, f"requests reached only {backends}"
    first, second = backends.values()
    assert first.isdisjoint(second), backends
    assert server.pid not in backends


def test_unreachable_database_at_start_exits_3(tmp_path):
    """Start-up retries for DB_STARTUP_WAIT_SECONDS, then exits 3 naming the host."""
    port = free_port()
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "APP_ENV": "development",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"postgresql://app:canary-Pw-771@127.0.0.1:{port}/bastion",
        "DB_STARTUP_WAIT_SECONDS": "2",
    }
    bastion = Path(sys.executable).parent / "bastion"
    started = time.monotonic()
    result = subprocess.run(
        [str(bastion), "db", "upgrade"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started

    assert result.returncode == 3
    assert 2 <= elapsed < 20
    output = result.stdout + result.stderr
    assert f"127.0.0.1:{port}/bastion" in output
    assert "canary-Pw-771" not in output
    assert "Traceback" not in output
