"""Entity mentions in raw text: known names, repeated capitalised names, and the forms of one name.

The SemEval-2025 data gives mentions with the text; an article from elsewhere comes without
them, so :class:`MentionFinder` finds them and :func:`group_names` joins the inflected forms of
one name ("Украине", "Украины") into one entity.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ModelError

#: Longer runs of capitalised words are not taken for one name.
MAX_NAME_WORDS = 6
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_SENTENCE_END = re.compile(r"[.!?…:\"«»“”]\s*$")


@dataclass
class MentionFinder:
    """Finds entity mentions in raw text: known names, then repeated capitalised names.

    ``names`` are mention texts seen in the training labels (matched whole-word, longest
    first); in scripts with capitals, a run of capitalised words counts too when the article
    uses it inside a sentence at least once and it is either several words or repeated
    ``min_repeats`` times, unless it is a single word the article also writes in lower case
    (a common word, not a name).
    """

    names: list[str] = field(default_factory=list)
    min_repeats: int = 2
    _pattern: re.Pattern | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_mentions(cls, mentions: Iterable[str], min_count: int = 1, **options) -> MentionFinder:
        """A finder knowing the names among ``mentions`` seen at least ``min_count`` times."""
        counts = Counter(" ".join(m.split()) for m in mentions)
        # Names only: a mention starting in lower case ("the government") is a common noun.
        return cls(
            sorted(name for name, n in counts.items() if n >= min_count and len(name) >= 2 and not name[0].islower()),
            **options,
        )

    def find(self, text: str) -> list[tuple[int, int]]:
        """Non-overlapping ``[start, end)`` mentions in ``text``, in order."""
        taken = bytearray(len(text))
        found = []

        def add(start: int, end: int) -> None:
            if not any(taken[start:end]):
                taken[start:end] = b"\1" * (end - start)
                found.append((start, end))

        for m in self.pattern.finditer(text) if self.names else ():
            add(m.start(), m.end())
        runs: dict[str, list[tuple[int, int, bool]]] = {}
        headlines = _title_case_lines(text)
        for start, end, inside in _capitalised_runs(text):
            if not any(a <= start < b for a, b in headlines):
                runs.setdefault(text[start:end], []).append((start, end, inside))
        lowercase = {w for w in _WORD.findall(text) if w.islower()}
        for name, occurrences in runs.items():
            if " " not in name and (name.lower() in lowercase or len(name) < 3 and not name.isupper()):
                continue  # a common word written with a capital ("Le", "The"), not a name
            if name.count(" ") >= MAX_NAME_WORDS:
                continue  # a run of capitals (a shouted line, a list of places), not one name
            repeated = len(occurrences) >= self.min_repeats or " " in name  # "Anna Berg" once is a name
            if repeated and any(inside for *_, inside in occurrences):
                for start, end, _ in occurrences:
                    add(start, end)
        return sorted(found)

    @property
    def pattern(self) -> re.Pattern:
        if self._pattern is None:
            names = sorted(self.names, key=len, reverse=True)
            self._pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in names) + r")(?!\w)")
        return self._pattern

    def save(self, path: Path, cv_recall: dict | None = None) -> None:
        data = {"names": self.names, "min_repeats": self.min_repeats, "cv_recall": cv_recall or {}}
        path.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n")

    @classmethod
    def load(cls, path: Path) -> MentionFinder:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(data["names"], data["min_repeats"])
        except FileNotFoundError:
            raise ModelError(f"model file {path} is missing: train the models again or reinstall spinscope") from None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ModelError(f"the mention finder {path} cannot be read ({error}): train it again") from None


#: At most this many entities per article (the most mentioned), each judged on at most
#: this many of its mentions, spread over the article.
MAX_ENTITIES = 12
MENTIONS_PER_ENTITY = 20


def mentions_by_name(
    finder: MentionFinder, text: str, embed: Callable[[list[str]], np.ndarray]
) -> dict[str, list[tuple[int, int]]]:
    """The mentions ``finder`` finds in ``text``, grouped by entity and keyed by its name: a full
    name joins its surname ("Vladimir Putin" is the "Putin" of the article) and inflected forms
    are one entity named by the most frequent form (:func:`group_names`)."""
    by_name: dict[str, list[tuple[int, int]]] = {}
    for a, b in finder.find(text):
        by_name.setdefault(" ".join(text[a:b].split()), []).append((a, b))
    for name in [n for n in by_name if " " in n]:
        last = name.rsplit(" ", 1)[1]
        if last in by_name:
            by_name[last] = sorted(by_name[last] + by_name.pop(name))
    grouped: dict[str, list[tuple[int, int]]] = {}
    for name, head in group_names(most_mentioned(by_name), embed).items():
        grouped[head] = sorted(grouped.get(head, []) + by_name[name])
    return grouped


def most_mentioned(by_name: dict[str, list[tuple[int, int]]]) -> list[str]:
    """Names by number of mentions, then by first mention."""
    return sorted(by_name, key=lambda n: (-len(by_name[n]), by_name[n][0]))


def spread(items: list, n: int) -> list:
    """At most ``n`` of ``items``, evenly spaced, first and last included."""
    if len(items) <= n:
        return items
    return [items[round(i * (len(items) - 1) / (n - 1))] for i in range(n)]


#: Two forms of a name are one entity when every word keeps a stem of ``STEM_MIN`` characters
#: and changes at most ``ENDING_MAX`` final ones ("Украине" / "Украины", "Зеленский" /
#: "Зеленского"), and their embeddings agree to ``SAME_NAME_COSINE`` (which keeps "George"
#: apart from "Georgia" and "Maria" from "Mario": cosines .82 and .91 with the fine-tuned
#: encoder, against .93-.99 for inflected forms such as "Волкову" / "Волковой").
STEM_MIN = 4
ENDING_MAX = 3
SAME_NAME_COSINE = 0.92


def _same_stem(a: str, b: str) -> bool:
    words_a, words_b = a.lower().split(), b.lower().split()
    if len(words_a) != len(words_b):
        return False
    for x, y in zip(words_a, words_b):
        stem = len(os.path.commonprefix([x, y]))
        if x != y and (stem < STEM_MIN or len(x) - stem > ENDING_MAX or len(y) - stem > ENDING_MAX):
            return False
    return True


def group_names(names: Sequence[str], embed: Callable[[list[str]], np.ndarray]) -> dict[str, str]:
    """Map each of ``names`` to the first of ``names`` that is a form of the same name.

    Pass the most frequent names first: they become the names of their groups. ``embed``
    returns L2-normalised vectors (an :class:`~spinscope.models.embeddings.Embedder`'s ``embed``);
    only names that pass the stem test are embedded.
    """
    # Only names whose words begin alike can pass the stem test: compare within those buckets.
    buckets: dict[tuple[str, ...], list[str]] = {}
    for name in names:
        buckets.setdefault(tuple(word[:STEM_MIN] for word in name.lower().split()), []).append(name)
    pairs = [
        (a, b) for bucket in buckets.values() for i, b in enumerate(bucket) for a in bucket[:i] if _same_stem(a, b)
    ]
    same_as: dict[str, str] = {}  # a name -> the first name before it of the same entity
    if pairs:
        texts = sorted({name for pair in pairs for name in pair})
        vectors = dict(zip(texts, embed(texts)))
        for a, b in pairs:
            if b not in same_as and float(vectors[a] @ vectors[b]) >= SAME_NAME_COSINE:
                same_as[b] = a
    group: dict[str, str] = {}
    for name in names:  # in order, so the group of an earlier name is known
        group[name] = group[same_as[name]] if name in same_as else name
    return group


def _capitalised_runs(text: str) -> Iterable[tuple[int, int, bool]]:
    """Runs of capitalised words ``(start, end, inside)``; ``inside`` is false at a sentence start."""
    run_start: int | None = None
    run_end: int | None = None
    for m in _WORD.finditer(text):
        word = m.group()
        capital = word[0].isupper() and not word.isupper() or (word.isupper() and len(word) > 1)
        if capital and run_end is not None and text[run_end : m.start()] == " ":
            run_end = m.end()
            continue
        if run_start is not None and run_end is not None:  # set and cleared together
            yield run_start, run_end, not _starts_sentence(text, run_start)
        run_start, run_end = (m.start(), m.end()) if capital else (None, None)
    if run_start is not None and run_end is not None:
        yield run_start, run_end, not _starts_sentence(text, run_start)


def _title_case_lines(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of the lines written in Title Case (most words capitalised), where
    capitals say nothing about names."""
    out, start = [], 0
    for line in text.split("\n"):
        words = _WORD.findall(line)
        if len(words) >= 4 and sum(w[0].isupper() for w in words) >= 0.6 * len(words):
            out.append((start, start + len(line)))
        start += len(line) + 1
    return out


def _starts_sentence(text: str, start: int) -> bool:
    before = text[max(0, start - 3) : start]
    return start == 0 or "\n" in before or bool(_SENTENCE_END.search(before))
