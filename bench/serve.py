"""Servers and load of the HTTP benchmarks: gunicorn on loopback, wrk as the load generator
(its own process), the workers' memory read from /proc.

wrk runs for a fixed time per measurement (`-d`), which bounds the number of requests too;
`bench/wrk/requests.lua` rotates over a list of requests and prints one JSON line with the
latency percentiles, the throughput and the count of HTTP errors."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
LUA = BENCH / "wrk" / "requests.lua"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before answering")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers (a redirect to the login page or a 404 is fine)
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"no answer from {url} within {seconds} s")


def gunicorn(
    python: Path,
    app: str,
    port: int,
    env: dict,
    cwd: Path,
    workers: int = 2,
    log: Path | None = None,
) -> subprocess.Popen:
    """Start gunicorn (sync workers, no access log) on 127.0.0.1:port."""
    cmd = [str(python), "-m", "gunicorn", app, "--workers", str(workers), "--bind",
           f"127.0.0.1:{port}", "--timeout", "120", "--log-level", "warning"]  # fmt: skip
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    wait_until_up(f"http://127.0.0.1:{port}/", proc)
    return proc


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def worker_pids(master: int) -> list[int]:
    path = Path(f"/proc/{master}/task/{master}/children")
    return sorted(int(p) for p in path.read_text().split()) if path.exists() else []


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wrk_available() -> str:
    path = shutil.which("wrk")
    if not path:
        raise SystemExit("wrk is missing: run scripts/ensure-bench-tools.sh (Debian's wrk)")
    return path


def drain(base_url: str, path: str = "/", workers: int = 2, rounds: int = 60) -> float:
    """Wait until the server has finished what an earlier measurement left queued: wrk stops
    on time, but the requests it had sent (eight slow ones at concurrency 8) still run,
    and the next measurement would wait behind them. One cheap request per worker at once,
    repeated until a round answers quickly; returns the seconds waited (bounded)."""
    import concurrent.futures

    started = time.monotonic()

    def one() -> float:
        t = time.monotonic()
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(base_url + path, timeout=120).read()
        return time.monotonic() - t

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for _ in range(rounds):
            if max(pool.map(lambda _i: one(), range(workers))) < 0.5:
                break
    return time.monotonic() - started


def load(
    base_url: str,
    requests: list[tuple[str, str, str]],
    headers: dict[str, str],
    *,
    concurrency: int,
    seconds: float,
) -> dict:
    """Run wrk against base_url with the given requests (method, path, body) in rotation."""
    with tempfile.TemporaryDirectory(prefix="keycare-wrk-") as tmp:
        req_file, head_file = Path(tmp) / "requests.tsv", Path(tmp) / "headers.txt"
        req_file.write_text("".join(f"{m}\t{p}\t{b}\n" for m, p, b in requests), encoding="utf-8")
        head_file.write_text("".join(f"{k}: {v}\n" for k, v in headers.items()), encoding="utf-8")
        env = {**os.environ, "BENCH_REQUESTS": str(req_file), "BENCH_HEADERS": str(head_file)}
        threads = min(concurrency, 2)
        cmd = [wrk_available(), f"-t{threads}", f"-c{concurrency}", f"-d{seconds:g}s",
               "--timeout", "60s", "-s", str(LUA), base_url]  # fmt: skip
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    line = next(x for x in reversed(out.splitlines()) if x.startswith("{"))
    return json.loads(line)
