"""Benchmark: `rectify sweep` from the command line, against a running `rectify serve`
(its local Prefect server, app/local_prefect.py) and without one (Prefect's
ephemeral API, started by each command).

    .venv/bin/python bench/cli_sweep.py [--runs N] [--port P]

A fresh home on SQLite with the small fictional plan (tests/fixtures); each
sweep is the real console script in its own process, as an operator types it,
timed wall-clock from start to exit, each as of a later night. First N
sweeps with no server (the ephemeral fallback; the first also creates
Prefect's database), then `rectify serve` is started (its start-up is timed
apart), N sweeps use it, and serve is stopped. The last line reads
`ephemeral_s=<median> served_s=<median> serve_start_s=<s> speedup=<ratio>`.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECTIFY = str(Path(sys.executable).with_name("rectify"))
PLAN = ROOT / "tests" / "fixtures" / "small-plan.yaml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(home: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECTIFY_", "PREFECT_"))}
    env.update(RECTIFY_DB=f"sqlite:///{home / 'rectify.db'}", RECTIFY_HOME=str(home / "home"),
               PREFECT_HOME=str(home / "prefect"), PREFECT_SERVER_API_PORT=str(port),
               RECTIFY_FILE_DROP=str(home / "drop"))
    return env


def _rectify(env: dict[str, str], *args: str) -> float:
    t = time.perf_counter()
    p = subprocess.run([RECTIFY, *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"rectify {' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--port", type=int, default=0, help="the local server's port (default: a free one)")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="rectify-bench-cli-"))
    env = _env(home, args.port or _free_port())
    _rectify(env, "init")
    _rectify(env, "load", str(PLAN), "--now", "2023-03-15")
    nights = (f"{date(2023, 4, 8) + timedelta(days=i):%Y-%m-%d} 00:05" for i in range(2 * args.runs))

    ephemeral = [_rectify(env, "sweep", "--now", next(nights)) for _ in range(args.runs)]
    print("no server (ephemeral API): " + ", ".join(f"{s:.1f}s" for s in ephemeral))

    record = home / "prefect" / "rectify-server.json"
    t = time.perf_counter()
    serve = subprocess.Popen([RECTIFY, "serve", "--cron", "0 0 1 1 *"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        while not record.exists():
            if serve.poll() is not None or time.perf_counter() - t > 180:
                raise SystemExit("rectify serve did not start its Prefect server")
            time.sleep(0.2)
        serve_start = time.perf_counter() - t
        served = [_rectify(env, "sweep", "--now", next(nights)) for _ in range(args.runs)]
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
    print(f"serve started its server in {serve_start:.1f}s; with it: " + ", ".join(f"{s:.1f}s" for s in served))
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} cores (times grow with it)")
    e, s = statistics.median(ephemeral), statistics.median(served)
    print(f"ephemeral_s={e:.1f} served_s={s:.1f} serve_start_s={serve_start:.1f} speedup={e / s:.1f}")


if __name__ == "__main__":
    main()
