"""Every command given bad arguments or inputs: one clear line on stderr naming the problem, exit
status 2 (click's own for a bad option), and never a traceback."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import pytest
import uvicorn
from typer.testing import CliRunner

from conftest import EN_LINES, join, write_semeval2023
from spinscope.corpus import Store
from spinscope.shells import cli
from spinscope.shells.cli import app
from spinscope.tasks import TASKS
from spinscope.training import heldout

runner = CliRunner()

#: The exit status of a bad argument or input, for spinscope's errors and click's alike.
USAGE_STATUS = 2


@pytest.fixture(scope="module")
def paths(tmp_path_factory) -> dict[str, str]:
    """Good and bad inputs, by the name the cases below give them."""
    root = tmp_path_factory.mktemp("inputs")
    files = {
        "article.txt": join(EN_LINES).encode(),
        "empty.txt": b"",
        "blank.txt": b"  \n\t\r\n  \n",
        "image.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
        "corpus.db": b"these are notes, not an SQLite database\n" * 50,
        "folder/notes.txt": b"A folder of notes is not SemEval data.\n",
    }
    for name, content in files.items():
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_bytes(content)
    (root / "empty folder").mkdir()
    with open(root / "huge.txt", "wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # 50 MB, sparse: no disk is used
    with Store(root / "analysed.db"):  # a spinscope database with no article yet
        pass
    named = {
        "article": "article.txt",
        "empty": "empty.txt",
        "blank": "blank.txt",
        "binary": "image.png",
        "huge": "huge.txt",
        "not_sqlite": "corpus.db",
        "folder": "folder",
        "empty_folder": "empty folder",
        "corpus": "analysed.db",
        "under_a_file": "article.txt/out/x.json",
    }
    return {key: str(root / name) for key, name in named.items()} | {
        "semeval": str(write_semeval2023(root / "semeval2023")),
        "url": "http://127.0.0.1:9/article",
    }


def _without_traceback(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output


def error_line(args: list[str], input: str | None = None) -> str:
    """Run a command expected to fail on its input: its one error line on stderr."""
    result = runner.invoke(app, args, input=input)
    _without_traceback(result)
    assert result.exit_code == USAGE_STATUS, (result.exit_code, result.output)
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), result.stderr
    return last


def usage_error(args: list[str]) -> str:
    """Run a command given a bad option or argument: click's message, as one line of words."""
    result = runner.invoke(app, args)
    _without_traceback(result)
    assert result.exit_code == USAGE_STATUS, (result.exit_code, result.output)
    assert "Usage:" in result.stderr
    return " ".join(re.sub("[│╭╮╰╯─]", " ", result.stderr).split())


SPLIT = ["--lang", "en", "--split", "train"]

#: (command line, what the error line says). ``{name}`` stands for the path of :func:`paths`.
INPUT_ERRORS = {
    "analyze: missing file": (["analyze", "{missing}"], "no such file"),
    "analyze: empty file": (["analyze", "{empty}"], "empty"),
    "analyze: blank file": (["analyze", "{blank}"], "empty"),
    "analyze: binary file": (["analyze", "{binary}"], "binary"),
    "analyze: huge file": (["analyze", "{huge}"], "at most"),
    "analyze: a folder": (["analyze", "{folder}"], "folder"),
    "analyze: unknown language": (["analyze", "{article}", "--lang", "klingon"], "unknown language code 'klingon'"),
    "analyze: private URL": (["analyze", "{url}"], "127.0.0.1"),
    "analyze: missing model folder": (["analyze", "{article}", "--models", "{missing}"], "no model folder"),
    "analyze: folder without models": (["analyze", "{article}", "--models", "{folder}"], "no trained model"),
    "analyze: output is a folder": (
        ["analyze", "{article}", "-f", "json", "-o", "{folder}"],
        "is a folder, where a file is needed",
    ),
    "analyze: output under a file": (["analyze", "{article}", "-o", "{under_a_file}"], "is a file"),
    "predict: missing data folder": (
        ["predict", "{missing}", *SPLIT, "--task", "genre", "-o", "{missing}"],
        "no such data folder",
    ),
    "predict: file as data folder": (
        ["predict", "{article}", *SPLIT, "--task", "genre", "-o", "{missing}"],
        "no such data folder",
    ),
    "predict: not SemEval data": (
        ["predict", "{folder}", *SPLIT, "--task", "genre", "-o", "{missing}"],
        "no language folder 'en'",
    ),
    "predict: unknown language folder": (
        ["predict", "{semeval}", "--lang", "fr", "--split", "train", "--task", "genre", "-o", "{missing}"],
        "no language folder 'fr'",
    ),
    "predict: unknown split": (
        ["predict", "{semeval}", "--lang", "en", "--split", "dev", "--task", "genre", "-o", "{missing}"],
        "no dev-articles-subtask",
    ),
    "predict: 2025 task on 2023 data": (
        ["predict", "{semeval}", *SPLIT, "--task", "narratives", "-o", "{missing}"],
        "SemEval-2025 layout",
    ),
    "predict: missing model folder": (
        ["predict", "{semeval}", *SPLIT, "--task", "genre", "-o", "{missing}", "--models", "{missing}"],
        "no model folder",
    ),
    "predict: output is a folder": (
        ["predict", "{semeval}", *SPLIT, "--task", "genre", "-o", "{folder}"],
        "is a folder, where a file is needed",
    ),
    "evaluate: missing data folder": (["evaluate", "{missing}", *SPLIT], "no such data folder"),
    "evaluate: not SemEval data": (["evaluate", "{folder}", *SPLIT], "no language folder 'en'"),
    "evaluate: labels of another task": (
        ["evaluate", "{semeval}", *SPLIT, "--task", "entities"],
        "train-labels-subtask-1.txt",
    ),
    "evaluate: missing model folder": (["evaluate", "{semeval}", *SPLIT, "--models", "{missing}"], "no model folder"),
    "train: missing data folder": (["train", "{missing}", "-o", "{missing}"], "no such data folder"),
    "train: not SemEval data": (["train", "{folder}", "-o", "{missing}"], "train-labels-subtask-1.txt"),
    "train: unknown language": (["train", "{semeval}", "-o", "{missing}", "--lang", "zz"], "no training labels for zz"),
    "train: output under a file": (["train", "{semeval}", "-o", "{under_a_file}"], "part of this path is a file"),
    "heldout: missing data folder": (["heldout", "{missing}"], "no such data folder"),
    "heldout: not SemEval data": (["heldout", "{folder}"], "train-labels-subtask-1.txt"),
    "heldout: another fold without an encoder": (["heldout", "{semeval}", "--fold", "1"], "needs --encoder"),
    "serve: missing model folder": (["serve", "--models", "{missing}"], "no model folder"),
    "serve: missing database": (["serve", "--db", "{missing}"], "no corpus database"),
    "batch: missing input": (["batch", "{missing}", "--db", "{missing}"], "no such file or folder"),
    "batch: empty folder": (["batch", "{empty_folder}", "--db", "{missing}"], "no .txt or .html files"),
    "batch: binary file": (["batch", "{binary}", "--db", "{missing}"], "unknown input type .png"),
    "batch: not an SQLite database": (["batch", "{folder}", "--db", "{not_sqlite}"], "not a spinscope database"),
    "batch: database under a file": (["batch", "{folder}", "--db", "{under_a_file}"], "is a file"),
    "batch: scheduler without dask": (
        ["batch", "{folder}", "--db", "{missing}", "--scheduler", "tcp://x:1"],
        "--scheduler needs --engine dask",
    ),
    "batch: missing model folder": (
        ["batch", "{folder}", "--db", "{missing}", "--models", "{missing}"],
        "no model folder",
    ),
    "batch: unknown language": (
        ["batch", "{folder}", "--db", "{missing}", "--lang", "klingon"],
        "unknown language code 'klingon'",
    ),
    "batch: split of a non-SemEval folder": (["batch", "{folder}", "--db", "{missing}", "--split", "train"], "not one"),
    "export: missing database": (["export", "--db", "{missing}"], "no corpus database"),
    "export: not an SQLite database": (["export", "--db", "{not_sqlite}"], "not a spinscope database"),
    "export: empty file": (["export", "--db", "{empty}"], "is empty"),
    "export: unknown model version": (
        ["export", "--db", "{corpus}", "--model-version", "zz"],
        "model version 'zz' is not in",
    ),
    "export: output is a folder": (["export", "--db", "{corpus}", "-o", "{folder}"], "is a folder"),
    "export: output under a file": (["export", "--db", "{corpus}", "-o", "{under_a_file}"], "is a file"),
    "report: missing database": (["report", "--db", "{missing}"], "no corpus database"),
    "report: not an SQLite database": (["report", "--db", "{not_sqlite}"], "not a spinscope database"),
    "report: output is a folder": (["report", "--db", "{corpus}", "-o", "{folder}"], "is a folder"),
}


@pytest.mark.parametrize("case", INPUT_ERRORS)
def test_bad_input_is_one_error_line(paths, tmp_path, case):
    template, says = INPUT_ERRORS[case]
    fresh = {"missing": str(tmp_path / "missing.txt")}  # what a failed command may leave there stays its own
    assert says in error_line([arg.format(**paths | fresh) for arg in template])


def test_empty_standard_input():
    assert "standard input is empty" in error_line(["analyze", "-"], input="")


#: (command line, words of click's message).
USAGE_ERRORS = {
    "no command": (["frobnicate"], "No such command"),
    "analyze: no source": (["analyze"], "Missing argument"),
    "analyze: unknown format": (["analyze", "a.txt", "--format", "xml"], "'xml' is not one of"),
    "predict: no output": (["predict", "data", *SPLIT, "--task", "genre"], "Missing option '--output'"),
    "evaluate: unknown task": (["evaluate", "data", *SPLIT, "--task", "sentiment"], "'sentiment' is not one of"),
    "train: unknown task": (["train", "data", "-o", "m", "--tasks", "sentiment"], "'sentiment' is not one of"),
    "train: zero epochs": (["train", "data", "-o", "m", "--epochs", "0"], "'--epochs'"),
    "train: negative epochs": (["train", "data", "-o", "m", "--epochs", "-3"], "'--epochs'"),
    "train: too many layers": (["train", "data", "-o", "m", "--layers", "13"], "'--layers'"),
    "train: epochs not a number": (["train", "data", "-o", "m", "--epochs", "two"], "'--epochs'"),
    "heldout: missing encoder graph": (["heldout", "data", "--encoder", "missing.onnx"], "does not exist"),
    "heldout: no such fold": (["heldout", "data", "--fold", "5"], "'--fold'"),
    "train: no such fold": (["train", "data", "-o", "m", "--fold", "-1"], "'--fold'"),
    "kfold: no such fold": (["kfold", "data", "--fold", "7"], "'--fold'"),
    "serve: port zero": (["serve", "--port", "0"], "'--port'"),
    "serve: negative port": (["serve", "--port", "-80"], "'--port'"),
    "serve: port too large": (["serve", "--port", "70000"], "'--port'"),
    "serve: zero workers": (["serve", "--workers", "0"], "'--workers'"),
    "serve: negative rate limit": (["serve", "--rate-limit", "-1"], "'--rate-limit'"),
    "batch: zero workers": (["batch", "in", "--db", "c.db", "--workers", "0"], "'--workers'"),
    "batch: unknown engine": (["batch", "in", "--db", "c.db", "--engine", "spark"], "'spark' is not one of"),
    "export: unknown format": (["export", "--db", "c.db", "--format", "xml"], "'xml' is not one of"),
    "report: no database": (["report"], "Missing option '--db'"),
    "taxonomy: unknown option": (["taxonomy", "--yaml"], "No such option: --yaml"),
}


@pytest.mark.parametrize("case", USAGE_ERRORS)
def test_bad_option_is_a_usage_error(case):
    args, says = USAGE_ERRORS[case]
    assert says in usage_error(args)


def test_fold_options_stop_at_the_last_held_out_fold():
    assert cli.FOLDS == heldout.FOLDS  # the CLI writes it out to start without the training modules
    assert "'--fold'" in usage_error(["heldout", "data", "--fold", str(heldout.FOLDS)])
    last = runner.invoke(app, ["heldout", "data", "--fold", str(heldout.FOLDS - 1)])
    assert "needs --encoder" in last.stderr  # accepted, then refused for the shipped encoder


def test_unknown_task_lists_the_tasks_of_the_registry():
    message = usage_error(["predict", "data", *SPLIT, "--task", "sentiment", "-o", "out.txt"])
    assert "'sentiment' is not one of" in message and all(f"'{name}'" in message for name in TASKS)


def test_failure_after_the_work_keeps_what_was_shown(paths, tmp_path):
    """``heldout --json`` to a path it cannot write fails after scoring: the table is printed, then one error."""
    result = runner.invoke(app, ["heldout", paths["semeval"], "--json", str(tmp_path / "scores.json" / "x")])
    _without_traceback(result)
    assert result.exit_code == USAGE_STATUS
    assert "genre" in result.stdout and "macro-F1" in result.stdout
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")


# --- serve on an address other machines can reach ------------------------------------------

#: The environment the serve cases run in: no token, whatever the one running the tests holds.
NO_TOKEN = {"SPINSCOPE_TOKEN": None}


@pytest.fixture
def never_listens(monkeypatch) -> list:
    """Make uvicorn record the servers it would start, instead of starting them."""
    started: list = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.append((args, kwargs)))
    monkeypatch.setattr(uvicorn, "Config", lambda *args, **kwargs: started.append((args, kwargs)))
    return started


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "newsroom.example.org"])
@pytest.mark.parametrize(
    "token_args, env",
    [([], NO_TOKEN), (["--token", ""], NO_TOKEN), ([], {"SPINSCOPE_TOKEN": ""})],
    ids=["no token", "empty --token", "empty SPINSCOPE_TOKEN"],
)
def test_serve_on_a_shared_address_without_a_token_does_not_start(never_listens, host, token_args, env):
    result = runner.invoke(app, ["serve", "--host", host, *token_args], env=env)
    _without_traceback(result)
    assert result.exit_code == USAGE_STATUS
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith(f"error: serving on {host}, which other machines can reach")
    assert "--token" in line and "SPINSCOPE_TOKEN" in line
    assert never_listens == []


@pytest.mark.parametrize("token", ["two words", "naïve-token"])
def test_serve_refuses_a_token_no_header_can_carry(never_listens, token):
    line = error_line(["serve", "--host", "0.0.0.0", "--token", token])
    assert "printable ASCII without spaces" in line and token not in line
    assert never_listens == []


def test_serve_without_a_token_stops_a_real_process_at_once(tmp_path):
    """``spinscope serve --host 0.0.0.0`` without a token: one line, exit 2, before any model loads."""
    with socket.socket() as probe:  # a free port, to check that nothing listens on it afterwards
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {name: value for name, value in os.environ.items() if name != "SPINSCOPE_TOKEN"}
    begin = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "spinscope", "serve", "--host", "0.0.0.0", "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == USAGE_STATUS, result.stderr
    assert time.monotonic() - begin < 30  # it loads no model and starts no server
    assert result.stderr.startswith("error: serving on 0.0.0.0") and result.stderr.strip().count("\n") == 0
    assert "Uvicorn running" not in result.stderr + result.stdout
    with socket.socket() as client, pytest.raises(ConnectionRefusedError):
        client.settimeout(5)
        client.connect(("127.0.0.1", port))


# --- a real process: what a user sees -----------------------------------------------------


def _spinscope(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spinscope", *args], capture_output=True, text=True, timeout=120)


def test_console_script_prints_one_line_without_traceback(tmp_path):
    result = _spinscope("analyze", str(tmp_path / "missing.txt"))
    assert result.returncode == USAGE_STATUS
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and "missing.txt" in result.stderr


def test_console_script_reports_a_bad_option_with_click_usage(tmp_path):
    result = _spinscope("export", "--db", str(tmp_path / "c.db"), "--format", "xml")
    assert result.returncode == USAGE_STATUS
    assert "Traceback" not in result.stderr and "Usage:" in result.stderr and "'xml'" in result.stderr
