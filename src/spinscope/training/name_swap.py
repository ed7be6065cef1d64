"""The name-swap test of entity roles: does a role follow what the article says, or who is named?

In each held-out article, the two most mentioned names that the gold labels cast in different
main roles trade places (every whole-word occurrence; nothing else changes). A model that reads
the text keeps each gold role where the words argue it: its accuracy on those mentions barely
moves, and few mentions take the role of the entity whose name is now written there. A model
that keys on names follows them: its accuracy falls and that share rises.
"""

from __future__ import annotations

import re
from collections import Counter as Tally
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..document import Article
from ..models.embeddings import EMBEDDING_DIM, Embedder
from ..models.roles import mention_rows
from .framing import FramingData, mention_context_states

#: A swapped occurrence: ``(start, end)`` in the original text, ``(start, end)`` in the swapped one.
Moved = tuple[tuple[int, int], tuple[int, int]]


def _norm(name: str) -> str:
    return " ".join(name.split())


def swap_names(text: str, first: str, second: str) -> tuple[str, list[Moved]]:
    """``text`` with every whole-word occurrence of ``first`` written ``second`` and the other way
    round, and where each occurrence went. Names are matched with any run of spaces inside."""
    if not first.strip() or not second.strip() or _norm(first) == _norm(second):
        raise ValueError("swap_names needs two different, non-empty names")
    forms = sorted({_norm(first), _norm(second)}, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(r"\s+".join(map(re.escape, f.split())) for f in forms) + r")(?!\w)")
    pieces, moved, position, shift = [], [], 0, 0
    for m in pattern.finditer(text):
        new = _norm(second) if _norm(m.group()) == _norm(first) else _norm(first)
        pieces += [text[position : m.start()], new]
        moved.append(((m.start(), m.end()), (m.start() + shift, m.start() + shift + len(new))))
        shift += len(new) - (m.end() - m.start())
        position = m.end()
    pieces.append(text[position:])
    return "".join(pieces), moved


@dataclass
class SwappedArticle:
    """One held-out article with two names swapped: ``rows`` are the data's mention rows of
    those names, ``spans`` where each now is, ``other_roles`` the gold role of the other name."""

    article: Article
    rows: list[int]
    spans: list[tuple[int, int]]
    other_roles: list[str]


def swapped_articles(data: FramingData, held: np.ndarray) -> list[SwappedArticle]:
    """The name-swapped copy of each held-out article (``held``: a mask of mention rows) that
    names two entities of different gold main roles, neither name inside the other."""
    roles = data.roles
    gold = [roles.labels[int(j)] for j in roles.Y.argmax(axis=1)]
    by_article: dict[str, list[int]] = {}
    for i in np.flatnonzero(held):
        by_article.setdefault(str(roles.groups[i]), []).append(int(i))
    out = []
    for group, rows in by_article.items():
        article = data.articles[group]
        by_name: dict[str, list[int]] = {}
        for row in rows:
            a, b = data.spans[row]
            by_name.setdefault(_norm(article.text[a:b]), []).append(row)
        role_of = {name: Tally(gold[i] for i in found).most_common(1)[0][0] for name, found in by_name.items()}
        ranked = sorted(by_name, key=lambda name: -len(by_name[name]))
        pair = next(
            (
                (x, y)
                for k, x in enumerate(ranked)
                for y in ranked[k + 1 :]
                if role_of[x] != role_of[y] and x.lower() not in y.lower() and y.lower() not in x.lower()
            ),
            None,
        )
        if pair is None:
            continue
        text, moved = swap_names(article.text, *pair)
        where = dict(moved)
        kept = [i for i in by_name[pair[0]] + by_name[pair[1]] if data.spans[i] in where]
        if kept:
            other = {pair[0]: role_of[pair[1]], pair[1]: role_of[pair[0]]}
            out.append(
                SwappedArticle(
                    Article(text, id=f"{article.id}-swapped", language=article.language),
                    kept,
                    [where[data.spans[i]] for i in kept],
                    [other[_norm(article.text[slice(*data.spans[i])])] for i in kept],
                )
            )
    return out


def swapped_rows(swapped: Sequence[SwappedArticle], embedder: Embedder) -> np.ndarray:
    """The feature rows of the swapped mentions, in order, read as the pipeline reads them."""
    states = mention_context_states([s.article for s in swapped], [s.spans for s in swapped], embedder)
    rows = []
    for s, in_context in zip(swapped, states):
        E = embedder.embed([p.text for p in s.article.paragraphs]).reshape(-1, EMBEDDING_DIM)
        rows.append(mention_rows(E, in_context))
    return np.vstack(rows) if rows else np.zeros((0, 3 * EMBEDDING_DIM), dtype=np.float32)


def name_swap_scores(
    data: FramingData,
    swapped: Sequence[SwappedArticle],
    X_swapped: np.ndarray,
    main_role: Callable[[np.ndarray], list[str]],
) -> dict[str, float | int]:
    """Main-role accuracy on the swapped mentions before and after the swap, and the share of
    them given the other entity's gold role before and after; ``main_role`` decides rows."""
    rows = [i for s in swapped for i in s.rows]
    other = np.array([role for s in swapped for role in s.other_roles])
    gold = np.array([data.roles.labels[int(j)] for j in data.roles.Y[rows].argmax(axis=1)])
    before, after = np.array(main_role(data.roles.X[rows])), np.array(main_role(X_swapped))
    return {
        "articles": len(swapped),
        "mentions": len(rows),
        "accuracy_before": round(float(np.mean(before == gold)), 3),
        "accuracy_after": round(float(np.mean(after == gold)), 3),
        "other_role_before": round(float(np.mean(before == other)), 3),
        "other_role_after": round(float(np.mean(after == other)), 3),
    }
