"""Features of words and mentions in context: the encoder's token states pooled over
character ranges of a paragraph, and the feature rows of entity mentions."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence

import numpy as np

from ..document import Article
from ..encoder import TokenStates
from .embeddings import EMBEDDING_DIM


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


#: What each mention of a paragraph is written as when the paragraph is encoded for roles.
PLACEHOLDER = "X"


def masked(text: str, spans: Sequence[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """``text`` with each of ``spans`` ``[start, end)`` written :data:`PLACEHOLDER`, and where
    the placeholder of each span is in the new text (in the order of ``spans``; a span
    starting inside an earlier, longer one shares its placeholder)."""
    pieces, where, position, shift = [], {}, 0, 0
    last: tuple[int, int] = (0, 0)
    for i in sorted(range(len(spans)), key=lambda i: (spans[i][0], -spans[i][1])):  # longest first
        a, b = spans[i]
        if a < position:
            where[i] = last
            continue
        pieces += [text[position:a], PLACEHOLDER]
        last = where[i] = (a + shift, a + shift + len(PLACEHOLDER))
        shift += len(PLACEHOLDER) - (b - a)
        position = b
    pieces.append(text[position:])
    return "".join(pieces), [where[i] for i in range(len(spans))]


def masked_paragraphs(
    article: Article, spans: Sequence[tuple[int, int]]
) -> list[tuple[str, list[tuple[int, int]], list[int]]]:
    """Each paragraph of ``article`` holding some of the mentions ``spans``, with all of them
    masked (:func:`masked`): ``(masked text, placeholder of each, their rows in spans)``."""
    out = []
    for k, members in by_paragraph(article, spans).items():
        text, placeholders = masked(article.paragraphs[k].text, [span for _, span in members])
        out.append((text, placeholders, [row for row, _ in members]))
    return out


def mention_states(
    article: Article, spans: Sequence[tuple[int, int]], token_states: Callable[[list[str]], Sequence[TokenStates]]
) -> np.ndarray:
    """What the article says of each mention ``[start, end)`` of ``article``, read with every
    mention of its paragraph masked (:func:`masked_paragraphs`): the state of its placeholder
    and the mean state of the masked paragraph, float32 ``(len(spans), 2 * dim)``; zeros for a
    mention outside every paragraph. The encoder never sees the names, so who is named cannot
    decide the role. ``token_states(texts)`` encodes texts."""
    paragraphs = masked_paragraphs(article, spans)
    out = np.zeros((len(spans), 2 * EMBEDDING_DIM), dtype=np.float32)
    for states, (text, placeholders, rows) in zip(token_states([text for text, _, _ in paragraphs]), paragraphs):
        read = range_states(states, [*placeholders, (0, len(text))])
        out[rows] = np.hstack([read[:-1], np.repeat(read[-1:], len(rows), axis=0)])
    return out


def mention_rows(article_vectors: np.ndarray, in_context: np.ndarray) -> np.ndarray:
    """Feature rows ``(n, 3 * 384)`` of ``n`` entity mentions of an article, given its
    paragraph embeddings: the mention and its paragraph read masked (``in_context``, see
    :func:`mention_states`) and the article mean. The mention's own text is not read: a role
    must come from what the article says about the entity, not from its name."""
    n = len(in_context)
    mean = np.repeat(article_vectors.mean(axis=0, keepdims=True), n, axis=0)
    return np.hstack([in_context.reshape(n, 2 * EMBEDDING_DIM), mean]).astype(np.float32)
