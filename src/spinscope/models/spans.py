"""Technique spans: which words of a paragraph carry a technique the paragraph model found.

Two token scorers per technique read every word of a paragraph labelled with that technique:
one on the encoder's state of the word in its paragraph (the mean of the encoder tokens it
covers), one on hashed lexical features (the word, its affixes, its neighbours, its shape).
Their logits are mixed with a weight chosen per training language by cross-validation, and
for other languages by leave-one-language-out CV (lexical features carry less across
languages, so the states weigh more there).
Spans are decoded from the word scores by each technique's decoder (:func:`decode`). A
labelled paragraph with no word above threshold still gets its best-scoring run, so paragraph
labels and spans always agree: every span's technique is among its paragraph's labels, and
every paragraph label has at least one span.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import mmh3
import numpy as np

from ..document import Article, Paragraph, Span
from ..encoder import TokenStates
from ..errors import ModelError
from ..taxonomy import TECHNIQUE_NAMES
from .heads import read_model, sigmoid
from .states import range_states

TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
N_FEATURES = 2**17
#: Key of the decoders pooled over all training languages, used for every other language.
POOLED = "*"
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
        f = [
            f"w={w}",
            f"p3={w[:3]}",
            f"s3={w[-3:]}",
            f"p5={w[:5]}",
            f"w-1={lower[i - 1] if i else '<s>'}",
            f"w+1={lower[i + 1] if i + 1 < n else '</s>'}",
            f"w-2={lower[i - 2] if i > 1 else '<s>'}",
            f"w+2={lower[i + 2] if i + 2 < n else '</s>'}",
            f"bi={lower[i - 1] if i else '<s>'}_{w}",
            f"pos={min(9, 10 * i // max(1, n))}",
            "bias",
        ]
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


def bucket(feature: str) -> int:
    """The column of a hashed feature: MurmurHash3 (x86, 32 bits, seed 0) of its UTF-8 bytes,
    folded to ``N_FEATURES`` exactly as scikit-learn's ``FeatureHasher`` does (the span model was
    trained with it; hashing here spares the analysis the second scikit-learn takes to import)."""
    h = mmh3.hash(feature, 0, signed=True)
    return (2**31 - 1 - (N_FEATURES - 1)) % N_FEATURES if h == -(2**31) else abs(h) % N_FEATURES


def hashed_features(text: str, toks: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """The hashed feature columns of a paragraph's tokens (see :func:`token_features`):
    ``(columns, starts)``, token ``i`` owning ``columns[starts[i]:starts[i + 1]]`` (never empty)."""
    rows = token_features(text, toks)
    starts = np.cumsum([0] + [len(row) for row in rows])
    columns = np.fromiter((bucket(f) for row in rows for f in row), dtype=np.int64, count=int(starts[-1]))
    return columns, starts


@dataclass
class SpanModel:
    """Per-technique token scorers and their decoders.

    A token's logit for technique ``t`` mixes ``X @ W[:, t] + b[t]`` (``X`` counts the token's
    hashed features; ``W`` is dense ``(N_FEATURES, n_techniques)`` float32, 12 MB, stored
    sparse) and ``H @ state_W[:, t] + state_b[t]`` (``H``: the token's encoder state) as
    ``(1 - m) * lexical + m * state``, ``m = mix[language]``. ``decoders[language][technique]``
    is ``[mode, threshold]`` (see :func:`decode`); the ``"*"`` entries of both serve every
    language without its own.
    """

    W: np.ndarray
    b: np.ndarray
    decoders: dict[str, dict[str, list]]
    labels: list[str] = field(default_factory=lambda: list(TECHNIQUE_NAMES))
    meta: dict = field(default_factory=dict)
    state_W: np.ndarray | None = None
    state_b: np.ndarray | None = None
    mix: dict[str, float] = field(default_factory=dict)

    def reads_states(self, language: str | None) -> bool:
        """Whether the scores of a ``language`` paragraph need its tokens' encoder states."""
        return self._mix(language) > 0

    def _mix(self, language: str | None) -> float:
        """The weight of the state scorer for ``language`` (0 for a model without one)."""
        if self.state_W is None:
            return 0.0
        return float(self.mix.get(language or "", self.mix.get(POOLED, 0.0)))

    def _state_scorer(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(state_W, state_b)``, or ``None`` for a model with the lexical scorer only."""
        if self.state_W is None and self.state_b is None:
            return None
        if self.state_W is None or self.state_b is None:
            raise ModelError("the span model's state scorer lacks its weights or its biases")
        return self.state_W, self.state_b

    def token_logits(
        self, text: str, toks: list[tuple[int, int]], states: np.ndarray | None, language: str | None
    ) -> np.ndarray:
        """The logit of each token of ``text`` for every technique, ``(len(toks), n_techniques)``;
        ``states`` ``(len(toks), 384)`` are the tokens' encoder states (needed when
        :meth:`reads_states`). A scorer of weight 0 is not run."""
        m = self._mix(language)
        lexical = state = None
        if m < 1:
            columns, starts = hashed_features(text, toks)
            lexical = np.add.reduceat(self.W[columns].astype(np.float64), starts[:-1]) + self.b
        if m > 0:
            scorer = self._state_scorer()
            if states is None or scorer is None:
                raise ModelError(f"the span model reads the encoder states of {language or 'any'} paragraphs")
            state = states.astype(np.float64) @ scorer[0] + scorer[1]
        return mix_logits(lexical, state, m)

    def paragraph_spans(
        self,
        article: Article,
        paragraph: Paragraph,
        techniques: list[tuple[str, float]],
        encoded: TokenStates | None = None,
    ) -> list[Span]:
        """The spans of ``techniques`` (the paragraph's labels with their scores) in ``paragraph``,
        whose text the encoder read as ``encoded`` (needed when :meth:`reads_states`).

        A span's score is the paragraph score times the mean token score of the span.
        """
        text, offset = paragraph.text, paragraph.start
        toks = tokens(text)
        if not toks or not techniques:
            return []
        language = article.language
        decoders = self.decoders.get(language or "", self.decoders[POOLED])
        states = None
        if self.reads_states(language):
            if encoded is None:
                raise ModelError(f"the span model reads the encoder states of {language or 'any'} paragraphs")
            states = range_states(encoded, toks)
        scores = sigmoid(self.token_logits(text, toks, states, language))
        out = []
        for technique, paragraph_score in techniques:
            p = scores[:, self.labels.index(technique)]
            mode, threshold = decoders[technique]
            for i, j in decode(text, toks, p, mode, float(threshold)):
                out.append(
                    article.span(
                        offset + toks[i][0],
                        offset + toks[j - 1][1],
                        technique,
                        round(float(paragraph_score * p[i:j].mean()), 4),
                    )
                )
        return out

    def save(self, folder: Path, name: str = "spans") -> None:
        folder = Path(folder)
        # Hashed features never seen in training keep a zero weight: store the others, by column.
        rows = [np.flatnonzero(self.W[:, t]) for t in range(self.W.shape[1])]
        scorer = self._state_scorer()
        states: dict[str, np.ndarray] = {}
        if scorer is not None:
            states = {"state_W": scorer[0].astype(np.float16), "state_b": scorer[1].astype(np.float32)}
        # numpy's stub lets **states fill its allow_pickle: bool, which neither of these names is.
        np.savez_compressed(
            folder / f"{name}.npz",
            data=np.concatenate([self.W[r, t] for t, r in enumerate(rows)]).astype(np.float16),
            indices=np.concatenate(rows).astype(np.int32),
            indptr=np.cumsum([0] + [len(r) for r in rows]).astype(np.int32),
            b=self.b.astype(np.float32),
            **states,  # type: ignore[arg-type]
        )
        header = {
            "labels": self.labels,
            "decoders": self.decoders,
            "mix": self.mix,
            "n_features": N_FEATURES,
            "meta": self.meta,
        }
        (folder / f"{name}.json").write_text(json.dumps(header, indent=2, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, folder: Path, name: str = "spans") -> SpanModel:
        header, z = read_model(folder, name)
        W = np.zeros((header["n_features"], len(header["labels"])), dtype=np.float32)
        indptr = z["indptr"]
        for t in range(W.shape[1]):
            W[z["indices"][indptr[t] : indptr[t + 1]], t] = z["data"][indptr[t] : indptr[t + 1]]
        # Models trained before the state scorer have the lexical one only.
        state_W = z["state_W"].astype(np.float32) if "state_W" in z else None
        state_b = z.get("state_b")
        return cls(
            W,
            z["b"],
            header["decoders"],
            header["labels"],
            header.get("meta", {}),
            state_W,
            state_b,
            header.get("mix", {}),
        )


def mix_logits(lexical: np.ndarray | None, state: np.ndarray | None, mix: float) -> np.ndarray:
    """``(1 - mix) * lexical + mix * state``: the token logits of the two scorers mixed (the
    span model's, and in training the held-out ones the mix is chosen on). A part of weight 0
    may be ``None`` (not computed)."""
    if mix <= 0 and lexical is not None:
        return lexical
    if mix >= 1 and state is not None:
        return state
    if lexical is None or state is None:
        raise ModelError(f"a part of the token logits mixed with weight {mix} was not computed")
    return (1 - mix) * lexical + mix * state


_SENTENCE_END = re.compile(r"[.!?;:…]+")


def sentences(text: str, toks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Token ranges ``[i, j)`` of the sentences (or clauses ended by ; or :) of a paragraph."""
    out, start = [], 0
    for i, (a, b) in enumerate(toks):
        if _SENTENCE_END.fullmatch(text[a:b]):
            out.append((start, i + 1))
            start = i + 1
    if start < len(toks):
        out.append((start, len(toks)))
    return out


def decode(text: str, toks: list[tuple[int, int]], p: np.ndarray, mode: str, threshold: float) -> list[tuple[int, int]]:
    """Token ranges ``[i, j)`` of the spans of one technique in a paragraph labelled with it.

    ``hull``: one span from the first to the last token scoring at least ``threshold`` (the
    whole paragraph when the threshold is 0). ``runs``: every run of tokens scoring at least
    ``threshold``, bridging gaps of up to two tokens. ``sentences``: every sentence whose mean
    token score reaches ``threshold``. All fall back to the best token or sentence, so a
    labelled paragraph always gets a span.
    """
    if mode in ("hull", "runs"):
        above = np.flatnonzero(p >= threshold)
        if len(above) == 0:
            best = int(np.argmax(p))
            return [(best, best + 1)]
        if mode == "hull":
            return [(int(above[0]), int(above[-1]) + 1)]
        breaks = np.flatnonzero(np.diff(above) > 3)  # a gap of at most two tokens joins two runs
        starts = np.concatenate([[above[0]], above[breaks + 1]])
        ends = np.concatenate([above[breaks], [above[-1]]]) + 1
        return [(int(a), int(b)) for a, b in zip(starts, ends)]
    ranges = sentences(text, toks)
    means = [float(p[i:j].mean()) for i, j in ranges]
    chosen = [r for r, m in zip(ranges, means) if m >= threshold]
    return chosen or [ranges[int(np.argmax(means))]]
