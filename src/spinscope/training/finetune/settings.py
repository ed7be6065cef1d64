"""The settings of a fine-tuning run, and the targets it learns: every target of the task
registry (:mod:`spinscope.tasks`), one head each, read where its task's level says."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...tasks import TASKS, Level, Target


def targets_of(*levels: Level) -> tuple[Target, ...]:
    """The targets of the tasks of ``levels``, level by level in registry order."""
    return tuple(
        target for level in levels for task in TASKS.values() if task.level is level for target in task.targets
    )


#: Targets read from a paragraph's mean state (the embedding the analysis reads): the paragraph's
#: own labels, then those it takes from its article.
POOLED_TARGETS = targets_of(Level.PARAGRAPH, Level.ARTICLE)
#: The token-level target (technique spans): read from each token's state.
(SPAN_TARGET,) = targets_of(Level.TOKEN)
#: Targets read from the mean state of a mention's tokens (entity roles).
MENTION_TARGETS = targets_of(Level.MENTION)
#: Every head, in the order that fixes their seeded initialisation and the order the losses are
#: summed in: another order trains other weights from the same seed.
HEAD_TARGETS = (*POOLED_TARGETS, SPAN_TARGET, *MENTION_TARGETS)


@dataclass(frozen=True)
class FineTuning:
    """The settings of a fine-tuning run (recorded in ``finetune.json``)."""

    #: Top transformer layers trained (of 12); the others stay frozen and run once.
    layers: int = 4
    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 4e-5
    head_learning_rate: float = 2e-3
    warmup: float = 0.1
    weight_decay: float = 0.01
    dropout: float = 0.1
    #: Tokens per paragraph, ``<s>`` and ``</s>`` included (p99 of the training paragraphs: 312).
    max_tokens: int = 256
    seed: int = 0
    #: Train only on the articles outside the committed held-out split (:mod:`..heldout`).
    hold_out: bool = False
    #: With ``hold_out``: which fold of five is held out (0: the committed split; k-fold fine-tuning).
    fold: int = 0
    #: Each target's weight in the summed loss.
    loss_weights: dict[str, float] = field(
        default_factory=lambda: {target.name: target.loss_weight for target in HEAD_TARGETS}
    )
    #: Paragraphs of each language and data folder at most (tests), ``None`` for all.
    max_paragraphs: int | None = None
