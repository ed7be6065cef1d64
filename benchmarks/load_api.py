"""Bounded load test of the spinscope API on loopback: the README's load table.

Starts ``spinscope.shells.api.serve`` (default settings) in a subprocess on a free port of
127.0.0.1, waits until ``/health`` answers, then runs one cell per kind of article and number of
clients: ``--requests`` POSTs to ``/api/v1/analyze`` shared by that many concurrent httpx
clients. "repeated" is one fixed short article (analysed once, then answered from the cache of
analyses); "fresh" numbers the title of every request, so each is a new article to analyse
(its body paragraphs' embeddings are on disk after the first, its token states are not). A
client answered 503 waits the ``Retry-After`` it was given, as a polite client does, then
sends its next request. Meanwhile a separate client asks ``/health`` every 50 ms.

Each cell reports answers per second, latency p50 and p95, errors (anything but 200 and 503),
503s, and the p95 of ``/health``; then the server's resident memory (all its processes) and
its cache. Exits 1 when any request failed with an error. Traffic goes to 127.0.0.1 only and
every loop is bounded in count and in time.

    python benchmarks/load_api.py                          # the README table: 1, 8, 16 and 32 clients
    python benchmarks/load_api.py --clients 16 --kinds repeated
    python benchmarks/load_api.py --soak 10000             # memory over a long run

``--soak N`` sends N requests from 16 clients instead, one in two a fresh article and the others
drawn from 50 articles seen before, and prints the server's memory every tenth of the run:
flat once the cache holds its bound means no leak.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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


def numbered(number: int) -> str:
    return ARTICLE.replace(TITLE, f"{TITLE} ({number})", 1)


# --- the server -------------------------------------------------------------------------------


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
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
    return total_kib / 1024


def start_server(port: int, workers: int, models: str | None, cache: str, log) -> subprocess.Popen:
    code = (
        "import sys; from pathlib import Path; from spinscope.shells.api import serve; "
        "serve(host=sys.argv[1], port=int(sys.argv[2]), workers=int(sys.argv[3]), "
        "models=Path(sys.argv[4]) if sys.argv[4] else None)"
    )
    env = os.environ | {"SPINSCOPE_CACHE": cache}  # a fresh embeddings cache: nothing embedded before
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
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base + "/health", timeout=2, trust_env=False).status_code == 200:
                return
        time.sleep(0.25)
    raise RuntimeError(f"the server did not answer /health within {timeout:.0f} s")


def cache_metrics(base: str) -> dict[str, float]:
    """The cache and queue figures of ``GET /metrics``."""
    text = httpx.get(base + "/metrics", timeout=10, trust_env=False).text
    found = re.findall(r"^(spinscope_(?:cache|queue|refused)\w*)(\{[^}]*\})? (\S+)$", text, re.M)
    return {name + labels: float(value) for name, labels, value in found}


# --- a cell -----------------------------------------------------------------------------------


@dataclass
class Cell:
    """The answers to one cell's requests."""

    latencies: list[float] = field(default_factory=list)  # of the 200 answers
    health: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    refused: int = 0
    ok: int = 0
    elapsed: float = 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def one_request(client: httpx.AsyncClient, text: str, cell: Cell) -> float:
    """Send one article; record its answer; the seconds to wait before the next (Retry-After)."""
    start = time.perf_counter()
    try:
        response = await client.post("/api/v1/analyze", json={"text": text})
    except httpx.HTTPError as error:
        cell.errors.append(f"{type(error).__name__}: {error}")
        return 0.0
    if response.status_code == 200:
        cell.ok += 1
        cell.latencies.append(time.perf_counter() - start)
    elif response.status_code == 503:
        cell.refused += 1
        return float(response.headers.get("retry-after", "1"))
    else:
        cell.errors.append(f"HTTP {response.status_code} {response.text[:200]}")
    return 0.0


async def watch_health(client: httpx.AsyncClient, cell: Cell, stop: asyncio.Event) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        try:
            response = await client.get("/health")
            if response.status_code != 200:
                cell.errors.append(f"/health: HTTP {response.status_code}")
        except httpx.HTTPError as error:
            cell.errors.append(f"/health: {type(error).__name__}")
        cell.health.append(time.perf_counter() - start)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.05)


async def run_cell(
    base: str, texts: Callable[[int], str], requests: int, clients: int, deadline: float, on_answer=None
) -> Cell:
    """``requests`` requests (the i-th sends ``texts(i)``) from ``clients`` concurrent clients."""
    cell = Cell()
    numbers = iter(range(requests))  # shared: exactly `requests` requests in all
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def one_client(client: httpx.AsyncClient) -> None:
        for i in numbers:
            if time.monotonic() > deadline:
                cell.errors.append(f"request {i}: not sent, the run passed its time limit")
                continue
            wait = await one_request(client, texts(i), cell)
            if on_answer is not None:
                on_answer(cell)
            if wait:
                await asyncio.sleep(min(wait, max(0.0, deadline - time.monotonic())))

    async with (
        httpx.AsyncClient(base_url=base, timeout=180, trust_env=False, limits=limits) as client,
        httpx.AsyncClient(base_url=base, timeout=30, trust_env=False) as prober,
    ):
        stop = asyncio.Event()
        health = asyncio.create_task(watch_health(prober, cell, stop))
        start = time.perf_counter()
        await asyncio.gather(*(one_client(client) for _ in range(clients)))
        cell.elapsed = time.perf_counter() - start
        stop.set()
        await health
    return cell


# --- the runs ---------------------------------------------------------------------------------

HEADER = "| articles | clients | requests | answers/s | p50 ms | p95 ms | errors | 503s | /health p95 ms |"


def row(kind: str, clients: int, requests: int, cell: Cell) -> str:
    def ms(values: list[float], q: float) -> str:
        return f"{1000 * percentile(values, q):.0f}" if values else "-"

    rate = cell.ok / cell.elapsed if cell.elapsed else 0.0
    return (
        f"| {kind} | {clients} | {requests} | {rate:.1f} | {ms(cell.latencies, 50)} | {ms(cell.latencies, 95)} "
        f"| {len(cell.errors)} | {cell.refused} | {ms(cell.health, 95)} |"
    )


def table(base: str, args: argparse.Namespace) -> list[Cell]:
    fresh = itertools.count(1)  # every fresh article in the run is new, across cells too
    sources: dict[str, Callable[[int], str]] = {
        "repeated": lambda i: ARTICLE,
        "fresh": lambda i: numbered(next(fresh)),
    }
    print(HEADER)
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    cells = []
    for kind in args.kinds:
        for clients in args.clients:
            deadline = time.monotonic() + args.max_seconds
            cell = asyncio.run(run_cell(base, sources[kind], args.requests, clients, deadline))
            print(row(kind, clients, args.requests, cell), flush=True)
            cells.append(cell)
    return cells


def soak(base: str, pid: int, args: argparse.Namespace) -> list[Cell]:
    """``--soak`` requests, one in two fresh, the memory printed every tenth of the run."""
    step = max(1, args.soak // 10)
    texts = lambda i: numbered(-(i % 50) - 1) if i % 2 else numbered(10**6 + i)
    readings: list[tuple[int, float]] = []

    def on_answer(cell: Cell) -> None:
        answered = cell.ok + cell.refused + len(cell.errors)
        if answered % step == 0 and (not readings or readings[-1][0] != answered):
            readings.append((answered, rss_mib(pid)))
            print(f"  {answered:6d} answered: server RSS {readings[-1][1]:.0f} MiB", flush=True)

    deadline = time.monotonic() + args.max_seconds
    cell = asyncio.run(run_cell(base, texts, args.soak, 16, deadline, on_answer))
    print(HEADER)
    print(row("soak: half fresh", 16, args.soak, cell))
    if len(readings) >= 4:
        middle, last = readings[len(readings) // 2][1], readings[-1][1]
        verdict = "flat" if last - middle < max(10.0, 0.03 * middle) else "STILL GROWING"
        print(f"server RSS: halfway {middle:.0f} MiB, end {last:.0f} MiB ({last - middle:+.0f} MiB: {verdict})")
    return [cell]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per cell")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 16, 32], help="concurrent clients per cell")
    parser.add_argument("--kinds", nargs="+", choices=["repeated", "fresh"], default=["repeated", "fresh"])
    parser.add_argument("--soak", type=int, default=0, help="instead: this many requests, memory over the run")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--models", help="model folder (default: the shipped models)")
    parser.add_argument("--max-seconds", type=float, default=300, help="stop sending after this long (per cell)")
    args = parser.parse_args()
    if not 1 <= args.requests <= 10_000 or not all(1 <= c <= 256 for c in args.clients) or args.soak > 100_000:
        parser.error("--requests must be 1..10000, --clients 1..256 and --soak at most 100000")

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
                per = f"{args.soak} requests in all" if args.soak else f"{args.requests} requests per cell"
                print(f"article: {len(ARTICLE)} characters; {per}\n")
                before = rss_mib(server.pid)
                cells = soak(base, server.pid, args) if args.soak else table(base, args)
                after = rss_mib(server.pid)
                cache = cache_metrics(base)
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

    print(f"\nserver RSS: {before:.0f} MiB after start-up, {after:.0f} MiB at the end ({after - before:+.0f} MiB)")
    full, late = (
        cache.get(f'spinscope_refused_total{{reason="{reason}"}}', 0) for reason in ("queue_full", "time_limit")
    )
    print(
        f"cache: {cache.get('spinscope_cache_entries', 0):.0f} analyses, "
        f"{cache.get('spinscope_cache_bytes', 0) / 2**20:.1f} MiB, hit ratio {cache.get('spinscope_cache_hit_ratio', 0):.2f}; "
        f"refused: {full:.0f} with the queue full, {late:.0f} past the time limit"
    )
    errors = [e for cell in cells for e in cell.errors]
    for line in errors[:10]:
        print(f"  error: {line}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
