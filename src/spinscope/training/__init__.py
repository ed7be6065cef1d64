"""Training: every shipped model from the SemEval training data, with 5-fold CV by article.

``train(data_dirs, output)`` reproduces the shipped models (``spinscope train``); which tasks a
data folder trains comes from the task registry (:mod:`spinscope.tasks`). The parts:
:mod:`~.estimators` (rows, the head estimator, folds, metadata), :mod:`~.techniques` (genre,
frames, techniques), :mod:`~.spans` (the span tagger), :mod:`~.framing` (narratives, entity
roles, mention finder), :mod:`~.explanations` (the explainer of the dominant narrative), :mod:`~.finetune` (the encoder itself, with PyTorch), :mod:`~.heldout`
(the held-out split that compares encoders).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import DataError
from ..models.embeddings import Embedder, EmbeddingCache
from ..progress import Counter, Progress
from ..semeval.layout import is_2025_data
from ..tasks import TASKS, Dataset, tasks_of
from . import explanations, framing, spans, techniques
from .estimators import FOLDS, texts_range_states

__all__ = ["train"]


def train(
    data_dirs: Sequence[Path],
    output: Path,
    tasks: Sequence[str] | None = None,
    languages: Sequence[str] | None = None,
    command: str | None = None,
    progress: Progress | None = None,
    graph: Path | None = None,
) -> dict[str, dict]:
    """Train ``tasks`` (default: all that the data allows) on SemEval-2023 and/or SemEval-2025
    data folders and write the models to ``output``.

    ``languages`` restricts training to those language folders; ``command`` is recorded in the
    models as the way to reproduce them. ``graph`` is an encoder graph to read features with
    instead of the shipped one (a fine-tuned encoder, :func:`.finetune.fine_tune`). Returns the
    cross-validation scores of each model written, by name (``spans baseline``: the
    whole-paragraph baseline of the span tagger).
    """
    for data_dir in map(Path, data_dirs):
        if not data_dir.is_dir():
            raise DataError(f"no such data folder: {data_dir}")
    chosen = list(tasks or TASKS)
    command = command or "spinscope train " + " ".join(map(str, data_dirs)) + f" --output {output}"
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    embedder = Embedder(EmbeddingCache(), graph=graph)
    scores: dict[str, dict] = {}
    for data_dir in map(Path, data_dirs):
        dataset = Dataset.SEMEVAL2025 if is_2025_data(data_dir) else Dataset.SEMEVAL2023
        todo = [name for name in tasks_of(dataset) if name in chosen]
        if todo:
            scores |= TRAINERS[dataset](data_dir, embedder, todo, languages, output, command, progress)
    return scores


def _train_techniques(
    data_dir: Path,
    embedder: Embedder,
    chosen: list[str],
    languages,
    output: Path,
    command: str,
    progress: Progress | None,
) -> dict[str, dict]:
    data = techniques.load_data(data_dir, embedder, languages, progress=progress)
    scores, decisions = {}, {}
    # A task's model is also fitted when a chosen task needs it: the span tagger is
    # cross-validated on the techniques model's out-of-fold labels.
    needed = {name for task in chosen for name in (task, *TASKS[task].requires)}
    for task in [name for name in techniques.HEAD_TASKS if name in needed]:
        counter = Counter(progress, f"{task}: {FOLDS}-fold CV + final fit", FOLDS + 1)
        head, decisions[task] = techniques.train_task(data[task], command, counter.advance)
        if task in chosen:
            head.save(output, task)
            scores[task] = head.meta["cv"]
    if "spans" in chosen:
        scores |= _train_spans(data_dir, embedder, languages, decisions["techniques"], output, command, progress)
    return scores


def _train_spans(
    data_dir: Path,
    embedder: Embedder,
    languages,
    paragraph_decisions: dict,
    output: Path,
    command: str,
    progress: Progress | None,
) -> dict[str, dict]:
    span_data = spans.load_span_data(data_dir, languages)
    states = texts_range_states(
        embedder, [p.text for p in span_data.paragraphs], [p.tokens for p in span_data.paragraphs], progress
    )
    n_langs = len({p.lang for p in span_data.paragraphs})
    counter = Counter(
        progress,
        f"spans: {FOLDS}-fold CV + leave-one-language-out + final fit",
        FOLDS + (n_langs if n_langs > 1 else 0) + 1,
    )
    model = spans.train_spans(span_data, states, paragraph_decisions, command, counter.advance)
    model.save(output)
    scores = {"spans": model.meta["cv"], "spans baseline": model.meta["cv_whole_paragraph"]}
    if "lolo" in model.meta:
        scores["spans, leave one language out"] = model.meta["lolo"]
    return scores


def _train_framing(
    data_dir: Path,
    embedder: Embedder,
    chosen: list[str],
    languages,
    output: Path,
    command: str,
    progress: Progress | None,
) -> dict[str, dict]:
    data = framing.load_framing_data(data_dir, embedder, languages, progress=progress)
    scores = {}
    if "narratives" in chosen:
        counter = Counter(progress, f"narratives: 2 x {FOLDS}-fold CV + final fit", 2 * FOLDS)
        for head in framing.train_narratives(data, command, counter.advance):
            head.save(output, head.meta["task"])
        scores["narratives"] = head.meta["cv"]
    if "entities" in chosen:
        n_langs = len(set(data.roles.langs))
        counter = Counter(
            progress,
            f"entity roles: 2 x ({FOLDS}-fold CV + leave-one-language-out), previous and new features",
            4 * FOLDS + (4 * n_langs if n_langs > 1 else 0),
        )
        for head in framing.train_roles(data, command, counter.advance):
            head.save(output, head.meta["task"])
        scores["entity roles"] = head.meta["cv"]
        finder, recall = framing.train_finder(data)
        finder.save(output / "mentions.json", recall)
        scores["mention recall"] = recall
    if "explanations" in chosen:
        scores |= _train_explanations(data_dir, embedder, languages, output, command, progress)
    return scores


def _train_explanations(
    data_dir: Path, embedder: Embedder, languages, output: Path, command: str, progress: Progress | None
) -> dict[str, dict]:
    """The explainer, after the narratives: it reads the sentence scores of the heads just
    written. A folder without subtask-3 explanations gets the default settings (the evidence
    needs none)."""
    if not explanations.has_explanations(data_dir, languages):
        explanations.default_explainer(command).save(output)
        return {}
    counter = Counter(progress, f"explanations: nested {FOLDS}-fold CV of chrF", FOLDS)
    explainer = explanations.train(data_dir, embedder, output, languages, command, progress, counter.advance)
    return {"explanations": explainer.meta["cv"]}


#: The trainer of each shared task's data: (data folder, embedder, tasks, languages, output, command, progress).
TRAINERS: dict[Dataset, Callable[..., dict[str, dict]]] = {
    Dataset.SEMEVAL2023: _train_techniques,
    Dataset.SEMEVAL2025: _train_framing,
}
