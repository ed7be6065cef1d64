"""Small classifiers that run in numpy and are stored as JSON + ``.npz`` (never pickle).

A :class:`Head` is a feed-forward network ``x -> (ReLU layer)* -> logits`` read from the
coefficients of a fitted scikit-learn estimator; with no hidden layer it is a linear model.
The decision thresholds of a multi-label head are part of the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ModelError


@dataclass
class Head:
    """A trained classifier.

    ``kind`` is ``"multiclass"`` (softmax, the most probable label is chosen) or
    ``"multilabel"`` (sigmoid per label, chosen when its probability reaches its entry of
    ``thresholds``). ``layers`` are ``(W, b)`` pairs with ``W`` of shape ``(n_in, n_out)``;
    ``mean``/``scale`` standardise inputs.
    """

    labels: list[str]
    kind: str
    layers: list[tuple[np.ndarray, np.ndarray]]
    mean: np.ndarray
    scale: np.ndarray
    thresholds: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind == "multilabel" and self.thresholds is None:
            raise ValueError("a multi-label head needs its thresholds")

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities ``(n, len(labels))`` for feature rows ``X`` ``(n, n_features)``."""
        h = (np.asarray(X, dtype=np.float32) - self.mean) / self.scale
        for i, (W, b) in enumerate(self.layers):
            h = h @ W + b
            if i < len(self.layers) - 1:
                np.maximum(h, 0, out=h)
        if self.kind == "multiclass":
            if h.shape[1] == 1:  # a binary logistic regression stores one column
                h = np.hstack([-h, h])
            h = np.exp(h - h.max(axis=1, keepdims=True))
            return h / h.sum(axis=1, keepdims=True)
        return sigmoid(h)

    def decide(self, proba: np.ndarray) -> list[list[str]]:
        """Chosen labels of each row of ``predict_proba`` output."""
        if self.kind == "multiclass":
            return [[self.labels[int(i)]] for i in proba.argmax(axis=1)]
        return [[self.labels[j] for j in np.flatnonzero(row >= self.thresholds)] for row in proba]

    def predict(self, X: np.ndarray) -> list[list[str]]:
        return self.decide(self.predict_proba(X))

    def save(self, folder: Path, name: str) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {"mean": self.mean, "scale": self.scale}
        if self.thresholds is not None:
            arrays["thresholds"] = self.thresholds
        for i, (W, b) in enumerate(self.layers):
            arrays[f"W{i}"], arrays[f"b{i}"] = W, b
        stored = {k: np.asarray(v, dtype=np.float16) for k, v in arrays.items()}
        # numpy's stub lets **stored fill its allow_pickle: bool, which none of these names is.
        np.savez_compressed(folder / f"{name}.npz", **stored)  # type: ignore[arg-type]
        header = {"labels": self.labels, "kind": self.kind, "n_layers": len(self.layers), "meta": self.meta}
        (folder / f"{name}.json").write_text(json.dumps(header, indent=2, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, folder: Path, name: str) -> Head:
        header, raw = read_model(folder, name)
        arrays = {k: v.astype(np.float32) for k, v in raw.items()}
        layers = [(arrays[f"W{i}"], arrays[f"b{i}"]) for i in range(header["n_layers"])]
        # Multi-class heads saved before 0.2 carry a row of ones as thresholds: not used.
        thresholds = arrays.get("thresholds") if header["kind"] == "multilabel" else None
        return cls(
            header["labels"],
            header["kind"],
            layers,
            arrays["mean"],
            arrays["scale"],
            thresholds,
            header.get("meta", {}),
        )

    @classmethod
    def from_sklearn(cls, estimator, labels, kind, mean, scale, thresholds=None, meta=None) -> Head:
        """Read a fitted linear model (``coef_``, ``intercept_``) or ``MLPClassifier``;
        ``thresholds`` (multi-label only): one for all labels or one per label."""
        if hasattr(estimator, "coefs_"):
            layers = [
                (np.asarray(W, np.float32), np.asarray(b, np.float32))
                for W, b in zip(estimator.coefs_, estimator.intercepts_)
            ]
        else:
            layers = [(estimator.coef_.T.astype(np.float32), estimator.intercept_.astype(np.float32))]
        if thresholds is not None:
            thresholds = np.broadcast_to(np.asarray(thresholds, np.float32), (len(labels),)).copy()
        return cls(
            list(labels),
            kind,
            layers,
            np.asarray(mean, np.float32),
            np.asarray(scale, np.float32),
            thresholds,
            meta or {},
        )


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, clipped so that no logit overflows."""
    return 1 / (1 + np.exp(-np.clip(z, -30, 30)))


def read_model(folder: Path | str, name: str) -> tuple[dict, dict[str, np.ndarray]]:
    """The JSON header and the arrays of the model ``name`` saved in ``folder``.

    Raises :class:`~spinscope.errors.ModelError` naming the file when one is missing or unreadable.
    """
    header_path, arrays_path = Path(folder) / f"{name}.json", Path(folder) / f"{name}.npz"
    for path in (header_path, arrays_path):
        if not path.is_file():
            raise ModelError(f"model file {path} is missing: train the models again or reinstall spinscope")
    try:
        header = json.loads(header_path.read_text(encoding="utf-8"))
        with np.load(arrays_path, allow_pickle=False) as z:
            return header, {k: z[k] for k in z.files}
    except (OSError, ValueError) as error:  # JSONDecodeError and a damaged zip are ValueErrors
        raise ModelError(
            f"model {name} in {folder} cannot be read ({error}): train it again or reinstall spinscope"
        ) from None
