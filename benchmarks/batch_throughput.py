"""Throughput of `spinscope batch`: articles per minute with the local engine at 1 and 2
workers and the dask engine at 2 workers, and the scaling efficiency.

    python benchmarks/batch_throughput.py [--articles 40] [--runs local:1,local:2,dask:2]

The articles are a fixed subset of the unlabelled SemEval-2023 test articles
(``../shared/data/semeval2023/*/test-articles-subtask-3``): taken in turn from each language
in file-name order. Each run is a fresh process with a fresh embeddings cache
(SPINSCOPE_CACHE in a temporary folder) and a fresh database, so every paragraph is really
embedded; the time counted is the whole batch, worker start-up and model loading included.

Scaling efficiency of N workers = rate(N) / (N x rate(1 worker)). With one worker the
analysis runs in-process and the embedding engine may use every core (OpenMP); with N
workers each gets cores/N threads.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from spinscope.encoder.runtime import usable_cores

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "semeval2023"


def subset(n: int) -> list[Path]:
    """``n`` test articles, round-robin over the language folders, each in file-name order."""
    folders = sorted(DATA.glob("*/test-articles-subtask-3"))
    if not folders:
        sys.exit(f"no test articles under {DATA}/*/test-articles-subtask-3")
    queues = [sorted(f.glob("article*.txt")) for f in folders]
    chosen: list[Path] = []
    while len(chosen) < n and any(queues):
        for queue in queues:
            if queue and len(chosen) < n:
                chosen.append(queue.pop(0))
    return chosen


def one_run(engine: str, workers: int, paths: list[Path]) -> dict:
    """Run one batch in this process (called in a fresh subprocess by :func:`main`)."""
    from spinscope.corpus import batch, engines
    from spinscope.corpus.store import ArticleRecord
    from spinscope.semeval import iso_language, read_article

    records = []
    for path in paths:
        language = iso_language(path.parent.parent.name)
        article = read_article(path, language)
        records.append(
            ArticleRecord(f"{path.parent.parent.name}/{article.id}", article.text, language, location=str(path))
        )
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = batch.analyse_records(records, Path(tmp) / "bench.sqlite", workers=workers, engine=engine)
        seconds = time.perf_counter() - started
    return {
        "engine": engine,
        "workers": workers,
        "articles": result.analysed + result.failed,
        "failed": result.failed,
        "paragraphs": sum(len(r.text.splitlines()) for r in records),
        "seconds": round(seconds, 2),
        "per_minute": round(60 * (result.analysed + result.failed) / seconds, 1),
        "threads_per_worker": engines.threads_per_worker(workers) if workers > 1 else "all",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=40, help="how many test articles (default 40)")
    parser.add_argument("--runs", default="local:1,local:2,dask:2", help="ENGINE:WORKERS, comma-separated")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one ENGINE:WORKERS and print JSON
    args = parser.parse_args()
    paths = subset(args.articles)
    if args.one:
        engine, workers = args.one.split(":")
        print(json.dumps(one_run(engine, int(workers), paths)))
        return

    cores = usable_cores()
    print(
        f"{len(paths)} test articles from {len({p.parent.parent.name for p in paths})} languages, "
        f"{cores} cores, cold embeddings cache per run"
    )
    results = []
    for run in args.runs.split(","):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "SPINSCOPE_CACHE": cache}
            out = subprocess.run(
                [sys.executable, __file__, "--articles", str(args.articles), "--one", run],
                env=env,
                capture_output=True,
                text=True,
            )
        if out.returncode != 0:
            sys.exit(f"{run} failed:\n{out.stderr[-3000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(result)
        print(
            f"  {result['engine']:5} x{result['workers']} (threads/worker: {result['threads_per_worker']}): "
            f"{result['articles']} articles in {result['seconds']:.1f} s = {result['per_minute']:.1f} articles/min",
            flush=True,
        )
    base = next((r for r in results if r["engine"] == "local" and r["workers"] == 1), None)
    if base:
        for r in results:
            if r["workers"] > 1:
                efficiency = r["per_minute"] / (r["workers"] * base["per_minute"])
                print(
                    f"scaling efficiency {r['engine']} x{r['workers']}: {efficiency:.0%} "
                    f"(speed-up {r['per_minute'] / base['per_minute']:.2f}x over local x1)"
                )


if __name__ == "__main__":
    main()
