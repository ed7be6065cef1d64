"""k-fold fine-tuning: the encoder fine-tuned once per held-out fold of :mod:`.heldout` (the
committed split is fold 0), each run scored on its own fold, and the mean and spread of every
score over the folds.

``spinscope kfold DATA23 DATA25 --output build/kfold`` runs folds 0, 1 and 2 (``make
finetune-folds``) and prints the table. A run stopped part-way resumes from its checkpoint, and
a fold already scored is read back, not run again. Fold 0 is the shipped encoder's run: the
same settings and articles.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from pathlib import Path

from ..models.embeddings import Embedder, EmbeddingCache
from ..progress import Progress
from . import heldout
from .finetune import FineTuning, fine_tune

#: Each fold's scores, in its folder.
SCORES_FILE = "heldout-scores.json"

#: Scores as :func:`heldout.evaluate` gives them: ``{task: {language: score or {metric: score}}}``.
Scores = dict[str, dict[str, float | dict[str, float]]]


def run_fold(data_dirs: Sequence[Path], fold: int, output: Path, progress: Progress | None = None) -> Scores:
    """Fine-tune without ``fold``'s articles into ``output/fold<k>``, score that encoder on them."""
    folder = Path(output) / f"fold{fold}"
    scores_file = folder / SCORES_FILE
    if scores_file.is_file():
        return json.loads(scores_file.read_text())
    graph = fine_tune(data_dirs, folder, FineTuning(hold_out=True, fold=fold), progress)
    scores = heldout.evaluate(data_dirs, Embedder(EmbeddingCache(), graph=graph), progress, fold)
    scores_file.write_text(json.dumps(scores, indent=1) + "\n")
    return scores


def spread(folds: Sequence[Scores]) -> dict[tuple[str, str, str], tuple[float, float]]:
    """``{(task, metric, language): (mean, standard deviation)}`` of each score over the folds
    (the deviation of a sample; 0 for one fold). A score missing from a fold is left out of it."""
    values: dict[tuple[str, str, str], list[float]] = {}
    for scores in folds:
        for task, by_lang in scores.items():
            for lang, value in by_lang.items():
                for metric, score in (value if isinstance(value, dict) else {"": value}).items():
                    values.setdefault((task, metric, lang), []).append(score)
    return {key: (statistics.fmean(xs), statistics.stdev(xs) if len(xs) > 1 else 0.0) for key, xs in values.items()}


def markdown(summary: dict[tuple[str, str, str], tuple[float, float]]) -> str:
    """The summary as a Markdown table: a row per task and metric, a column per language."""
    langs = sorted({lang for _, _, lang in summary} - {"all"}) + ["all"]
    rows = dict.fromkeys((task, metric) for task, metric, _ in summary)  # in the scores' order
    lines = ["| score | " + " | ".join(langs) + " |", "|---" * (len(langs) + 1) + "|"]
    for task, metric in rows:
        cells = [summary.get((task, metric, lang)) for lang in langs]
        text = [f"{cell[0]:.3f} ± {cell[1]:.3f}" if cell else "" for cell in cells]
        lines.append(f"| {task} {metric} ".rstrip() + " | " + " | ".join(text) + " |")
    return "\n".join(lines)
