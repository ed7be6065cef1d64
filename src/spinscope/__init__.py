"""spinscope: see how a news article tries to persuade its reader."""

__version__ = "0.1.0"

from .analysis import Analysis
from .document import Article, Mention, Paragraph, Span

__all__ = ["Analysis", "Analyzer", "Article", "Mention", "Paragraph", "Span", "__version__"]


def __getattr__(name):
    if name == "Analyzer":  # on first use: it loads numpy, scipy and the models' code
        from .pipeline import Analyzer

        return Analyzer
    raise AttributeError(name)
