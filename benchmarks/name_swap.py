"""The name-swap test of entity roles on the held-out SemEval-2025 training articles (docs/models.md).

    python benchmarks/name_swap.py [SEMEVAL2025_DATA]

Fits the role models of the shipped recipe on the training articles outside the held-out split
(``spinscope heldout``'s), then, in each held-out article naming two entities of different gold
roles, swaps their names (:mod:`spinscope.training.name_swap`) and prints, as JSON: main-role
accuracy on those mentions before and after, the share given the other entity's role before and
after, and the held-out main-role accuracy and fine-role exact match per language next to always
answering the most frequent role. The shipped encoder's features; about ten minutes on 2 cores
(most of it embedding, cached after the first run).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from spinscope.models.embeddings import Embedder, EmbeddingCache
from spinscope.models.narratives import RoleRule
from spinscope.pipeline import MODEL_DIR
from spinscope.semeval.layout import iso_language
from spinscope.tasks import TARGETS
from spinscope.training import framing, heldout
from spinscope.training.estimators import HeadEstimator
from spinscope.training.name_swap import name_swap_scores, swapped_articles, swapped_rows

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "semeval2025"


def main(data_dir: Path) -> dict:
    embedder = Embedder(EmbeddingCache())
    data = framing.load_framing_data(data_dir, embedder)
    held = heldout.held_rows(heldout.load(), data_dir, data.roles.groups)
    roles, fine = data.roles, data.fine_roles
    P_model = HeadEstimator(TARGETS["roles"]).fit(roles.X[~held], roles.Y[~held])
    Q_model = HeadEstimator(TARGETS["fine_roles"]).fit(fine.X[~held], fine.Y[~held])
    rule = RoleRule(**json.loads((MODEL_DIR / "roles.json").read_text())["meta"]["rule"])

    def decide(X: np.ndarray) -> list[tuple[str, list[str]]]:
        P, Q = P_model.predict_proba(X), Q_model.predict_proba(X)
        return [rule.decide(roles.labels, p, fine.labels, q) for p, q in zip(P, Q)]

    swapped = swapped_articles(data, held)
    swap = name_swap_scores(data, swapped, swapped_rows(swapped, embedder), lambda X: [d[0] for d in decide(X)])
    return {"name_swap": swap, "held_out": _held_out_scores(data, held, decide(roles.X[held]))}


def _held_out_scores(data: framing.FramingData, held: np.ndarray, decisions: list) -> dict[str, dict]:
    """Main-role accuracy and fine-role exact match on the held-out mentions, per language, and the
    accuracy of the training rows' most frequent role in that language."""
    roles, fine = data.roles, data.fine_roles
    idx = np.flatnonzero(held)
    gold = np.array([roles.labels[int(j)] for j in roles.Y.argmax(axis=1)])
    out = {}
    for lang in sorted(set(roles.langs[idx])):
        mine = [k for k, i in enumerate(idx) if roles.langs[i] == lang]
        rows = idx[mine]
        train = ~held & (roles.langs == lang)
        most_frequent = roles.labels[int(roles.Y[train].sum(axis=0).argmax())]
        out[iso_language(lang)] = {
            "mentions": len(rows),
            "main_role_accuracy": round(float(np.mean([decisions[k][0] == gold[i] for k, i in zip(mine, rows)])), 3),
            "fine_role_exact_match": round(
                float(
                    np.mean(
                        [
                            set(decisions[k][1]) == {fine.labels[j] for j in np.flatnonzero(fine.Y[i])}
                            for k, i in zip(mine, rows)
                        ]
                    )
                ),
                3,
            ),
            "most_frequent_role_accuracy": round(float(np.mean(gold[rows] == most_frequent)), 3),
        }
    return out


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA), indent=1))
