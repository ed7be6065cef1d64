"""The features an entity's role is read from: what the article says of each mention, never
who is named.

Each sentence holding mentions is encoded again with every mention in it written
:data:`PLACEHOLDER` (:func:`masked_sentences`); a mention's row is its placeholder's state,
the masked sentence's mean state and the article mean (:func:`mention_rows`). The encoder never
sees the names, so swapping two names in an article cannot move a role
(:mod:`spinscope.training.name_swap` measures it). Sentences, not whole paragraphs: the same
accuracy in cross-validation for less text to encode again (docs/models.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..document import Article
from ..encoder import TokenStates
from .embeddings import EMBEDDING_DIM
from .evidence import Sentence, mention_sentences
from .states import range_states

#: What each mention of a sentence is written as when the sentence is encoded for roles.
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


def masked_sentences(
    article: Article, found: Sequence[Sentence], spans: Sequence[tuple[int, int]]
) -> list[tuple[str, list[tuple[int, int]], list[int]]]:
    """Each of the sentences ``found`` in ``article`` (:func:`~.evidence.sentences`) holding some
    of the mentions ``spans`` (by where they start), with all of them masked (:func:`masked`; a
    mention running past its sentence is cut there): ``(masked text, placeholder of each, their
    rows in spans)``."""
    members: dict[int, list[int]] = {}
    for row, k in enumerate(mention_sentences(found, spans)):
        if k is not None:
            members.setdefault(k, []).append(row)
    out = []
    for k, rows in members.items():
        s = found[k]
        local = [(spans[row][0] - s.start, min(spans[row][1], s.end) - s.start) for row in rows]
        text, placeholders = masked(article.text[s.start : s.end], local)
        out.append((text, placeholders, rows))
    return out


def mention_states(
    article: Article,
    found: Sequence[Sentence],
    spans: Sequence[tuple[int, int]],
    token_states: Callable[[list[str]], Sequence[TokenStates]],
) -> np.ndarray:
    """What the article says of each mention ``[start, end)`` of ``article`` (its sentences
    ``found``), read with every mention of its sentence masked (:func:`masked_sentences`): the state of its placeholder and
    the mean state of the masked sentence, float32 ``(len(spans), 2 * dim)``; zeros for a
    mention outside every sentence. ``token_states(texts)`` encodes texts."""
    contexts = masked_sentences(article, found, spans)
    out = np.zeros((len(spans), 2 * EMBEDDING_DIM), dtype=np.float32)
    for states, (text, placeholders, rows) in zip(token_states([text for text, _, _ in contexts]), contexts):
        read = range_states(states, [*placeholders, (0, len(text))])
        out[rows] = np.hstack([read[:-1], np.repeat(read[-1:], len(rows), axis=0)])
    return out


def mention_rows(article_vectors: np.ndarray, in_context: np.ndarray) -> np.ndarray:
    """Feature rows ``(n, 3 * 384)`` of ``n`` entity mentions of an article, given its
    paragraph embeddings: the mention and its sentence read masked (``in_context``, see
    :func:`mention_states`) and the article mean. The mention's own text is not read: a role
    must come from what the article says about the entity, not from its name."""
    n = len(in_context)
    mean = np.repeat(article_vectors.mean(axis=0, keepdims=True), n, axis=0)
    return np.hstack([in_context.reshape(n, 2 * EMBEDDING_DIM), mean]).astype(np.float32)
