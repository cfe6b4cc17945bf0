"""What the whole security layer costs on GET /login, against a bare Flask app.

Both apps run under gunicorn with the same workers on 127.0.0.1 and are loaded
by wrk in alternating rounds, so machine noise hits both alike. Bastion runs in
its production profile behind one trusted proxy hop (wrk sends the proxy's
X-Forwarded-Proto), so headers, nonce, host check, proxy handling, the https
check and session bookkeeping are all on the measured path.

The servers are pinned to the first CPU and wrk to the second (taskset), so the
load generator does not steal the servers' time; on a two-core machine that means
one worker each, the same for both apps.

Run: ``.venv/bin/python benchmarks/security_overhead.py`` (needs Debian's wrk;
not part of ``make test``). Options: ``--rounds N --seconds S --connections C``.
"""

import argparse
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKERS = "1"
SERVER_CPU = "0"
LOAD_CPU = "1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, headers=headers)
            with urllib.request.urlopen(request, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not answer")


def _start(
    command: list[str], environ: dict[str, str], folder: Path
) -> subprocess.Popen:
    log = (folder / "server.log").open("a")
    pinned = (
        ["taskset", "-c", SERVER_CPU, *command] if shutil.which("taskset") else command
    )
    return subprocess.Popen(pinned, cwd=folder, env=environ, stdout=log, stderr=log)


def _bastion(folder: Path, port: int, access_log: bool) -> subprocess.Popen:
    environ = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "TRUSTED_HOSTS": "127.0.0.1",
        "TRUSTED_PROXY_HOPS": "1",
        "DATABASE_PATH": str(folder / "bench.db"),
        "INSTANCE_PATH": str(folder / "instance"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": WORKERS,
        # Production's own level: the access line of every request is part of the cost.
        "LOG_LEVEL": "INFO",
        "LOG_ACCESS": "true" if access_log else "false",
    }
    bastion = Path(sys.executable).parent / "bastion"
    subprocess.run([str(bastion), "db", "upgrade"], cwd=folder, env=environ, check=True,
                   capture_output=True)  # fmt: skip
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:bastion.gunicorn_conf",
    ]
    return _start(command, environ, folder)


def _baseline(folder: Path, port: int) -> subprocess.Popen:
    environ = {
        **os.environ,
        "SECRET_KEY": secrets.token_hex(32),
        "PYTHONPATH": str(HERE),
    }
    command = [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
        "--workers", WORKERS, "--log-level", "warning", "baseline:app",
    ]  # fmt: skip
    return _start(command, environ, folder)


def _wrk(url: str, seconds: int, connections: int, headers: list[str]) -> float:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if shutil.which("taskset"):
        command = ["taskset", "-c", LOAD_CPU, *command]
    for header in headers:
        command += ["-H", header]
    output = subprocess.run(
        [*command, url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    if "Non-2xx" in output:
        raise SystemExit(f"{url} answered errors under load:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--no-access-log",
        action="store_true",
        help="Run Bastion with LOG_ACCESS=false, to show the security layer alone.",
    )
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")

    proxy_header = "X-Forwarded-Proto: https"
    with tempfile.TemporaryDirectory() as folder:
        bastion_port, baseline_port = _free_port(), _free_port()
        servers = [
            _bastion(Path(folder), bastion_port, not options.no_access_log),
            _baseline(Path(folder), baseline_port),
        ]
        try:
            bastion_url = f"http://127.0.0.1:{bastion_port}/login"
            baseline_url = f"http://127.0.0.1:{baseline_port}/login"
            _wait(bastion_url, {"X-Forwarded-Proto": "https"})
            _wait(baseline_url, {})
            results: dict[str, list[float]] = {"bastion": [], "bare flask": []}
            for _ in range(options.rounds):
                results["bastion"].append(
                    _wrk(
                        bastion_url,
                        options.seconds,
                        options.connections,
                        [proxy_header],
                    )
                )
                results["bare flask"].append(
                    _wrk(baseline_url, options.seconds, options.connections, [])
                )
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)

    for name, rates in results.items():
        print(f"{name:10} median {statistics.median(rates):8.1f} req/s  rounds {rates}")
    ratio = statistics.median(results["bastion"]) / statistics.median(
        results["bare flask"]
    )
    print(
        f"bastion / bare flask throughput: {ratio:.3f} (cost {100 * (1 - ratio):.1f}%)"
    )
    # Each round's pair ran back to back, so its ratio is the least disturbed by drift.
    bastion, bare = results["bastion"], results["bare flask"]
    paired = [mine / theirs for mine, theirs in zip(bastion, bare, strict=True)]
    print(f"median of per-round ratios: {statistics.median(paired):.3f}")


if __name__ == "__main__":
    main()
