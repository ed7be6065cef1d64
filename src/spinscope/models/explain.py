"""The explanation of an article's dominant narrative: at most 80 words taken from its evidence.

The :class:`Explainer` is extractive: it keeps the best evidence sentences of the narrative
(and of its sub-narrative), in the article's order, and cuts the last one at the word budget,
so every word it writes is the article's own, except an optional opener per language (the
words the training explanations open with, such as "The article"), which asserts nothing.
Its settings (how many sentences, how much the sub-narrative's evidence weighs, the openers)
were chosen by cross-validation of chrF on the training explanations
(:mod:`spinscope.training.explanations`); it is stored as JSON.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from ..document import Article
from ..errors import ModelError
from .evidence import MIN_SENTENCE_CHARS, Sentence, split_words

#: The most words an explanation may have (SemEval-2025 Task 10, subtask 3).
MAX_WORDS = 80
EXPLAINER_FILE = "explanations.json"


def clip_words(text: str, limit: int = MAX_WORDS) -> str:
    """``text`` cut after its first ``limit`` white-space separated words."""
    words = text.split()
    return " ".join(words[:limit])


def first_words(article: Article, limit: int = MAX_WORDS) -> str:
    """The baseline explanation: the article's first ``limit`` words (title included)."""
    return clip_words(" ".join(p.text for p in article.paragraphs), limit)


def label_words(label: str) -> str:
    """A narrative or sub-narrative's own words, without its domain and parent (``URW: A: B`` -> ``B``)."""
    return label.split(": ")[-1]


#: What the learnt ranker reads of each sentence: the narrative head's and the sub-narrative
#: head's probability (the narrative's again when there is no sub-narrative), its relative
#: position, whether it is the title or the first sentence of the body, the log of its length
#: in words, 1 / (1 + its index), the share of its words in the title and the share of its
#: words that the article uses elsewhere too (how central it is).
RANKER_FEATURES = (
    "narrative",
    "subnarrative",
    "position",
    "title",
    "first",
    "log_words",
    "early",
    "title_words",
    "central",
)


def sentence_features(text: str, found: Sequence[Sentence], p: np.ndarray, q: np.ndarray | None) -> np.ndarray:
    """:data:`RANKER_FEATURES` of each sentence: float64 ``(len(found), 9)``."""
    n = len(found)
    index = np.arange(n, dtype=np.float64)
    body = [i for i, s in enumerate(found) if s.paragraph > 0]
    words = [[w.lower() for w in split_words(text[s.start : s.end])] for s in found]
    title = {w for s, ws in zip(found, words) if s.paragraph == 0 for w in ws}
    counts = Counter(w for ws in words for w in ws)
    return np.column_stack(
        [
            np.asarray(p, dtype=np.float64),
            np.asarray(p if q is None else q, dtype=np.float64),
            index / max(n - 1, 1),
            [s.paragraph == 0 for s in found],
            index == (body[0] if body else -1),
            np.log1p([len(ws) for ws in words]),
            1 / (1 + index),
            [sum(w in title for w in ws) / max(len(ws), 1) for ws in words],
            [sum(counts[w] > 1 for w in ws) / max(len(ws), 1) for ws in words],
        ]
    )


@dataclass(frozen=True)
class Explainer:
    """Composes an explanation from ranked sentences.

    ``sentences``: how many of the best sentences it keeps; ``in_text_order``: whether they
    read in the article's order (else best first, so the word budget cuts the weakest);
    ``subnarrative_weight``: the weight of the sub-narrative's sentence scores against the
    narrative's; ``openers``: the words an explanation opens with, by language (none where absent);
    ``label_languages``: the languages (those the labels are written in) whose explanations
    name the narrative after the opener, in the taxonomy's words (nothing beyond the label);
    ``ranker``: a linear model (``mean``, ``scale``, ``weights``, ``bias``) of
    :func:`sentence_features`, learnt to find the sentences whose words the reference
    explanations use, used when ``use_ranker`` (else sentences are ranked by the heads' scores
    alone); ``max_words``: the length of an explanation; ``languages``: the settings chosen for
    each training language (:meth:`for_language`), these being the default of the others.
    """

    sentences: int = 2
    subnarrative_weight: float = 0.5
    in_text_order: bool = True
    openers: dict[str, str] = field(default_factory=dict)
    label_languages: list[str] = field(default_factory=list)
    ranker: dict = field(default_factory=dict)
    use_ranker: bool = True
    max_words: int = MAX_WORDS
    languages: dict[str, dict] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def for_language(self, language: str | None) -> Explainer:
        """The explainer with the settings chosen for ``language`` (the defaults for another)."""
        chosen = self.languages.get(language or "")
        return replace(self, **chosen) if chosen else self

    def scores(self, narrative: np.ndarray, subnarrative: np.ndarray | None) -> np.ndarray:
        """Each sentence's score for the pair: the narrative's, mixed with the sub-narrative's
        when there is one."""
        if subnarrative is None:
            return narrative
        w = self.subnarrative_weight
        return (1 - w) * narrative + w * subnarrative

    def ranking(self, text: str, found: Sequence[Sentence], p: np.ndarray, q: np.ndarray | None) -> np.ndarray:
        """What the sentences are chosen by: the learnt ranker's score, else :meth:`scores`."""
        if not (self.ranker and self.use_ranker):
            return self.scores(p, q)
        X = (sentence_features(text, found, p, q) - self.ranker["mean"]) / self.ranker["scale"]
        return X @ np.asarray(self.ranker["weights"]) + self.ranker["bias"]

    def choose(self, found: Sequence[Sentence], scores: np.ndarray) -> list[int]:
        """The indices of the sentences the explanation reads, in the order it reads them."""
        usable = [i for i, s in enumerate(found) if s.end - s.start >= MIN_SENTENCE_CHARS] or list(range(len(found)))
        best = sorted(usable, key=lambda i: (-float(scores[i]), i))[: max(1, self.sentences)]
        return sorted(best) if self.in_text_order else best

    def opener(self, language: str | None, label: str = "") -> str:
        """The words before the sentences: the language's opener and, where the language says
        so, ``label`` (the narrative's name) and a colon."""
        opener = self.openers.get(language or "", "")
        if label and (language or "") in self.label_languages:
            opener = f"{opener} {label_words(label)}:".strip()
        return opener

    def used(self, text: str, found: Sequence[Sentence], chosen: Sequence[int], opener: str) -> list[int]:
        """The chosen sentences that start within the word budget (the last one may be cut)."""
        budget, out = min(self.max_words, MAX_WORDS) - len(opener.split()), []
        for i in chosen:
            if budget <= 0:
                break
            out.append(i)
            budget -= len(text[found[i].start : found[i].end].split())
        return out

    def compose(
        self, text: str, found: Sequence[Sentence], chosen: Sequence[int], language: str | None, label: str = ""
    ) -> str:
        """The explanation: the opener (:meth:`opener`), then the chosen sentences, cut at the
        word budget (at most :data:`MAX_WORDS` words)."""
        opener = self.opener(language, label)
        parts = [opener] if opener else []
        parts += [text[found[i].start : found[i].end] for i in self.used(text, found, chosen, opener)]
        return clip_words(" ".join(parts), min(self.max_words, MAX_WORDS))

    def save(self, folder: Path) -> None:
        path = Path(folder) / EXPLAINER_FILE
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> Explainer:
        path = Path(folder) / EXPLAINER_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except FileNotFoundError:
            raise ModelError(f"model file {path} is missing: train the models again or reinstall spinscope") from None
        except (OSError, ValueError, TypeError) as error:
            raise ModelError(f"explainer {path} cannot be read ({error}): train it again") from None
