"""Technique spans: which words of a paragraph carry a technique the paragraph model found.

A token tagger per technique scores every token of a paragraph labelled with that technique
(hashed lexical features: the word, its affixes, its neighbours, its shape). Spans are the runs
of tokens scoring at least the technique's threshold, joined across one-token gaps. A labelled
paragraph with no token above threshold still gets its best-scoring run, so paragraph labels
and spans always agree: every span's technique is among its paragraph's labels, and every
paragraph label has at least one span.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .taxonomy import TECHNIQUE_NAMES

TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
N_FEATURES = 2**17
_QUOTES = set("\"'«»“”„‘’")


def tokens(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every token (a word or one punctuation mark) of ``text``."""
    return [m.span() for m in TOKEN.finditer(text)]


def token_features(text: str, toks: list[tuple[int, int]]) -> list[list[str]]:
    """String features of each token, for hashing: word, affixes, neighbours, shape, quotes."""
    words = [text[a:b] for a, b in toks]
    lower = [w.lower() for w in words]
    n = len(words)
    quoted = np.cumsum([w in _QUOTES for w in words]) % 2  # inside an odd number of quote marks
    feats = []
    for i, w in enumerate(lower):
        f = [f"w={w}", f"p3={w[:3]}", f"s3={w[-3:]}", f"p5={w[:5]}",
             f"w-1={lower[i - 1] if i else '<s>'}", f"w+1={lower[i + 1] if i + 1 < n else '</s>'}",
             f"w-2={lower[i - 2] if i > 1 else '<s>'}", f"w+2={lower[i + 2] if i + 2 < n else '</s>'}",
             f"bi={lower[i - 1] if i else '<s>'}_{w}", f"pos={min(9, 10 * i // max(1, n))}",
             "bias"]
        if words[i][:1].isupper():
            f.append("cap")
        if words[i].isupper() and len(words[i]) > 1:
            f.append("upper")
        if quoted[i]:
            f.append("quoted")
        if not w[:1].isalnum():
            f.append("punct")
        feats.append(f)
    return feats


def _hasher():
    from sklearn.feature_extraction import FeatureHasher

    return FeatureHasher(n_features=N_FEATURES, input_type="string", alternate_sign=False)


def featurise(text: str, toks: list[tuple[int, int]]):
    """Sparse ``(len(toks), N_FEATURES)`` matrix of a paragraph's tokens."""
    return _hasher().transform(token_features(text, toks))


@dataclass
class SpanModel:
    """Per-technique token scorers ``sigmoid(X @ W[:, t] + b[t])`` with thresholds."""

    W: np.ndarray  # (N_FEATURES, n_techniques)
    b: np.ndarray
    thresholds: np.ndarray
    labels: list[str] = field(default_factory=lambda: list(TECHNIQUE_NAMES))
    meta: dict = field(default_factory=dict)

    def token_scores(self, text: str, toks: list[tuple[int, int]], technique: str) -> np.ndarray:
        t = self.labels.index(technique)
        return sigmoid(column_dot(featurise(text, toks), self.W, t) + self.b[t])

    def paragraph_spans(self, text: str, offset: int, techniques: list[tuple[str, float]],
                        thresholds: dict[str, float] | None = None) -> list[tuple[str, int, int, float]]:
        """Spans ``(technique, start, end, score)`` in a paragraph ``text`` starting at ``offset``.

        ``techniques`` are the paragraph's labels with their scores; a span's score is the
        paragraph score times the mean token score of the span.
        """
        toks = tokens(text)
        if not toks:
            return []
        out = []
        for technique, paragraph_score in techniques:
            p = self.token_scores(text, toks, technique)
            threshold = (thresholds or {}).get(technique, self.thresholds[self.labels.index(technique)])
            for i, j in runs(p, threshold):
                out.append((technique, offset + toks[i][0], offset + toks[j - 1][1],
                            round(float(paragraph_score * p[i:j].mean()), 4)))
        return out

    def save(self, folder: Path, name: str = "spans") -> None:
        from scipy import sparse

        folder = Path(folder)
        W = sparse.csc_matrix(self.W.astype(np.float16))
        np.savez_compressed(folder / f"{name}.npz", data=W.data, indices=W.indices, indptr=W.indptr,
                            b=self.b.astype(np.float32), thresholds=self.thresholds.astype(np.float32))
        header = {"labels": self.labels, "n_features": N_FEATURES, "meta": self.meta}
        (folder / f"{name}.json").write_text(json.dumps(header, indent=2, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, folder: Path, name: str = "spans") -> "SpanModel":
        from scipy import sparse

        header = json.loads((Path(folder) / f"{name}.json").read_text())
        with np.load(Path(folder) / f"{name}.npz", allow_pickle=False) as z:
            shape = (header["n_features"], len(header["labels"]))
            W = sparse.csc_matrix((z["data"].astype(np.float32), z["indices"], z["indptr"]), shape=shape)
            return cls(W, z["b"], z["thresholds"], header["labels"], header.get("meta", {}))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(z, -30, 30)))


def column_dot(X, W, t: int) -> np.ndarray:
    """``X @ W[:, t]`` as a flat array, for a dense or sparse ``W``."""
    z = X @ W[:, [t]]
    return np.asarray(z.todense() if hasattr(z, "todense") else z).ravel()


def runs(p: np.ndarray, threshold: float, gap: int = 1) -> list[tuple[int, int]]:
    """Token index ranges ``[i, j)`` where ``p >= threshold``, bridging gaps of ``gap`` tokens.

    When no token reaches the threshold, the single best token is returned, so a labelled
    paragraph always has a span.
    """
    above = np.flatnonzero(p >= threshold)
    if len(above) == 0:
        best = int(np.argmax(p))
        return [(best, best + 1)]
    out = []
    start = prev = int(above[0])
    for i in above[1:]:
        if i - prev > gap + 1:
            out.append((start, prev + 1))
            start = int(i)
        prev = int(i)
    out.append((start, prev + 1))
    return out
