"""A run's state and its checkpoint: saved as it trains, loaded by a run with the same settings,
which then ends where an uninterrupted one would."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from .model import MultiTaskEncoder
from .settings import FineTuning

log = logging.getLogger(__name__)

CHECKPOINT_FILE = "finetune-checkpoint.pt"


@dataclass
class Training:
    """A run: what trains, the steps done of ``total`` and the time spent, runs it resumed included."""

    model: MultiTaskEncoder
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    per_epoch: int
    total: int
    #: When this process started the run (``time.perf_counter``).
    started: float
    step: int = 0
    #: Seconds spent by the runs this one resumed.
    spent: float = 0.0
    #: Each epoch's mean loss of each target.
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.spent + time.perf_counter() - self.started


def _settings(config: FineTuning) -> dict:
    """The settings as a checkpoint stores them (JSON types)."""
    return json.loads(json.dumps(asdict(config)))


def save(path: Path, config: FineTuning, training: Training) -> None:
    """Write the checkpoint whole or not at all (an interrupted write keeps the previous one)."""
    state = {
        "settings": asdict(config),
        "step": training.step,
        "seconds": training.seconds,
        "model": training.model.state_dict(),
        "optimizer": training.optimizer.state_dict(),
        "scheduler": training.scheduler.state_dict(),
        "history": training.history,
    }
    torch.save(state, path.with_suffix(".tmp"))
    path.with_suffix(".tmp").replace(path)


def resume(path: Path, config: FineTuning, training: Training) -> None:
    """Load the checkpoint at ``path`` into ``training`` when it was made with ``config``."""
    if not path.is_file():
        return
    state = torch.load(path, weights_only=True)
    if state["settings"] != _settings(config):
        log.warning("%s was made with other settings: starting afresh", path)
        return
    training.model.load_state_dict(state["model"])
    training.optimizer.load_state_dict(state["optimizer"])
    training.scheduler.load_state_dict(state["scheduler"])
    training.history.extend(state["history"])
    training.step, training.spent = int(state["step"]), float(state.get("seconds", 0.0))


class Checkpoints:
    """Saves a run every ``every`` seconds and after its last step."""

    def __init__(self, path: Path, config: FineTuning, every: float):
        self.path, self.config, self.every = path, config, every
        self.last = time.monotonic()

    def after_step(self, training: Training) -> None:
        if time.monotonic() - self.last >= self.every or training.step == training.total:
            save(self.path, self.config, training)
            self.last = time.monotonic()
