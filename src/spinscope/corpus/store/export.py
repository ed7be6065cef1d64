"""Export a corpus database: one row per stored analysis, as csv, jsonl or parquet."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from ...errors import InputError
from .database import Store
from .schema import EXPORT_COLUMNS, LIST_COLUMNS

EXPORT_FORMATS = ("csv", "jsonl", "parquet")


def export(db_path: Path | str, output: Path | str, format: str, model_version: str | None = None) -> int:
    """Write one row per stored analysis to ``output`` as csv, jsonl or parquet; return the row count.

    csv: the :data:`~.schema.EXPORT_COLUMNS`, lists joined with ``;``. jsonl: those columns plus
    ``analysis``, the full Analysis (``null`` for a failed article). parquet (needs pyarrow):
    the columns with real list columns plus ``analysis`` as a JSON string.
    """
    if format not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {format!r}: use one of {', '.join(EXPORT_FORMATS)}")
    if format == "parquet":
        try:
            import pyarrow  # noqa: F401 - an optional dependency: checked before anything is written
        except ImportError:
            raise InputError(
                "parquet export needs pyarrow: `pip install 'spinscope[parquet]'` (or export as csv or jsonl)"
            ) from None
    output = Path(output)
    with Store(db_path, create=False) as store:
        version = store.resolve_version(model_version) if model_version else None
        rows = store.export_rows(version, with_analysis=format != "csv")
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(output.name + ".part")
        writer = {"csv": _write_csv, "jsonl": _write_jsonl, "parquet": _write_parquet}[format]
        try:
            n = writer(rows, tmp)
            tmp.replace(output)  # never leave a half-written export under the real name
        finally:
            tmp.unlink(missing_ok=True)
    return n


def _write_csv(rows: Iterator[dict], path: Path) -> int:
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ";".join(v) if k in LIST_COLUMNS else v for k, v in row.items()})
            n += 1
    return n


def _write_jsonl(rows: Iterator[dict], path: Path) -> int:
    n = 0
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def _write_parquet(rows: Iterator[dict], path: Path, chunk: int = 2000) -> int:
    import pyarrow as pa  # the optional parquet extra
    import pyarrow.parquet as pq

    text, lst = pa.string(), pa.list_(pa.string())
    types = {"n_paragraphs": pa.int64(), "n_spans": pa.int64()} | dict.fromkeys(LIST_COLUMNS, lst)
    schema = pa.schema([(c, types.get(c, text)) for c in EXPORT_COLUMNS] + [("analysis", text)])
    n = 0
    with pq.ParquetWriter(path, schema) as writer:
        batch: list[dict] = []
        for row in rows:
            row["analysis"] = json.dumps(row["analysis"], ensure_ascii=False) if row["analysis"] else None
            batch.append(row)
            if len(batch) >= chunk:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                n, batch = n + len(batch), []
        if batch or n == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            n += len(batch)
    return n
