"""How long loading and validating every setting takes, after imports.

Compares Bastion's ``load_settings()`` with what a bare Flask app does at start-up
(python-dotenv's ``dotenv_values`` plus ``app.config.from_prefixed_env``), on the same
production-like ``.env``, environment and secret file, in the same run.

Run: ``.venv/bin/python benchmarks/config_load.py`` (not part of ``make test``).
"""

import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from dotenv import dotenv_values
from flask import Flask

from bastion.config import load_settings

ROUNDS = 300


def _fixture(folder: Path) -> tuple[dict[str, str], Path]:
    key_file = folder / "secret_key"
    key_file.write_text(secrets.token_hex(32) + "\n", encoding="ascii")
    env_file = folder / ".env"
    env_file.write_text(
        "export APP_ENV=production\n"
        "# database\n"
        "DATABASE_URL='postgresql://bastion:pa$$word@db.internal:5432/bastion'\n"
        "WORKERS = 4\n"
        'LOG_LEVEL="warning"\n'
        "SESSION_LIFETIME_HOURS=12  # half a day\n",
        encoding="utf-8",
    )
    environ = {
        "SECRET_KEY_FILE": str(key_file),
        "SECRET_KEY_FALLBACKS": secrets.token_hex(32),
        "PORT": "8080",
        "HOST": "127.0.0.1",
        "PATH": os.environ.get("PATH", ""),
    }
    return environ, env_file


def _time(function, rounds: int = ROUNDS) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _bare_flask(app: Flask, environ: dict[str, str], env_file: Path) -> None:
    # What a bare Flask app does at start-up: read .env, take the environment, and let
    # Flask parse FLASK_* values; no validation, no secret files, no errors listed.
    values = {**dotenv_values(env_file, interpolate=False), **environ}
    app.config.update(values)
    app.config.from_prefixed_env()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        environ, env_file = _fixture(Path(folder))
        app = Flask("bare")
        # Warm up both, so imports and first-call caches are not measured.
        load_settings(environ=environ, env_file=env_file)
        _bare_flask(app, environ, env_file)

        bastion_ms, bare_ms = [], []
        for _ in range(5):  # alternate, so machine noise hits both alike
            bastion_ms += _time(
                lambda: load_settings(environ=environ, env_file=env_file)
            )
            bare_ms += _time(lambda: _bare_flask(app, environ, env_file))

    for label, samples in (
        ("bastion load_settings", bastion_ms),
        ("bare Flask", bare_ms),
    ):
        ordered = sorted(samples)
        p95 = ordered[int(len(ordered) * 0.95)]
        print(
            f"{label:22} median {statistics.median(samples):6.3f} ms  p95 {p95:6.3f} ms"
        )
    ratio = statistics.median(bastion_ms) / statistics.median(bare_ms)
    print(f"ratio (median)         {ratio:6.2f}x the bare Flask baseline")


if __name__ == "__main__":
    main()
