"""Is the evidence faithful? ERASER's comprehensiveness and sufficiency (DeYoung et al., 2020)
of the narrative evidence, per language, on the SemEval-2025 training articles that have an
explanation (their dominant narrative is the label explained).

    python benchmarks/faithfulness.py [DATA25] [--per-language N] [--k K] [--json OUT]

For each article, ``K`` sentences are chosen by each method:

* ``evidence``: the shipped scorer, the narrative head on each sentence read as the article
  (:func:`spinscope.models.evidence.sentence_rows`);
* ``occlusion``: the drop of the narrative's probability when the sentence's paragraph is left
  out of the article's features (no encoding at all; sentences of a paragraph share its drop);
* ``both``: the mean of a sentence's ranks by the two above;
* ``random``: ``K`` random sentences (seeded); ``leading``: the first ``K`` sentences of the body.

The narrative head then reads the article again (every changed paragraph embedded anew):

* comprehensiveness = p(full article) - p(article without the ``K`` sentences): higher is better;
* sufficiency = p(full article) - p(the ``K`` sentences alone): lower is better.

It also reports how many words of the shipped explanations are the article's own.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

from spinscope.models.embeddings import Embedder, EmbeddingCache, article_features
from spinscope.models.evidence import Sentence
from spinscope.models.explain import Explainer
from spinscope.models.heads import Head
from spinscope.pipeline import MODEL_DIR
from spinscope.training.explanations import ExplanationData, explain_all, load_explanation_data

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "semeval2025"
METHODS = ("evidence", "occlusion", "both", "random", "leading")


def _without(article, found: list[Sentence], drop: set[int]) -> list[str]:
    """The article's paragraph texts with the sentences ``drop`` taken out (empty paragraphs go)."""
    texts = []
    for k, paragraph in enumerate(article.paragraphs):
        cuts = sorted((found[i].start, found[i].end) for i in drop if found[i].paragraph == k)
        if not cuts:
            texts.append(paragraph.text)
            continue
        kept, at = [], paragraph.start
        for a, b in cuts:
            kept.append(article.text[at:a])
            at = b
        kept.append(article.text[at : paragraph.end])
        text = " ".join(" ".join(kept).split())
        if text:
            texts.append(text)
    return texts or [""]


def _occlusion(E: np.ndarray, found: list[Sentence], head: Head, column: int) -> np.ndarray:
    full = head.predict_proba(article_features(E)[None])[0, column]
    drops = np.zeros(len(E))
    for k in range(len(E)):
        rest = np.delete(E, k, axis=0)
        drops[k] = full - head.predict_proba(article_features(rest)[None])[0, column] if len(rest) else full
    return np.array([drops[s.paragraph] for s in found])


def choose(method: str, scores: np.ndarray, occlusion: np.ndarray, found: list[Sentence], k: int, rng) -> list[int]:
    body = [i for i, s in enumerate(found) if s.paragraph > 0] or list(range(len(found)))
    if method == "random":
        return sorted(rng.sample(body, k))
    if method == "leading":
        return body[:k]
    if method == "both":
        by = -(np.argsort(np.argsort(-scores)) + np.argsort(np.argsort(-occlusion))).astype(float)
    else:
        by = scores if method == "evidence" else occlusion
    return sorted(sorted(range(len(found)), key=lambda i: (-by[i], i))[:k])


def measure(data: ExplanationData, embedder: Embedder, head: Head, per_language: int, k: int) -> dict:
    rng = random.Random(0)
    picked: dict[str, list[int]] = {}
    for i, lang in enumerate(data.langs):
        if len(data.sentences[i]) >= 2 * k + 1:
            picked.setdefault(lang, []).append(i)
    results: dict[str, dict[str, dict[str, list[float]]]] = {}
    for lang, rows in sorted(picked.items()):
        for i in random.Random(lang).sample(rows, min(per_language, len(rows))):
            article, found = data.articles[i], data.sentences[i]
            column = head.labels.index(data.labels[i].narrative)
            E = embedder.embed([p.text for p in article.paragraphs])
            full = float(head.predict_proba(article_features(E)[None])[0, column])
            occlusion = _occlusion(E, found, head, column)
            for method in METHODS:
                chosen = choose(method, data.p[i], occlusion, found, k, rng)
                rest = embedder.embed(_without(article, found, set(chosen)))
                alone = embedder.embed([article.text[found[j].start : found[j].end] for j in chosen])
                p_rest = float(head.predict_proba(article_features(rest)[None])[0, column])
                p_alone = float(head.predict_proba(article_features(alone)[None])[0, column])
                scores = results.setdefault(lang, {}).setdefault(method, {"comprehensiveness": [], "sufficiency": []})
                scores["comprehensiveness"].append(full - p_rest)
                scores["sufficiency"].append(full - p_alone)
    return results


def own_words(data: ExplanationData, explainer: Explainer) -> dict[str, dict[str, float]]:
    """Per language: the share of the explanations' words found in their article, and the same
    without the opener and label words."""
    texts = explain_all(data, explainer)
    out: dict[str, dict[str, list[float]]] = {}
    for lang, article, text, row in zip(data.langs, data.articles, texts, data.labels):
        words = text.split()
        if not words:
            continue
        body = article.text.lower()
        opener = explainer.openers.get(lang, "")
        skip = len(opener.split()) + (
            len((row.subnarrative or row.narrative).split(": ")[-1].split()) if lang in explainer.label_languages else 0
        )
        found = [w.lower().strip(":") in body for w in words]
        shares = out.setdefault(lang, {"all": [], "extracted": []})
        shares["all"].append(float(np.mean(found)))
        shares["extracted"].append(float(np.mean(found[skip:])) if found[skip:] else 1.0)
    return {lang: {k: round(float(np.mean(v)), 4) for k, v in s.items()} for lang, s in out.items()}


def table(results: dict, words: dict) -> str:
    lines = [
        "| language | articles | method | comprehensiveness (higher: better) | sufficiency (lower: better) | beats random |",
        "|---|---|---|---|---|---|",
    ]
    for lang, methods in results.items():
        base = np.array(methods["random"]["comprehensiveness"])
        for method, s in methods.items():
            comp, suff = np.array(s["comprehensiveness"]), np.array(s["sufficiency"])
            wins = f"{np.mean(comp > base):.0%} of articles" if method != "random" else ""
            lines.append(f"| {lang} | {len(comp)} | {method} | {comp.mean():.3f} | {suff.mean():.3f} | {wins} |")
    lines += [
        "",
        "| language | explanation words found in the article | without the opener and label words |",
        "|---|---|---|",
    ]
    lines += [f"| {lang} | {w['all']:.1%} | {w['extracted']:.1%} |" for lang, w in words.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DATA)
    parser.add_argument("--per-language", type=int, default=60)
    parser.add_argument("--k", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    embedder = Embedder(EmbeddingCache())
    data = load_explanation_data(args.data, embedder, MODEL_DIR)
    head = Head.load(MODEL_DIR, "narratives")
    results = measure(data, embedder, head, args.per_language, args.k)
    words = own_words(data, Explainer.load(MODEL_DIR))
    print(table(results, words))
    if args.json:
        args.json.write_text(json.dumps({"k": args.k, "results": results, "own_words": words}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
