"""The ``spinscope`` command line: a thin shell over the library.

Each command parses its arguments, calls one library function and prints (the views are in
:mod:`.render`, the progress bars and warnings in :mod:`.progress_view`). The parts of the
library only some commands use (the web app, corpus mode, training) are imported by those
commands, so that ``spinscope analyze`` starts without them.

A bad argument or input never ends in a traceback: click reports bad options (exit status 2),
and :func:`friendly_errors` turns the library's errors and the files the system refuses into
one line on stderr, with the same exit status.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .. import __version__, official
from .. import taxonomy as tx
from ..encoder import held_out_fold
from ..errors import InputError, SpinscopeError
from ..io import load
from ..models.embeddings import Embedder, EmbeddingCache
from ..pipeline import Analyzer
from ..progress import Progress
from ..semeval import split_of
from ..tasks import TASKS
from . import render
from .progress_view import progress_bars, stderr, warnings_shown

if TYPE_CHECKING:
    from .api.access import Access

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
    help="See how a news article tries to persuade: genre, frames, persuasion techniques and spans, "
    "narratives and the roles it gives to named entities.",
)

#: The exit status of a command given a bad argument or input (click's own for a bad option).
BAD_INPUT_STATUS = 2

#: The task names a command accepts: those of the task registry.
#: Built from the registry, so mypy cannot list its members (it wants them literal).
TaskName = StrEnum("TaskName", {name: name for name in TASKS})  # type: ignore[misc]


# --- errors -------------------------------------------------------------------------------

#: What each refusal of the system says about the path it names.
FILE_ERRORS: dict[type[OSError], str] = {
    FileNotFoundError: "no such file or folder: {path}",
    IsADirectoryError: "{path} is a folder, where a file is needed",
    NotADirectoryError: "{path}: a part of this path is a file, where a folder is needed",
    FileExistsError: "{path} is a file, where a folder is needed",
    PermissionError: "permission denied: {path}",
}


def file_error_message(error: OSError) -> str:
    """One sentence for a file or folder the system refused: the path and why, without errno."""
    path = error.filename2 or error.filename  # a rename's second name is the one the user gave
    reason = (error.strerror or str(error)).lower()
    if path is None:
        return reason
    template = next((text for kind, text in FILE_ERRORS.items() if isinstance(error, kind)), "{path}: {reason}")
    return template.format(path=path, reason=reason)


def exit_with_error(message: str) -> NoReturn:
    stderr.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(BAD_INPUT_STATUS)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn the library's errors and the files the system refuses into one line on stderr and
    exit status 2. Anything else is a bug in spinscope: its traceback stays, to be reported."""
    try:
        yield
    except SpinscopeError as error:
        exit_with_error(str(error))
    except OSError as error:
        exit_with_error(file_error_message(error))


# --- one article --------------------------------------------------------------------------


class Format(StrEnum):
    text = "text"
    json = "json"
    html = "html"


#: How ``analyze`` writes an Analysis in each format (text on a terminal: :func:`render.report`).
RENDERERS = {Format.text: render.to_text, Format.json: render.to_json, Format.html: render.to_html}

ModelDir = Annotated[
    Path | None, typer.Option("--models", help="Folder of trained models (default: the shipped ones).")
]
Lang = Annotated[str | None, typer.Option("--lang", help="Language code (ISO 639-1, e.g. fr); detected when omitted.")]


@app.command()
def analyze(
    source: Annotated[str, typer.Argument(help="A text or HTML file, an http(s) URL, or - for standard input.")],
    lang: Lang = None,
    format: Annotated[
        Format, typer.Option("--format", "-f", help="text: terminal report; json: the Analysis; html: one page.")
    ] = Format.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of standard output.")
    ] = None,
    models: ModelDir = None,
):
    """Analyse one article: genre, frames, techniques per paragraph, highlighted spans, narratives, entity roles."""
    with friendly_errors(), warnings_shown():
        article = load(source, lang)  # a bad input fails before the models load
        analysis = Analyzer(models).analyze(article)
        if format is Format.text and output is None:
            render.report(analysis, Console())  # in colour, at the terminal's width
            return
        result = RENDERERS[format](analysis)
        if output:
            output.write_text(result, encoding="utf-8")
            stderr.print(f"wrote {output}")
        else:
            sys.stdout.write(result)


# --- the official shared tasks ------------------------------------------------------------

DataDir = Annotated[
    Path,
    typer.Argument(
        help="A SemEval data folder: DATA_DIR/LANG/SPLIT-articles-subtask-N/ "
        "(2023: genre, frames, techniques, spans) or "
        "DATA_DIR/LANG/SPLIT-documents/ (2025: narratives, entities)."
    ),
]
LangFolder = Annotated[str, typer.Option("--lang", help="Language folder of DATA_DIR (en, fr, ge, ... or any other).")]
SplitName = Annotated[str, typer.Option("--split", help="Split prefix of the folders: train, dev, test.")]


@app.command()
def predict(
    data_dir: DataDir,
    lang: LangFolder,
    split: SplitName,
    task: Annotated[TaskName, typer.Option("--task", help="Which official file to write.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The prediction file to write.")],
    models: ModelDir = None,
):
    """Write the official prediction file of one task for a SemEval split."""
    with friendly_errors(), warnings_shown(), progress_bars() as progress:
        official.predict(official.Job(split_of(data_dir, lang, split), task.value), output, models, progress)
    stderr.print(f"wrote {output}")


@app.command()
def evaluate(
    data_dir: DataDir,
    lang: LangFolder,
    split: SplitName,
    task: Annotated[list[TaskName] | None, typer.Option("--task", help="Tasks to score (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    models: ModelDir = None,
):
    """Predict a labelled split and score it with the official metrics."""
    with friendly_errors(), warnings_shown(), progress_bars() as progress:
        result = official.evaluate(data_dir, lang, split, [t.value for t in task or []], models, progress)
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
        return
    Console().print(render.evaluation_table(result, title=f"spinscope on {data_dir}/{lang} ({split})"))
    if split == "train":
        stderr.print("[dim]note: scores on the training split are in-sample; the CV column is the honest estimate.[/]")


# --- training -----------------------------------------------------------------------------


#: How many held-out folds there are: ``spinscope.training.heldout.FOLDS``, written here so that
#: the CLI starts without the training modules (a test keeps the two equal).
FOLDS = 5
#: ``train --fold``: the held-out split is fold 0 of the five.
FOLD_HELP = (
    "With --hold-out: which fifth of the articles to hold out (0: the committed split; heldout --fold scores others)."
)


@app.command()
def train(
    data_dirs: Annotated[
        list[Path],
        typer.Argument(
            help="SemEval-2023 Task 3 and/or SemEval-2025 Task 10 data folders (all their language folders are used)."
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the models to.")],
    tasks: Annotated[
        list[TaskName] | None, typer.Option("--tasks", help="Tasks to train (default: all the data allows).")
    ] = None,
    languages: Annotated[list[str] | None, typer.Option("--lang", help="Train on these language folders only.")] = None,
    encoder: Annotated[
        bool,
        typer.Option(
            "--encoder",
            help="Fine-tune the encoder first (needs the train extra: "
            "PyTorch) and train the models on its features; "
            "resumes an interrupted run in the same "
            "--output.",
        ),
    ] = False,
    hold_out: Annotated[
        bool,
        typer.Option(
            "--hold-out",
            help="With --encoder: fine-tune without the held-out "
            "articles (spinscope heldout compares encoders on "
            "them).",
        ),
    ] = False,
    fold: Annotated[int, typer.Option("--fold", min=0, max=FOLDS - 1, help=FOLD_HELP)] = 0,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="With --encoder: passes over the data.")] = 2,
    layers: Annotated[int, typer.Option("--layers", min=1, max=12, help="With --encoder: top layers trained.")] = 4,
    seed: Annotated[
        int, typer.Option("--seed", help="With --encoder: seed of the batch order, dropout and heads.")
    ] = 0,
):
    """Train the models with 5-fold CV by article; write them with their CV scores."""
    from ..training import train as train_models  # scikit-learn and the trainers: this command only

    command = "spinscope train " + " ".join(sys.argv[2:])
    with friendly_errors(), warnings_shown(), progress_bars() as progress:
        graph = (
            _fine_tune(
                data_dirs, output, progress, epochs=epochs, layers=layers, seed=seed, hold_out=hold_out, fold=fold
            )
            if encoder
            else None
        )
        scores = train_models(data_dirs, output, [t.value for t in tasks or []], languages, command, progress, graph)
    for name, cv in scores.items():
        stderr.print(f"[bold]{name}[/] CV: " + "  ".join(f"{k} {_cv_scores(v)}" for k, v in cv.items()))
    stderr.print(f"wrote {', '.join(scores) or 'nothing: no data for the chosen tasks'} to {output}")


def _fine_tune(data_dirs: list[Path], output: Path, progress: Progress, **settings) -> Path:
    """Fine-tune the encoder (``train --encoder``); the path of its graph."""
    try:
        from ..training.finetune import FineTuning, fine_tune  # PyTorch (the train extra): this option only
    except ModuleNotFoundError as error:
        raise InputError(f"--encoder needs PyTorch ({error}): pip install -e '.[train]'") from error
    return fine_tune(data_dirs, output, FineTuning(**settings), progress)


def _cv_scores(value: float | dict[str, float]) -> str:
    return " / ".join(f"{x:.3f}" for x in value.values()) if isinstance(value, dict) else f"{value:.3f}"


@app.command()
def heldout(
    data_dirs: Annotated[list[Path], typer.Argument(help="The SemEval-2023 and/or SemEval-2025 data folders.")],
    encoders: Annotated[
        list[Path] | None,
        typer.Option(
            "--encoder",
            exists=True,
            dir_okay=False,
            help="An encoder graph to score next to the shipped one (spinscope train --encoder --hold-out writes one).",
        ),
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the scores here.")] = None,
    fold: Annotated[
        int,
        typer.Option(
            "--fold",
            min=0,
            max=FOLDS - 1,
            help="Score on this fifth of the articles (0: the committed held-out split).",
        ),
    ] = 0,
):
    """Score encoders on the fixed held-out 20% of the training articles: heads fitted on the rest."""
    from ..training.heldout import evaluate as held_out_scores  # scikit-learn and the trainers: this command only

    # The shipped encoder is scored only on the fold it never learnt from, if its run left one out.
    graphs = ({"shipped": None} if fold == held_out_fold() else {}) | {str(path): path for path in encoders or []}
    with friendly_errors(), warnings_shown(), progress_bars() as progress:
        if not graphs:
            raise InputError(f"--fold {fold} needs --encoder: the shipped encoder learnt from that fold's articles")
        results = {
            name: held_out_scores(data_dirs, Embedder(EmbeddingCache(), graph=graph), progress, fold)
            for name, graph in graphs.items()
        }
    Console().print(render.heldout_table(results))
    if json_out:
        with friendly_errors():
            json_out.write_text(json.dumps(results, indent=1) + "\n")


@app.command()
def kfold(
    data_dirs: Annotated[list[Path], typer.Argument(help="The SemEval-2023 and SemEval-2025 data folders.")],
    folds: Annotated[
        list[int] | None,
        typer.Option("--fold", min=0, max=FOLDS - 1, help="A fold to hold out (repeat; default 0, 1 and 2)."),
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder of the runs (resumed).")] = Path("build/kfold"),
):
    """k-fold fine-tuning: fine-tune the encoder without each fold, score it on that fold, print
    every score's mean and spread over the folds (a Markdown table). Needs the train extra."""
    with friendly_errors(), warnings_shown(), progress_bars() as progress:
        try:
            from ..training import kfold as runs  # PyTorch (the train extra): this command only
        except ModuleNotFoundError as error:
            raise InputError(f"kfold needs PyTorch ({error}): pip install -e '.[train]'") from error
        scores = [runs.run_fold(data_dirs, fold, output, progress) for fold in folds or [0, 1, 2]]
    print(runs.markdown(runs.spread(scores)))


# --- the web app and corpus mode ----------------------------------------------------------


#: The environment variable ``serve`` reads its API token from (never writes).
TOKEN_VARIABLE = "SPINSCOPE_TOKEN"
#: As :data:`spinscope.shells.api.access.SHARED_RATE_LIMIT`, for the help (the API loads with the command).
SHARED_RATE_LIMIT = 60
#: Shorter API tokens get a warning.
SHORT_TOKEN = 16


AllowOrigin = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-origin",
        metavar="ORIGIN",
        help="A web origin (scheme://host[:port]) that may call the API from a browser, besides the spinscope "
        "extension in Chromium; repeat it for several. Firefox: the extension's options page gives its "
        "moz-extension://... origin.",
    ),
]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1 keeps it local).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes; each loads the models once.")] = 1,
    models: ModelDir = None,
    db: Annotated[
        Path | None, typer.Option("--db", help="A corpus database (spinscope batch) to show at /corpus.")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar=TOKEN_VARIABLE,
            show_envvar=True,
            help="The API token every call must send as 'Authorization: Bearer TOKEN'; needed on any address "
            f"but loopback. Prefer {TOKEN_VARIABLE}: other users of this machine can read command lines.",
        ),
    ] = None,
    rate_limit: Annotated[
        int | None,
        typer.Option(
            "--rate-limit",
            min=0,
            metavar="N",
            help=f"API calls a minute per client address, then 429 (0: no limit). Default: {SHARED_RATE_LIMIT} "
            "on a shared address, none on loopback.",
        ),
    ] = None,
    queue: Annotated[
        int, typer.Option("--queue", min=0, help="Analyses that may wait while one runs; past them, 503 at once.")
    ] = 16,
    time_limit: Annotated[
        float,
        typer.Option("--time-limit", min=1.0, metavar="SECONDS", help="Longest wait for an analysis, then 503."),
    ] = 60.0,
    cache_entries: Annotated[
        int, typer.Option("--cache", min=0, metavar="N", help="Analyses kept to answer repeats at once (0: none).")
    ] = 2048,
    allow_origin: AllowOrigin = None,
):
    """Serve the web page and the REST API (API docs at /docs; a corpus report at /corpus)."""
    from . import api  # FastAPI takes a sixth of a second to import: this command only
    from .api.cors import check_origin  # the same: this command only
    from .api.service import ServiceLimits  # the same: this command only

    with friendly_errors():
        access = _serving_access(host, token, rate_limit)  # refused before anything loads or listens
        origins = tuple(check_origin(origin) for origin in allow_origin or ())
        limits = ServiceLimits(cache_entries=cache_entries, queue=queue, time_limit=time_limit)
        api.serve(
            host,
            port,
            workers,
            models,
            db,
            token=access.token,
            rate_limit=access.rate_limit or 0,
            limits=limits,
            allow_origins=origins,
        )


def _serving_access(host: str, token: str | None, rate_limit: int | None) -> Access:
    """The token and rate limit of a server on ``host``, said to whoever starts it; an
    :class:`InputError` for a server other machines can reach without a token."""
    from .api.access import access_for, is_loopback  # FastAPI's: the serve command only

    if not token and not is_loopback(host):
        raise InputError(
            f"serving on {host}, which other machines can reach, needs an API token: pass --token TOKEN "
            f"or set {TOKEN_VARIABLE} (or serve on 127.0.0.1)"
        )
    access = access_for(host, token, rate_limit)
    _say_access(host, access)
    return access


def _say_access(host: str, access: Access) -> None:
    """Tell whoever starts a server what its clients must send, and warn of a guessable token."""
    rules = [
        "every API call needs 'Authorization: Bearer <token>'" if access.token else "the API needs no token",
        f"at most {access.rate_limit} calls a minute per client" if access.rate_limit else "no rate limit",
    ]
    stderr.print(f"serving on {host}: {'; '.join(rules)}", highlight=False, soft_wrap=True)
    if access.token is not None and len(access.token) < SHORT_TOKEN:
        stderr.print(
            f"[yellow]warning:[/] the API token has {len(access.token)} characters and can be guessed: "
            'use 16 or more, e.g. python -c "import secrets; print(secrets.token_urlsafe())"',
            highlight=False,
            soft_wrap=True,
        )


class Engine(StrEnum):
    local = "local"
    dask = "dask"


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


Database = Annotated[Path, typer.Option("--db", help="The corpus database (SQLite; created when missing).")]
ModelVersion = Annotated[
    str | None,
    typer.Option("--model-version", help="Only this model version (a prefix is enough; default: the latest used)."),
]


@app.command()
def batch(
    input: Annotated[
        Path,
        typer.Argument(
            help="A folder of .txt/.html files, a .jsonl or .csv file with id and text "
            "(optional: title, url, source, date, language), or a SemEval data "
            "folder."
        ),
    ],
    db: Database,
    workers: Annotated[
        int,
        typer.Option("--workers", "-w", min=1, help="Worker processes (local), or workers of the local dask cluster."),
    ] = 1,
    engine: Annotated[
        Engine, typer.Option("--engine", help="local: processes on this machine; dask: a dask.distributed cluster.")
    ] = Engine.local,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="A dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: a local cluster of --workers).",
        ),
    ] = None,
    split: Annotated[
        str | None, typer.Option("--split", help="SemEval data folder only: read this split (train, dev, test).")
    ] = None,
    lang: Lang = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Analyse again the articles stored as failed.")
    ] = False,
    models: ModelDir = None,
):
    """Analyse a corpus into a database. Killed and rerun, it resumes: each article is stored once."""
    from ..corpus import run_batch  # corpus mode (engines, store): its commands only

    try:
        with friendly_errors(), warnings_shown(), progress_bars(rate=True) as progress:
            if scheduler and engine is not Engine.dask:
                raise InputError("--scheduler needs --engine dask")
            result = run_batch(
                input,
                db,
                workers=workers,
                engine=engine.value,
                scheduler=scheduler,
                model_dir=models,
                split=split,
                lang=lang,
                retry_failed=retry_failed,
                progress=progress,
            )
    except KeyboardInterrupt:
        stderr.print(
            "[yellow]interrupted:[/] every article stored so far is kept; run the same command again to resume"
        )
        raise typer.Exit(130) from None
    _print_batch_result(db, result)


def _print_batch_result(db: Path, result) -> None:
    stderr.print(
        f"{db}: {result.analysed} analysed, {result.failed} failed (stored with their reason), "
        f"{result.skipped} already stored or repeated, {len(result.problems)} input problem(s); "
        f"model version {result.model_version}; {result.per_minute:,.1f} articles/min",
        highlight=False,
    )


@app.command()
def export(
    db: Database,
    format: Annotated[
        ExportFormat,
        typer.Option("--format", "-f", help="csv: one row per article; jsonl and parquet add the full analysis."),
    ] = ExportFormat.csv,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="The file to write (default: the database's name with the format's suffix)."
        ),
    ] = None,
    model_version: ModelVersion = None,
):
    """Export a corpus database: one row per analysed article."""
    from ..corpus import export as export_corpus  # corpus mode: its commands only

    output = output or db.with_suffix(f".{format.value}")
    with friendly_errors():
        rows = export_corpus(db, output, format.value, model_version)
    stderr.print(f"wrote {rows} row(s) to {output}")


@app.command()
def report(
    db: Database,
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.")] = Path("report.html"),
    model_version: ModelVersion = None,
):
    """Write a self-contained HTML report of a corpus: techniques, sources, time, frames, genres, spans."""
    from ..corpus import write_report  # corpus mode (matplotlib charts): its commands only

    with friendly_errors():
        summary = write_report(db, output, model_version)["summary"]
    stderr.print(f"wrote {output} ({summary['analysed']} articles, model version {summary['model_version']})")


# --- the labels ---------------------------------------------------------------------------


@app.command()
def taxonomy(as_json: Annotated[bool, typer.Option("--json")] = False):
    """List the labels spinscope uses, with their definitions."""
    if as_json:
        print(json.dumps(tx.as_dict(), indent=2, ensure_ascii=False))
        return
    for title, labels in (
        ("Genres", tx.GENRES),
        ("Frames", tx.FRAMES),
        ("Techniques", tx.TECHNIQUES),
        ("Narratives", tx.NARRATIVES),
        ("Sub-narratives (group: their narrative)", tx.SUBNARRATIVES),
        ("Entity roles", tx.ROLES),
        ("Fine roles (group: their main role)", tx.FINE_ROLES),
    ):
        table = Table(title=title)
        for column in ("name", "group", "definition"):
            table.add_column(column)
        for label in labels:
            table.add_row(label.name, label.group, label.definition)
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
