"""Bounded load test of the spinscope API on loopback.

Starts ``spinscope.shells.api.serve`` in a subprocess on a free port of 127.0.0.1, waits until
``/health`` answers, sends a warm-up round (one request per client), then ``--requests`` POSTs
of a fixed short article from ``--concurrency`` concurrent httpx clients. Prints the errors,
latency p50/p95/max, throughput and the server's resident memory (all its processes) before,
halfway and after: growth in the second half would mean a leak.
Exits 1 when any request failed. Traffic goes to 127.0.0.1 only; every loop is bounded.

    python benchmarks/load_api.py                      # 200 requests, 16 clients, 1 worker
    python benchmarks/load_api.py --unique --workers 2

The embedding cache is a fresh temporary folder. With the fixed article, every request after
the first reads its paragraph embeddings from that cache; ``--unique`` numbers the title of
each request so that one paragraph per request is embedded anew (closer to real traffic).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HOST = "127.0.0.1"  # loopback only, by design
TITLE = "Residents Furious as Council Hikes Water Bills Again"
ARTICLE = "\n".join(
    [
        TITLE,
        "",
        "The council has raised water bills for the fourth time in two years, and residents have had enough.",
        "Officials claim the increase pays for new pipes, yet nobody has seen a single pipe being laid.",
        "This reckless greed will drive families out of the town they love. It is time to say no.",
        "",
    ]
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (uvicorn workers are children of the supervisor)."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo.extend(int(child) for child in (task / "children").read_text().split())
    return pids


def rss_mib(pid: int) -> float:
    """Resident memory of the server's processes, in MiB (Linux /proc)."""
    total_kib = 0
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        except OSError:
            pass
    return total_kib / 1024


def start_server(port: int, workers: int, models: str | None, cache: str, log) -> subprocess.Popen:
    code = (
        "import sys; from pathlib import Path; from spinscope.shells.api import serve; "
        "serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]) if sys.argv[4] else None)"
    )
    env = os.environ | {"SPINSCOPE_CACHE": cache}
    return subprocess.Popen(
        [sys.executable, "-c", code, HOST, str(port), str(workers), models or ""],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )


def wait_healthy(base: str, server: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        try:
            if httpx.get(base + "/health", timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"the server did not answer /health within {timeout:.0f} s")


async def load(base: str, requests: int, concurrency: int, unique: bool, deadline: float, pid: int, offset: int = 0):
    latencies: list[float] = []
    errors: list[str] = []
    succeeded = [0]
    samples: list[float] = []
    numbers = iter(range(offset, offset + requests))
    halfway: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=base, timeout=120, trust_env=False, limits=limits) as client:

        async def one_client() -> None:
            for i in numbers:  # shared iterator: exactly `requests` requests in all
                if time.monotonic() > deadline:
                    errors.append(f"request {i}: not sent, the run passed its time limit")
                    continue
                text = ARTICLE.replace(TITLE, f"{TITLE} ({i})", 1) if unique else ARTICLE
                start = time.perf_counter()
                try:
                    response = await client.post("/api/v1/analyze", json={"text": text})
                    if response.status_code == 200:
                        succeeded[0] += 1
                        if succeeded[0] == requests // 2:
                            halfway.append(rss_mib(pid))
                    else:
                        errors.append(f"request {i}: HTTP {response.status_code} {response.text[:200]}")
                except httpx.HTTPError as error:
                    errors.append(f"request {i}: {type(error).__name__}: {error}")
                latencies.append(time.perf_counter() - start)

        async def sample_memory(stop: asyncio.Event) -> None:
            while not stop.is_set():
                samples.append(rss_mib(pid))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)

        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_memory(stop))
        start = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
        stop.set()
        await sampler
    return latencies, errors, samples + halfway, elapsed, succeeded[0], halfway


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--models", help="model folder (default: the shipped models)")
    parser.add_argument("--unique", action="store_true", help="number each request's title (one cache miss each)")
    parser.add_argument("--max-seconds", type=float, default=600, help="stop sending after this long")
    args = parser.parse_args()
    if not 1 <= args.requests <= 10_000 or not 1 <= args.concurrency <= 256:
        parser.error("--requests must be 1..10000 and --concurrency 1..256")

    port = free_port()
    base = f"http://{HOST}:{port}"
    with tempfile.TemporaryDirectory(prefix="spinscope-load-") as tmp:
        log_path = Path(tmp) / "server.log"
        with open(log_path, "wb") as log:
            server = start_server(port, args.workers, args.models, tmp, log)
            try:
                started = time.monotonic()
                wait_healthy(base, server, timeout=300)
                print(f"server: {base}, {args.workers} worker(s), ready in {time.monotonic() - started:.1f} s")
                # Warm-up at full concurrency: the worker threads (and their per-thread cache
                # connections) exist before "before" is measured, so growth means a leak.
                _, warm_errors, *_ = asyncio.run(
                    load(
                        base,
                        args.concurrency,
                        args.concurrency,
                        args.unique,
                        time.monotonic() + 300,
                        server.pid,
                        offset=args.requests,
                    )
                )
                if warm_errors:
                    raise RuntimeError(f"warm-up failed: {warm_errors[0]}")
                before = rss_mib(server.pid)
                deadline = time.monotonic() + args.max_seconds
                latencies, errors, samples, elapsed, ok, halfway = asyncio.run(
                    load(base, args.requests, args.concurrency, args.unique, deadline, server.pid)
                )
                after = rss_mib(server.pid)
            except Exception:
                log.flush()
                print(log_path.read_text(errors="replace")[-3000:], file=sys.stderr)
                raise
            finally:
                server.terminate()
                try:
                    server.wait(15)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()

    print(
        f"requests: {args.requests} from {args.concurrency} concurrent clients "
        f"({'unique titles' if args.unique else 'one fixed article'}), {len(ARTICLE)} characters each"
    )
    print(f"errors: {len(errors)}")
    for line in errors[:10]:
        print(f"  {line}")
    if latencies:
        print(
            f"latency: p50 {1000 * statistics.median(latencies):.0f} ms, p95 {1000 * percentile(latencies, 95):.0f} ms, "
            f"max {1000 * max(latencies):.0f} ms"
        )
    print(f"throughput: {ok / elapsed:.1f} requests/s ({ok} ok in {elapsed:.1f} s)")
    growth = after - before
    peak = max(samples, default=after)
    middle = halfway[0] if halfway else before
    # Caches and allocator arenas fill during the first requests; a leak keeps growing after.
    late = after - middle
    verdict = "flat" if late < max(10.0, 0.03 * before) else "STILL GROWING"
    print(
        f"server RSS: before {before:.0f} MiB, halfway {middle:.0f} MiB, peak {peak:.0f} MiB, "
        f"after {after:.0f} MiB (whole run {growth:+.0f} MiB, second half {late:+.0f} MiB: {verdict})"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
