"""Corpus mode: read many articles (:mod:`~.readers`), analyse them on an engine
(:mod:`~.engines`), store each once (:mod:`~.store`, :mod:`~.batch`), report on them: the numbers
(:mod:`~.report_data`), the charts (:mod:`~.charts`) and the HTML page (:mod:`~.report`)."""

from .batch import BatchResult, analyse_records, run_batch
from .readers import Problem, read_input
from .report import report_html, write_report
from .report_data import corpus_data
from .store import ArticleRecord, Store, export

__all__ = [
    "ArticleRecord",
    "BatchResult",
    "Problem",
    "Store",
    "analyse_records",
    "corpus_data",
    "export",
    "read_input",
    "report_html",
    "run_batch",
    "write_report",
]
