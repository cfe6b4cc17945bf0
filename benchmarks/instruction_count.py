"""CPU work per GET /login, Bastion against the bare Flask app, counted by callgrind.

Request rates on a shared machine swing by tens of percent between rounds; the
number of instructions a request executes does not. Each app serves N requests
in-process under ``valgrind --tool=callgrind`` and once with none; the difference
divided by N is the instructions per request, and their ratio is the cost of the
security layer in CPU work (gunicorn's own share, the same for both, is left out).

Run: ``.venv/bin/python benchmarks/instruction_count.py`` (needs valgrind; takes
about two minutes; not part of ``make test``).
"""

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUESTS = 300


def _serve(which: str, count: int, folder: str) -> None:
    """Serve ``count`` GET /login requests in this process (run under valgrind)."""
    from werkzeug.test import EnvironBuilder

    headers = {}
    if which.startswith("bastion"):
        from bastion.app import create_app
        from bastion.config import load_settings

        settings = load_settings(
            environ={
                "APP_ENV": "production",
                "SECRET_KEY": secrets.token_hex(32),
                "TRUSTED_HOSTS": "127.0.0.1",
                "TRUSTED_PROXY_HOPS": "1",
                "DATABASE_PATH": f"{folder}/bench.db",
                "INSTANCE_PATH": f"{folder}/instance",
                # Start-up hashes a dummy password; the cheapest allowed keeps it short.
                "PASSWORD_HASH_MEMORY_KIB": "19456",
                "PASSWORD_HASH_ITERATIONS": "2",
                "PASSWORD_HASH_PARALLELISM": "1",
                # Logging as in production: the access line is part of the cost.
                # "bastion-no-access-log" leaves it out, to show the security layer's
                # own share.
                "LOG_ACCESS": str(which != "bastion-no-access-log").lower(),
            },
            env_file=None,
        )
        app = create_app(settings)
        headers = {"X-Forwarded-Proto": "https"}
    else:
        sys.path.insert(0, str(HERE))
        from baseline import app

    environ = EnvironBuilder(
        path="/login", base_url="http://127.0.0.1:8000", headers=headers
    ).get_environ()
    for _ in range(20 + count):
        b"".join(app(dict(environ), lambda *args: None))


def _instructions(which: str, count: int, folder: str) -> int:
    output = Path(folder) / f"callgrind.{which}.{count}"
    result = subprocess.run(
        [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={output}",
            sys.executable, __file__, "--serve", which, str(count), folder,
        ],
        capture_output=True, text=True, check=True,
        env={**os.environ, "SECRET_KEY": secrets.token_hex(32)},
    )  # fmt: skip
    return int(re.search(r"Collected : (\d+)", result.stderr).group(1))


def main() -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is missing: apt-get install valgrind")

    per_request = {}
    with tempfile.TemporaryDirectory() as folder:
        for which in ("bastion", "bastion-no-access-log", "baseline"):
            idle = _instructions(which, 0, folder)
            busy = _instructions(which, REQUESTS, folder)
            per_request[which] = (busy - idle) / REQUESTS
            print(f"{which:21} {per_request[which]:12,.0f} instructions per request")

    for which in ("bastion", "bastion-no-access-log"):
        ratio = per_request[which] / per_request["baseline"]
        print(f"{which} / bare flask: {ratio:.3f} (throughput ~{1 / ratio:.3f})")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        _serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
