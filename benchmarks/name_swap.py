"""The name-swap test of entity roles on the held-out SemEval-2025 training articles (docs/models.md).

    python benchmarks/name_swap.py [SEMEVAL2025_DATA] [--encoder GRAPH]

Fits the role models of the shipped recipe on the training articles outside the held-out split
(``spinscope heldout``'s), then, in each held-out article naming two entities of different gold
roles, swaps their names (:mod:`spinscope.training.name_swap`) and prints, as JSON: main-role
accuracy on those mentions before and after, the share given the other entity's role before and
after, and the held-out role scores per language next to always answering the language's most
frequent role (:func:`spinscope.training.heldout.role_scores`). About ten minutes on 2 cores
(most of it embedding, cached after the first run).

The encoder must not have learnt from the held-out articles. Without ``--encoder`` the shipped one
is used, and refused if the record of its run (``finetune.json``) says it did not leave them out.
Another encoder: the graph of a run that left them out (``spinscope train ... --encoder
--hold-out``), such as the fold-0 encoder shipped since commit 265367d::

    git show 265367d:src/spinscope/encoder/e5-small-layers.onnx > fold0.onnx
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from spinscope.encoder import held_out_fold
from spinscope.models.embeddings import Embedder, EmbeddingCache
from spinscope.models.narratives import RoleRule
from spinscope.pipeline import MODEL_DIR
from spinscope.tasks import TARGETS
from spinscope.training import framing, heldout
from spinscope.training.estimators import HeadEstimator
from spinscope.training.name_swap import name_swap_scores, swapped_articles, swapped_rows

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "semeval2025"


def main(data_dir: Path, graph: Path | None = None) -> dict:
    if graph is None and held_out_fold() != 0:
        sys.exit("The shipped encoder learnt from the held-out articles: give --encoder GRAPH (see --help).")
    embedder = Embedder(EmbeddingCache(), graph=graph)
    data = framing.load_framing_data(data_dir, embedder)
    held = heldout.held_rows(heldout.load(), data_dir, data.roles.groups)
    train, test = (
        replace(data, roles=data.roles.subset(rows), fine_roles=data.fine_roles.subset(rows)) for rows in (~held, held)
    )
    P_model = HeadEstimator(TARGETS["roles"]).fit(train.roles.X, train.roles.Y)
    Q_model = HeadEstimator(TARGETS["fine_roles"]).fit(train.fine_roles.X, train.fine_roles.Y)
    rule = RoleRule(**json.loads((MODEL_DIR / "roles.json").read_text())["meta"]["rule"])

    def decide(X) -> list[tuple[str, list[str]]]:
        P, Q = P_model.predict_proba(X), Q_model.predict_proba(X)
        return [rule.decide(data.roles.labels, p, data.fine_roles.labels, q) for p, q in zip(P, Q)]

    swapped = swapped_articles(data, held)
    swap = name_swap_scores(data, swapped, swapped_rows(swapped, embedder), lambda X: [d[0] for d in decide(X)])
    return {"name_swap": swap, "held_out": heldout.role_scores(train, test, decide(test.roles.X))}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", type=Path, default=DATA, help="The SemEval-2025 data folder.")
    parser.add_argument("--encoder", type=Path, help="An encoder graph that never saw the held-out articles.")
    args = parser.parse_args()
    print(json.dumps(main(args.data, args.encoder), indent=1))
