"""Fine-tune the e5 encoder on every task at once, on a CPU (``spinscope train --encoder``).

The top ``layers`` transformer layers train, with one small head per target of the task registry
(:mod:`spinscope.tasks`), read where its task's level says: article- and paragraph-level targets
on a paragraph's mean token state (the embedding the heads read; each paragraph carries its
article's labels), technique spans on each token, entity roles on the mean state of a mention's
tokens. The layers below stay frozen and run once: their outputs are kept in memory (float16)
and every epoch starts from them. Batches hold paragraphs of similar length (almost no padding)
and come in a seeded random order; dropout is seeded by step, so a run resumed from its
checkpoint ends where an uninterrupted one would.

The modules, by job: :mod:`.settings` (the run's settings and targets), :mod:`.examples`
(labelled articles to token examples), :mod:`.model` (the torch layers), :mod:`.loss`,
:mod:`.loop` (:func:`fine_tune`), :mod:`.checkpoint` and :mod:`.export` (the int8 ONNX graph and
``finetune.json``). Needs PyTorch: ``pip install -e '.[train]'``. The analysis never imports it.
"""

from __future__ import annotations

from .checkpoint import CHECKPOINT_FILE
from .examples import Example, read_examples
from .export import META_FILE
from .loop import fine_tune
from .model import FrozenLayers, MultiTaskEncoder, pad_batch
from .settings import FineTuning

__all__ = [
    "CHECKPOINT_FILE",
    "META_FILE",
    "Example",
    "FineTuning",
    "FrozenLayers",
    "MultiTaskEncoder",
    "fine_tune",
    "pad_batch",
    "read_examples",
]
