"""Evidence: the sentences of an article that carry a narrative or argue an entity's role.

An article's sentences are cut from its paragraphs (:func:`sentences`), each a ``[start, end)``
range of the article's text. A narrative's evidence ranks them by what the narrative head says
of each sentence read in its article: the encoder's token states of its paragraph, mean-pooled
over the sentence's tokens (the states the span tagger already reads, so no text is encoded
again), set in the article's feature row in place of the paragraph mean and max
(:func:`sentence_rows`). An entity's evidence is the sentences holding the mentions its role
was read from, ranked by the role head's probability for each mention.

Which scorer ships was chosen by faithfulness (ERASER comprehensiveness, docs/evidence.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..document import Article
from ..encoder import TokenStates
from .embeddings import EMBEDDING_DIM
from .states import range_states

#: A sentence ends at a run of ``.!?…`` or the Devanagari danda, with any closing quotes or
#: brackets after it, before white space.
_SENTENCE_END = re.compile(r"[.!?…।॥]+[\"'»”’)\]]*(?=\s)")
#: A title or initial before a full stop ("M.", "Dr.", "J."): no sentence ends there.
_ABBREVIATION = re.compile(r"(?:^|\s)(?:\w\.)*[^\W\d_][^\W\d_]?\.$")
#: How many sentences the evidence of a label keeps, best first.
EVIDENCE_SENTENCES = 3
#: Sentences shorter than this many characters (a dateline, a lone number) are not evidence.
MIN_SENTENCE_CHARS = 12


@dataclass(frozen=True)
class Sentence:
    """A sentence: ``[start, end)`` of the article's text, in paragraph ``paragraph`` (an index
    into ``article.paragraphs``)."""

    start: int
    end: int
    paragraph: int


def sentences(article: Article) -> list[Sentence]:
    """The sentences of every paragraph of ``article``, in order, without the white space
    around them. A paragraph with no sentence end is one sentence; the title is one too."""
    out = []
    for k, paragraph in enumerate(article.paragraphs):
        text, cut = paragraph.text, 0
        bounds = [m.end() for m in _SENTENCE_END.finditer(text) if not _abbreviation(text, m.end())] if k else []
        for stop in [*bounds, len(text)]:
            piece = text[cut:stop]
            lead = len(piece) - len(piece.lstrip())
            body = piece.strip()
            if any(c.isalnum() for c in body):
                start = paragraph.start + cut + lead
                out.append(Sentence(start, start + len(body), k))
            cut = stop
    return out


def _abbreviation(text: str, end: int) -> bool:
    """Whether the full stop before ``end`` closes a short capitalised abbreviation (``M.``, ``Dr.``)."""
    word = text[max(0, end - 8) : end]
    return text[end - 1] == "." and bool(_ABBREVIATION.search(word)) and word.split()[-1][:1].isupper()


def sentence_states(article: Article, found: Sequence[Sentence], states: Sequence[TokenStates]) -> np.ndarray:
    """The L2-normalised mean token state of each sentence in its paragraph: float32
    ``(len(found), 384)``; ``states`` are the token states of every paragraph of ``article``."""
    out = np.zeros((len(found), EMBEDDING_DIM), dtype=np.float32)
    by_paragraph: dict[int, list[int]] = {}
    for i, sentence in enumerate(found):
        by_paragraph.setdefault(sentence.paragraph, []).append(i)
    for k, rows in by_paragraph.items():
        offset = article.paragraphs[k].start
        ranges = [(found[i].start - offset, found[i].end - offset) for i in rows]
        out[rows] = range_states(states[k], ranges)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-9)


def sentence_rows(embeddings: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Article feature rows ``(len(vectors), 3 * 384)`` that read each sentence as the article's
    whole body: the title's embedding, then the sentence's vector as the mean and the max."""
    title = np.repeat(embeddings[:1], len(vectors), axis=0)
    return np.hstack([title, vectors, vectors]).astype(np.float32)


def ranked(found: Sequence[Sentence], scores: np.ndarray, article: Article, keep: int = EVIDENCE_SENTENCES) -> list:
    """The ``keep`` best sentences by ``scores`` as ``(sentence, score)``, best first; sentences
    too short to argue anything come last, and ties go to the earlier sentence."""
    long_enough = [s.end - s.start >= MIN_SENTENCE_CHARS for s in found]
    order = sorted(range(len(found)), key=lambda i: (not long_enough[i], -float(scores[i]), i))
    return [(found[i], float(scores[i])) for i in order[:keep]]


def mention_sentences(found: Sequence[Sentence], spans: Sequence[tuple[int, int]]) -> list[int | None]:
    """The index in ``found`` of the sentence holding the start of each mention ``[start, end)``
    (``None`` for a mention outside every sentence)."""
    starts = [s.start for s in found]
    out: list[int | None] = []
    for a, _ in spans:
        i = int(np.searchsorted(starts, a, side="right")) - 1
        out.append(i if i >= 0 and a < found[i].end else None)
    return out


def leading(found: Sequence[Sentence], n: int) -> list[Sentence]:
    """The first ``n`` sentences after the title (the baseline evidence of the leading sentences)."""
    body = [s for s in found if s.paragraph > 0] or list(found)
    return body[:n]


def split_words(text: str) -> list[str]:
    """The words of ``text`` (runs of letters, digits and marks), for word counts and overlaps."""
    return re.findall(r"[\w\u0900-\u097F]+", text)
