"""The result of a run: the runtime's int8 ONNX graph with the trained layers' weights
(:func:`spinscope.encoder.graph.write_layers_model`) and ``finetune.json`` (settings, losses, time)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import torch

from ... import __version__
from ...encoder import ModelFile
from ...encoder.graph import write_layers_model
from ...encoder.signature import GRAPH_FILE, META_FILE
from .checkpoint import Training
from .examples import Example
from .settings import FineTuning


def export(
    output: Path,
    model_file: ModelFile,
    training: Training,
    config: FineTuning,
    data_dirs: Sequence[Path],
    examples: Sequence[Example],
) -> Path:
    """Write the trained encoder's graph and ``finetune.json`` to ``output``; the graph's path."""
    graph = output / GRAPH_FILE
    write_layers_model(model_file, graph, training.model.tensors())
    meta = {
        "version": __version__,
        "settings": asdict(config),
        "data": [str(d) for d in data_dirs],
        "paragraphs": len(examples),
        "tokens": sum(len(e.ids) for e in examples),
        "steps": training.total,
        "seconds": round(training.seconds),
        "threads": torch.get_num_threads(),
        "loss_by_epoch": training.history,
    }
    (output / META_FILE).write_text(json.dumps(meta, indent=1) + "\n")
    return graph
