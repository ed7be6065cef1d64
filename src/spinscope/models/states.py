"""Features of words and mentions in context: the encoder's token states pooled over
character ranges of a paragraph, and the feature rows of entity mentions."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence

import numpy as np

from ..document import Article
from ..encoder import TokenStates
from .embeddings import EMBEDDING_DIM, Embedder


def range_states(states: TokenStates, ranges: Sequence[tuple[int, int]]) -> np.ndarray:
    """The mean state of the tokens overlapping each character range ``[start, end)`` of the
    encoded text: float32 ``(len(ranges), dim)``.

    A range no token overlaps (past the characters the encoder read, or characters the
    tokenizer drops) gets the mean state of the text's tokens.
    """
    inside = states.in_text & (states.offsets[:, 1] > states.offsets[:, 0])
    offsets, vectors = states.offsets[inside], states.states[inside].astype(np.float64)
    dim = states.states.shape[1]
    if not len(offsets):
        return np.zeros((len(ranges), dim), dtype=np.float32)
    bounds = np.asarray(ranges, dtype=np.int64).reshape(-1, 2)
    # Token offsets increase, so the tokens overlapping a range are one contiguous run.
    first = np.searchsorted(offsets[:, 1], bounds[:, 0], side="right")
    last = np.searchsorted(offsets[:, 0], bounds[:, 1], side="left")
    sums = np.vstack([np.zeros((1, dim)), np.cumsum(vectors, axis=0)])
    counts = last - first
    out = (sums[np.maximum(last, first)] - sums[first]) / np.maximum(counts, 1)[:, None]
    out[counts <= 0] = vectors.mean(axis=0)
    return out.astype(np.float32)


def by_paragraph(article: Article, spans: Sequence[tuple[int, int]]) -> dict[int, list[tuple[int, tuple[int, int]]]]:
    """The ``spans`` ``[start, end)`` of ``article`` grouped by the index of the paragraph they
    start in: ``{paragraph: [(index into spans, (start, end) in the paragraph's text)]}``. A span
    running past its paragraph is cut at the paragraph's end; one starting between paragraphs
    is left out."""
    starts = [p.start for p in article.paragraphs]
    out: dict[int, list[tuple[int, tuple[int, int]]]] = {}
    for row, (a, b) in enumerate(spans):
        k = bisect.bisect_right(starts, a) - 1
        if k >= 0 and a < article.paragraphs[k].end:
            paragraph = article.paragraphs[k]
            out.setdefault(k, []).append((row, (a - paragraph.start, min(b, paragraph.end) - paragraph.start)))
    return out


def mention_states(
    article: Article, spans: Sequence[tuple[int, int]], encoded: Callable[[list[int]], Sequence[TokenStates]]
) -> np.ndarray:
    """The state of each mention ``[start, end)`` of ``article`` in its paragraph: float32
    ``(len(spans), dim)``, zeros for a mention outside every paragraph. ``encoded(indices)`` gives
    the token states of the paragraphs at ``indices``."""
    groups = by_paragraph(article, spans)
    out = np.zeros((len(spans), EMBEDDING_DIM), dtype=np.float32)
    for states, members in zip(encoded(list(groups)), groups.values()):
        out[[row for row, _ in members]] = range_states(states, [span for _, span in members])
    return out


def mention_rows(
    article: Article,
    paragraph_vectors: np.ndarray,
    spans: Sequence[tuple[int, int]],
    embedder: Embedder,
    in_context: np.ndarray,
) -> np.ndarray:
    """Feature rows ``(len(spans), 4 * 384)`` of the entity mentions at ``spans`` ``[start, end)``
    of ``article`` (given its paragraph embeddings): the mention in context (its token states
    in its paragraph, ``in_context``, see :func:`mention_states`), the embedding of the
    mention's text on its own, of its paragraph (zeros outside every paragraph), and the
    article mean. Only the (short) mention texts are embedded anew."""
    names = embedder.embed([article.text[a:b] for a, b in spans]).reshape(len(spans), EMBEDDING_DIM)
    paragraphs = np.zeros((len(spans), EMBEDDING_DIM), dtype=np.float32)
    for k, members in by_paragraph(article, spans).items():
        paragraphs[[row for row, _ in members]] = paragraph_vectors[k]
    mean = np.repeat(paragraph_vectors.mean(axis=0, keepdims=True), len(spans), axis=0)
    return np.hstack([in_context.reshape(len(spans), EMBEDDING_DIM), names, paragraphs, mean]).astype(np.float32)
