"""Corpus mode: read many articles (:mod:`~.readers`), analyse them on an engine
(:mod:`~.engines`), store each once (:mod:`~.store`, :mod:`~.batch`), report on them (:mod:`~.report`)."""
from .batch import BatchResult, analyse_records, run_batch
from .readers import Problem, read_input
from .report import corpus_data, report_html, write_report
from .store import ArticleRecord, Store, export

__all__ = ["ArticleRecord", "BatchResult", "Problem", "Store", "analyse_records", "corpus_data", "export",
           "read_input", "report_html", "run_batch", "write_report"]
