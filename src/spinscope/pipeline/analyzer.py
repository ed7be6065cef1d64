"""The :class:`Analyzer`: the components the registry names, loaded once, run in order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path

import numpy as np

from ..analysis import Analysis
from ..document import Article
from ..encoder import TokenStates
from ..encoder.signature import GRAPH_FILE
from ..errors import ConfigError, ModelError
from ..models.embeddings import Embedder, EmbeddingCache
from ..tasks import component_names
from .components import COMPONENT_CLASSES, Component
from .encoded import EncodedArticle

MODEL_DIR = Path(__file__).parent.parent / "trained"
#: Every component, in pipeline order.
PIPE_NAMES = component_names()


def model_folder(model_dir: Path | str | None = None, disable: Iterable[str] = ()) -> Path:
    """The folder of trained models (the shipped ones by default), checked to hold every model
    file of the components not in ``disable``; :class:`ModelError` names the missing files."""
    folder = Path(model_dir) if model_dir else MODEL_DIR
    if not folder.is_dir():
        raise ModelError(f"no model folder at {folder}: give a folder written by spinscope's training")
    disabled = _check_names(disable)
    missing = {
        name: [f for f in COMPONENT_CLASSES[name].files if not (folder / f).is_file()]
        for name in PIPE_NAMES
        if name not in disabled
    }
    missing = {name: files for name, files in missing.items() if files}
    if missing:
        raise ModelError(
            f"no trained model for {', '.join(missing)} in {folder} (missing: "
            f"{', '.join(f for files in missing.values() for f in files)}): train these models "
            "into the folder, or disable their components"
        )
    return folder


def _check_names(names: Iterable[str]) -> set[str]:
    names = set(names)
    unknown = names - set(PIPE_NAMES)
    if unknown:
        raise ConfigError(
            f"unknown pipeline component {', '.join(sorted(unknown))}: the components are {', '.join(PIPE_NAMES)}"
        )
    return names


class Analyzer:
    """Runs the pipeline's components on articles. Load once, reuse: ``Analyzer().analyze(article)``.

    ``disable`` names components not to load or run (see :data:`PIPE_NAMES`); ``embedder``
    replaces the default e5 embedder with its on-disk cache (``cache=False``: no cache) and
    the encoder's own number of threads (``threads``).
    The encoder starts loading in the background at once, unless ``preload`` is false (an
    analyzer that only reports its models): then on the first text it embeds.
    """

    def __init__(
        self,
        model_dir: Path | str | None = None,
        embedder: Embedder | None = None,
        cache: bool = True,
        disable: Iterable[str] = (),
        preload: bool = True,
        threads: int | None = None,
    ):
        disabled = _check_names(disable)
        self.model_dir = model_folder(model_dir, disabled)
        # A model folder written by `spinscope train --encoder` holds the encoder its models read.
        graph = self.model_dir / GRAPH_FILE
        self.embedder = embedder or Embedder(
            EmbeddingCache() if cache else None, threads=threads, graph=graph if graph.is_file() else None
        )
        if preload:
            self.embedder.preload()  # the encoder loads while the models below do
        self.components: list[tuple[str, Component]] = [
            (name, COMPONENT_CLASSES[name](self.model_dir, self.embedder))
            for name in PIPE_NAMES
            if name not in disabled
        ]
        for name, component in self.components:
            for needed in component.requires:
                if needed not in self.pipe_names:
                    raise ConfigError(f"the {name} component needs the {needed} component, which is disabled")
        self.model_info = {target: info for _, c in self.components for target, info in c.info.items()}

    @property
    def pipe_names(self) -> list[str]:
        return [name for name, _ in self.components]

    def get_pipe(self, name: str) -> Component:
        for component_name, component in self.components:
            if component_name == name:
                return component
        raise ConfigError(f"no {name} component in this pipeline (it has {', '.join(self.pipe_names)})")

    def embed(self, article: Article) -> np.ndarray:
        """The paragraph embeddings of ``article``: ``(len(article.paragraphs), 384)``."""
        return self.embedder.embed([p.text for p in article.paragraphs])

    def analyze(self, article: Article) -> Analysis:
        return next(self.pipe([article]))

    def analyze_embedded(
        self, article: Article, embeddings: np.ndarray, states: Sequence[TokenStates] | None = None
    ) -> Analysis:
        """Analyse ``article`` given its paragraph embeddings ``(len(article.paragraphs), 384)``
        (and their token states, else encoded when a component needs them)."""
        encoded = EncodedArticle(
            article, embeddings, self.embedder, dict(enumerate(states)) if states is not None else {}
        )
        analysis = Analysis(article)
        for _, component in self.components:
            component(encoded, analysis)
        analysis.models = self.model_info
        return analysis

    def pipe(self, articles: Iterable[Article], batch_size: int = 16) -> Iterator[Analysis]:
        """Analyse ``articles`` in order.

        When a component reads token states, each article's paragraphs are encoded in one pass
        that gives their embeddings and states together (see :meth:`EncodedArticle.token_states`);
        else the paragraphs of ``batch_size`` articles are embedded at once.
        """
        articles = iter(articles)
        if any(component.reads_states for _, component in self.components):
            for article in articles:
                yield self.analyze_embedded(article, *self.embedder.encode([p.text for p in article.paragraphs]))
            return
        while batch := list(islice(articles, batch_size)):
            vectors = self.embedder.embed([p.text for a in batch for p in a.paragraphs])
            start = 0
            for article in batch:
                end = start + len(article.paragraphs)
                yield self.analyze_embedded(article, vectors[start:end])
                start = end
