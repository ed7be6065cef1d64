"""Decision rules of narratives and entity roles (SemEval-2025 Task 10).

Four :class:`~spinscope.models.heads.Head` s do the scoring: coarse narratives and
sub-narratives from an article's features, main roles and fine roles from a mention's
features. The rules here turn their probabilities into decisions that respect the two
hierarchies: a sub-narrative implies its narrative, a fine role belongs to its main role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..taxonomy import FINE_ROLES, OTHER, narrative_parent

# --- narratives ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NarrativeRule:
    """How narrative probabilities become labels.

    A narrative is chosen when its probability reaches ``coarse`` or one of its sub-narratives
    reaches ``fine``; each chosen narrative keeps its sub-narratives that reach ``fine``, or its
    best one when none does. ``one_domain`` keeps only the domain (war or climate) of the best
    narrative. Nothing chosen means ``Other``.
    """

    coarse: float = 0.4
    fine: float = 0.4
    one_domain: bool = True

    def decide(
        self, coarse_labels: Sequence[str], coarse_p: np.ndarray, fine_labels: Sequence[str], fine_p: np.ndarray
    ) -> tuple[list[str], list[str]]:
        parent = _parents(tuple(coarse_labels), tuple(fine_labels))
        real = parent >= 0  # every sub-narrative but Other
        chosen = {i for i in map(int, np.flatnonzero(coarse_p >= self.coarse)) if coarse_labels[i] != OTHER}
        chosen |= {int(parent[j]) for j in np.flatnonzero(real & (fine_p >= self.fine))}
        if self.one_domain and chosen:
            domain = coarse_labels[max(chosen, key=lambda i: coarse_p[i])].split(":")[0] + ":"
            chosen = {i for i in chosen if coarse_labels[i].startswith(domain)}
        if not chosen:
            return [OTHER], [OTHER]
        coarse, fine = [], []
        for i in sorted(chosen, key=lambda i: -coarse_p[i]):
            kids = np.flatnonzero(parent == i)
            ranked = [int(j) for j in kids[np.argsort(-fine_p[kids], kind="stable")]]
            sure = [j for j in ranked if fine_p[j] >= self.fine]
            coarse.append(coarse_labels[i])
            fine += [fine_labels[j] for j in (sure or ranked[:1])]
        return coarse, fine


@lru_cache(maxsize=8)
def _parents(coarse_labels: tuple[str, ...], fine_labels: tuple[str, ...]) -> np.ndarray:
    """Index in ``coarse_labels`` of each sub-narrative's narrative (-1 for ``Other``)."""
    index = {label: i for i, label in enumerate(coarse_labels)}
    return np.array([-1 if f == OTHER else index[narrative_parent(f)] for f in fine_labels])


# --- entity roles ----------------------------------------------------------------------------

_MAIN_OF = {label.name: label.group for label in FINE_ROLES}


@dataclass(frozen=True)
class RoleRule:
    """A mention's main role is the one of highest ``p + fine_weight * f``, ``p`` the main-role
    model's probability and ``f`` the share of the fine-role model's probability mass that
    falls on that role's fine roles (the two models are fitted apart; each is evidence for the
    main role). Its fine roles are the best fine role of that main role plus any other of it
    whose probability reaches ``extra``."""

    extra: float = 0.6
    fine_weight: float = 0.0

    def decide(
        self, role_labels: Sequence[str], role_p: np.ndarray, fine_labels: Sequence[str], fine_p: np.ndarray
    ) -> tuple[str, list[str]]:
        evidence = np.asarray(role_p, dtype=np.float64)
        if self.fine_weight:
            mass = _children(tuple(role_labels), tuple(fine_labels)) @ np.asarray(fine_p, dtype=np.float64)
            evidence = evidence + self.fine_weight * mass / max(float(mass.sum()), 1e-9)
        role = role_labels[int(np.argmax(evidence))]
        kids = sorted(
            ((float(p), label) for label, p in zip(fine_labels, fine_p) if _MAIN_OF[label] == role), reverse=True
        )
        return role, [kids[0][1]] + [label for p, label in kids[1:] if p >= self.extra]


@lru_cache(maxsize=8)
def _children(role_labels: tuple[str, ...], fine_labels: tuple[str, ...]) -> np.ndarray:
    """0/1 ``(len(role_labels), len(fine_labels))``: which fine roles belong to which main role."""
    return np.array([[_MAIN_OF[f] == r for f in fine_labels] for r in role_labels], dtype=np.float64)
