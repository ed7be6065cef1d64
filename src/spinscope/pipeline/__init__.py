"""The pipeline: an :class:`Analyzer` runs named components that turn an
:class:`~spinscope.document.Article` into an :class:`~spinscope.analysis.Analysis`.

Every component reads the article and its encodings (:class:`EncodedArticle`) and fills its part
of the analysis; the registry (:mod:`spinscope.tasks`) says which components exist, in which
order, and what each needs. A component can be disabled (``Analyzer(disable=["spans"])``): its
part stays empty. A model file missing for an enabled component is a
:class:`~spinscope.errors.ModelError`.
"""

from .analyzer import MODEL_DIR, PIPE_NAMES, Analyzer, model_folder
from .components import COMPONENT_CLASSES, Component, EntitiesComponent
from .encoded import EncodedArticle

__all__ = [
    "COMPONENT_CLASSES",
    "MODEL_DIR",
    "PIPE_NAMES",
    "Analyzer",
    "Component",
    "EncodedArticle",
    "EntitiesComponent",
    "model_folder",
]
