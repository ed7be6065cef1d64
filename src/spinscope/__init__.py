"""spinscope: see how a news article tries to persuade its reader."""
__version__ = "0.1.0"

from .document import Article, Paragraph, Span  # noqa: E402

__all__ = ["Article", "Paragraph", "Span", "Analyzer", "__version__"]


def __getattr__(name):
    if name == "Analyzer":  # imported lazily: it pulls in numpy and the models
        from .pipeline import Analyzer

        return Analyzer
    raise AttributeError(name)
