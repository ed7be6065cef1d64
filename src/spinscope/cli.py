"""The ``spinscope`` command line: a thin shell over the library."""
from __future__ import annotations

import io
import json
import sys
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.table import Table
from rich.text import Text

from . import __version__
from .ingest import InputError
from .semeval import DataError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode="rich",
                  help="See how a news article tries to persuade: genre, frames, persuasion techniques and spans, "
                       "narratives and the roles it gives to named entities.")
err = Console(stderr=True)


class Format(str, Enum):
    text = "text"
    json = "json"
    html = "html"


class Task(str, Enum):
    genre = "genre"
    frames = "frames"
    techniques = "techniques"
    spans = "spans"
    narratives = "narratives"
    entities = "entities"


@contextmanager
def friendly_errors():
    """Turn expected failures into one line on stderr and exit status 2, never a traceback."""
    try:
        yield
    except (InputError, DataError, FileNotFoundError, NotADirectoryError, PermissionError) as error:
        err.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=err, transient=False)


def _analyzer(model_dir: Optional[Path]):
    from .pipeline import Analyzer

    return Analyzer(model_dir)


ModelDir = Annotated[Optional[Path], typer.Option("--models", help="Folder of trained models (default: the shipped ones).")]
Lang = Annotated[Optional[str], typer.Option("--lang", help="Language code (ISO 639-1, e.g. fr); detected when omitted.")]


@app.command()
def analyze(
    source: Annotated[str, typer.Argument(help="A text or HTML file, an http(s) URL, or - for standard input.")],
    lang: Lang = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="text: terminal report; json: the Analysis; html: one page.")] = Format.text,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here instead of standard output.")] = None,
    models: ModelDir = None,
):
    """Analyse one article: genre, frames, techniques per paragraph, highlighted spans, narratives, entity roles."""
    from . import ingest, render

    with friendly_errors():
        article = ingest.load(source, lang)
        analysis = _analyzer(models).analyze(article)
        if format is Format.json:
            result = json.dumps(analysis.to_dict(), ensure_ascii=False, indent=2) + "\n"
        elif format is Format.html:
            result = render.to_html(analysis)
        elif output is None:
            render.report(analysis, Console())
            return
        else:
            console = Console(record=True, width=100, file=io.StringIO())
            render.report(analysis, console)
            result = console.export_text()
        if output:
            output.write_text(result, encoding="utf-8")
            err.print(f"wrote {output}")
        else:
            sys.stdout.write(result)


def _job(data_dir: Path, lang: str, split: str, task: Task):
    from .official import Job
    from .semeval import Split

    if not data_dir.is_dir():
        raise DataError(f"no such data folder: {data_dir}")
    if not (data_dir / lang).is_dir():
        found = sorted(p.name for p in data_dir.iterdir() if p.is_dir())
        raise DataError(f"no language folder {lang!r} in {data_dir} (found: {', '.join(found) or 'none'}); "
                        "expected the SemEval layout DATA_DIR/LANG/SPLIT-articles-subtask-N/")
    return Job(Split(data_dir, lang, split), task.value)


def _rows(analyzer, job, description: str) -> list:
    from .official import count_articles, prediction_rows

    errors = []

    def on_error(path, error):
        errors.append(path)
        err.print(f"[yellow]skipped[/] {path}: {error}", highlight=False)

    with _progress() as progress:
        bar = progress.add_task(description, total=count_articles(job))
        yield from prediction_rows(analyzer, job, on_error, lambda: progress.advance(bar), _warn)
    if errors:
        err.print(f"[yellow]{len(errors)} article(s) could not be read[/]; their rows are written without labels")


DataDir = Annotated[Path, typer.Argument(help="A SemEval data folder: DATA_DIR/LANG/SPLIT-articles-subtask-N/ "
                                               "(2023: genre, frames, techniques, spans) or DATA_DIR/LANG/SPLIT-documents/ "
                                               "(2025: narratives, entities).")]
LangFolder = Annotated[str, typer.Option("--lang", help="Language folder of DATA_DIR (en, fr, ge, ... or any other).")]
SplitName = Annotated[str, typer.Option("--split", help="Split prefix of the folders: train, dev, test.")]


@app.command()
def predict(
    data_dir: DataDir,
    lang: LangFolder,
    split: SplitName,
    task: Annotated[Task, typer.Option("--task", help="Which official file to write.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The prediction file to write.")],
    models: ModelDir = None,
):
    """Write the official prediction file of one task for a SemEval split."""
    from .official import WRITERS

    with friendly_errors():
        job = _job(data_dir, lang, split, task)
        job.template()  # fail early on a missing template
        analyzer = _analyzer(models)
        WRITERS[task.value](output, _rows(analyzer, job, f"{lang}/{split} {task.value}"))
        err.print(f"wrote {output}")


@app.command()
def evaluate(
    data_dir: DataDir,
    lang: LangFolder,
    split: SplitName,
    task: Annotated[Optional[list[Task]], typer.Option("--task", help="Tasks to score (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    models: ModelDir = None,
):
    """Predict a labelled split and score it with the official metrics."""
    from .official import score

    with friendly_errors():
        analyzer = _analyzer(models)
        results = {}
        for t in task or _tasks_of(data_dir, lang, split):
            job = _job(data_dir, lang, split, t)
            results[t.value] = score(job, list(_rows(analyzer, job, f"{lang}/{split} {t.value}")))
        cv = {name: info.get("cv") or {} for name, info in analyzer.model_info.items()}
        if as_json:
            print(json.dumps({"lang": lang, "split": split, "scores": results, "cross_validation": cv}, indent=2))
            return
        table = Table(title=f"spinscope on {data_dir}/{lang} ({split})")
        for column in ("task", "metric", "score", "precision", "recall", "CV (5-fold, this language)"):
            table.add_column(column)
        for name, s in results.items():
            cv_value = cv.get("roles" if name == "entities" else name, {}).get(semeval_iso(lang))
            for metric, key in METRICS[name]:
                cv_metric = cv_value.get(key) if isinstance(cv_value, dict) else cv_value
                table.add_row(name, metric, f"{s[key]:.3f}", _fmt(s.get("precision")), _fmt(s.get("recall")),
                              _fmt(cv_metric))
        Console().print(table)
        if split == "train":
            err.print("[dim]note: scores on the training split are in-sample; the CV column is the honest estimate.[/]")


#: The official metrics of each task: (name shown, key in the scores).
METRICS = {
    "genre": [("macro-F1", "macro_f1")], "frames": [("micro-F1", "f1")], "techniques": [("micro-F1", "f1")],
    "spans": [("F1", "f1")],
    "narratives": [("samples-F1 coarse", "coarse_f1"), ("samples-F1 fine", "fine_f1")],
    "entities": [("main-role accuracy", "main_role_accuracy"), ("exact match ratio", "exact_match_ratio")],
}


def _tasks_of(data_dir: Path, lang: str, split: str) -> list[Task]:
    """Every task the folder's layout holds: the 2025 tasks for SPLIT-documents, else the 2023 ones."""
    if (data_dir / lang / f"{split}-documents").is_dir():
        return [Task.narratives, Task.entities]
    return [Task.genre, Task.frames, Task.techniques, Task.spans]


def semeval_iso(lang: str) -> str:
    from .semeval import iso_language

    return iso_language(lang)


def _fmt(value) -> str:
    return "" if value is None else f"{value:.3f}"


@app.command()
def train(
    data_dirs: Annotated[list[Path], typer.Argument(help="SemEval-2023 Task 3 and/or SemEval-2025 Task 10 data "
                                                         "folders (all their language folders are used).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the models to.")],
    tasks: Annotated[Optional[list[Task]], typer.Option("--tasks", help="Tasks to train (default: all the data allows).")] = None,
    languages: Annotated[Optional[list[str]], typer.Option("--lang", help="Train on these language folders only.")] = None,
):
    """Train the models with 5-fold CV by article; write them with their CV scores."""
    from . import narrative_training
    from .features import Embedder, EmbeddingCache

    with friendly_errors():
        chosen = [t.value for t in tasks or list(Task)]
        command = "spinscope train " + " ".join(sys.argv[2:])
        output.mkdir(parents=True, exist_ok=True)
        embedder = Embedder(EmbeddingCache())
        written = []
        for data_dir in data_dirs:
            if not data_dir.is_dir():
                raise DataError(f"no such data folder: {data_dir}")
            framing = narrative_training.is_framing_data(data_dir)
            todo = [t for t in chosen if (t in ("narratives", "entities")) == framing]
            if todo:
                trainer = _train_framing if framing else _train_techniques
                written += trainer(data_dir, embedder, todo, languages, output, command)
        err.print(f"wrote {', '.join(written) or 'nothing: no data for the chosen tasks'} to {output}")


def _train_techniques(data_dir, embedder, chosen, languages, output, command) -> list[str]:
    from . import training

    with _progress() as progress:
        bar = progress.add_task("embedding paragraphs", total=None)
        data = training.load_data(data_dir, embedder, languages,
                                  progress=lambda n, total: progress.update(bar, advance=n, total=total))
        progress.update(bar, total=1, completed=1)
        decisions = {}
        for task in [t for t in ("genre", "frames", "techniques") if t in chosen or
                     (t == "techniques" and "spans" in chosen)]:
            fold_bar = progress.add_task(f"{task}: {training.FOLDS}-fold CV + final fit", total=training.FOLDS + 1)
            head, decisions[task] = training.train_task(data[task], training.RECIPES[task], command,
                                                        lambda: progress.advance(fold_bar))
            if task in chosen:
                head.save(output, task)
                _print_cv(task, head.meta["cv"])
        if "spans" in chosen:
            span_bar = progress.add_task(f"spans: {training.FOLDS}-fold CV + final fit", total=training.FOLDS + 1)
            span_data = training.load_span_data(data_dir, languages)
            model = training.train_spans(span_data, decisions["techniques"], command,
                                         lambda: progress.advance(span_bar))
            model.save(output)
            _print_cv("spans", model.meta["cv"])
            _print_cv("spans baseline", model.meta["cv_whole_paragraph_baseline"])
    return chosen


def _train_framing(data_dir, embedder, chosen, languages, output, command) -> list[str]:
    from . import narrative_training as nt

    with _progress() as progress:
        bar = progress.add_task("embedding documents and mentions", total=None)
        data = nt.load_framing_data(data_dir, embedder, languages, warn=_warn,
                                    progress=lambda n, total: progress.update(bar, advance=n, total=total))
        progress.update(bar, total=1, completed=1)
        if "narratives" in chosen:
            fold_bar = progress.add_task(f"narratives: 2 x {nt.FOLDS}-fold CV + final fit", total=2 * nt.FOLDS)
            for head in nt.train_narratives(data, command, lambda: progress.advance(fold_bar)):
                head.save(output, head.meta["task"])
            _print_cv("narratives", head.meta["cv"])
        if "entities" in chosen:
            fold_bar = progress.add_task(f"entity roles: 2 x {nt.FOLDS}-fold CV + final fit", total=2 * nt.FOLDS)
            for head in nt.train_roles(data, command, lambda: progress.advance(fold_bar)):
                head.save(output, head.meta["task"])
            _print_cv("entity roles", head.meta["cv"])
            finder, recall = nt.train_finder(data)
            finder.save(output / "mentions.json", recall)
            _print_cv("mention recall", recall)
    return chosen


def _print_cv(task: str, cv: dict) -> None:
    def show(v) -> str:
        return " / ".join(f"{x:.3f}" for x in v.values()) if isinstance(v, dict) else f"{v:.3f}"

    err.print(f"[bold]{task}[/] CV: " + "  ".join(f"{k} {show(v)}" for k, v in cv.items()))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1 keeps it local).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes; each loads the models once.")] = 1,
    models: ModelDir = None,
    db: Annotated[Optional[Path], typer.Option("--db", help="A corpus database (spinscope batch) to show at /corpus.")] = None,
):
    """Serve the web page and the REST API (API docs at /docs; a corpus report at /corpus)."""
    from . import api

    with friendly_errors():
        api.serve(host, port, workers, models, db)


class Engine(str, Enum):
    local = "local"
    dask = "dask"


class ExportFormat(str, Enum):
    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


class _RateColumn(ProgressColumn):
    """Articles per minute, averaged by rich over the last 30 seconds."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{60 * speed:,.0f}/min" if speed else "", style="progress.data.speed")


def _batch_progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=False)


Database = Annotated[Path, typer.Option("--db", help="The corpus database (SQLite; created when missing).")]
ModelVersion = Annotated[Optional[str], typer.Option("--model-version", help="Only this model version (a prefix is enough; default: the latest used).")]
MAX_PROBLEMS_SHOWN = 20


@app.command()
def batch(
    input: Annotated[Path, typer.Argument(help="A folder of .txt/.html files, a .jsonl or .csv file with id and text "
                                               "(optional: title, url, source, date, language), or a SemEval data folder.")],
    db: Database,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Worker processes (local), or workers of the local dask cluster.")] = 1,
    engine: Annotated[Engine, typer.Option("--engine", help="local: processes on this machine; dask: a dask.distributed cluster.")] = Engine.local,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="A dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: a local cluster of --workers).")] = None,
    split: Annotated[Optional[str], typer.Option("--split", help="SemEval data folder only: read this split (train, dev, test).")] = None,
    lang: Lang = None,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Analyse again the articles stored as failed.")] = False,
    models: ModelDir = None,
):
    """Analyse a corpus into a database. Killed and rerun, it resumes: each article is stored once."""
    from .batch import BatchError, analyse_records, read_input

    with friendly_errors():
        if scheduler and engine is not Engine.dask:
            raise InputError("--scheduler needs --engine dask")
        records, problems = read_input(input, split, lang)
        for problem in problems[:MAX_PROBLEMS_SHOWN]:
            err.print(f"[yellow]input:[/] {problem}", highlight=False, soft_wrap=True)
        with _batch_progress() as progress:
            bar = progress.add_task(f"analysing ({engine.value}, {workers} worker{'s' * (workers > 1)})", total=None)
            try:
                result = analyse_records(records, db, workers=workers, engine=engine.value, scheduler=scheduler,
                                         model_dir=models, retry_failed=retry_failed, problems=problems,
                                         progress=lambda done, total: progress.update(bar, completed=done, total=total))
            except KeyboardInterrupt:
                progress.stop()
                err.print("[yellow]interrupted:[/] every article stored so far is kept; run the same command again to resume")
                raise typer.Exit(130) from None
            except BatchError as error:
                progress.stop()
                err.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
                raise typer.Exit(1) from None
        shown = min(len(problems), MAX_PROBLEMS_SHOWN)
        for problem in result.problems[shown:MAX_PROBLEMS_SHOWN]:  # found while planning: the same text twice
            err.print(f"[yellow]input:[/] {problem}", highlight=False, soft_wrap=True)
        if len(result.problems) > MAX_PROBLEMS_SHOWN:
            err.print(f"[yellow]... and {len(result.problems) - MAX_PROBLEMS_SHOWN} more input problem(s)[/]")
        err.print(f"{db}: {result.analysed} analysed, {result.failed} failed (stored with their reason), "
                  f"{result.skipped} already stored or repeated, {len(result.problems)} input problem(s); "
                  f"model version {result.model_version}; {result.per_minute:,.1f} articles/min", highlight=False)


@app.command()
def export(
    db: Database,
    format: Annotated[ExportFormat, typer.Option("--format", "-f", help="csv: one row per article; jsonl and parquet add the full analysis.")] = ExportFormat.csv,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="The file to write (default: the database's name with the format's suffix).")] = None,
    model_version: ModelVersion = None,
):
    """Export a corpus database: one row per analysed article."""
    from .store import export as export_store

    with friendly_errors():
        output = output or db.with_suffix(f".{format.value}")
        rows = export_store(db, output, format.value, model_version)
        err.print(f"wrote {rows} row(s) to {output}")


@app.command()
def report(
    db: Database,
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.")] = Path("report.html"),
    model_version: ModelVersion = None,
):
    """Write a self-contained HTML report of a corpus: techniques, sources, time, frames, genres, spans."""
    from .corpus_report import write_report

    with friendly_errors():
        summary = write_report(db, output, model_version)["summary"]
        err.print(f"wrote {output} ({summary['analysed']} articles, model version {summary['model_version']})")


@app.command()
def taxonomy(as_json: Annotated[bool, typer.Option("--json")] = False):
    """List the labels spinscope uses, with their definitions."""
    from . import taxonomy as tx

    if as_json:
        print(json.dumps(tx.as_dict(), indent=2, ensure_ascii=False))
        return
    for title, labels in (("Genres", tx.GENRES), ("Frames", tx.FRAMES), ("Techniques", tx.TECHNIQUES),
                          ("Narratives", tx.NARRATIVES), ("Sub-narratives (group: their narrative)", tx.SUBNARRATIVES),
                          ("Entity roles", tx.ROLES), ("Fine roles (group: their main role)", tx.FINE_ROLES)):
        table = Table(title=title)
        for column in ("name", "group", "definition"):
            table.add_column(column)
        for x in labels:
            table.add_row(x.name, x.group, x.definition)
        Console().print(table)


def version_callback(value: bool):
    if value:
        print(f"spinscope {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=version_callback, is_eager=True)] = False):
    """spinscope: how does this article try to persuade?"""


if __name__ == "__main__":
    app()
