"""The CLI contract: analyze / predict / evaluate, the score tables and what serve asks of clients (bad inputs: test_cli_errors.py)."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import pytest
import uvicorn
from rich.console import Console
from typer.testing import CliRunner

with warnings.catch_warnings():  # Starlette's note about httpx2 is not about this project
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from conftest import ARTICLES, join, write_semeval2023
from spinscope import semeval
from spinscope.models import SpanModel
from spinscope.pipeline import MODEL_DIR
from spinscope.shells import cli, progress_view, render
from spinscope.shells.api import access
from spinscope.shells.cli import app
from spinscope.taxonomy import FRAME_NAMES, GENRE_NAMES, TECHNIQUE_NAMES

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return write_semeval2023(tmp_path)


# --- analyze ------------------------------------------------------------------------------


def test_analyze_json_follows_the_contract(tmp_path):
    path = tmp_path / "article.txt"
    path.write_text(join(ARTICLES["1"], "\r\n"), newline="")
    result = runner.invoke(app, ["analyze", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    analysis = json.loads(result.stdout)
    text = analysis["text"]
    assert text == path.read_bytes().decode()
    assert analysis["language"] == "en"
    assert text[analysis["title"]["start"] : analysis["title"]["end"]] == ARTICLES["1"][0]
    assert analysis["genre"]["label"] in GENRE_NAMES
    assert set(analysis["genre"]["scores"]) == set(GENRE_NAMES)
    assert abs(sum(analysis["genre"]["scores"].values()) - 1) < 1e-3
    assert all(f["label"] in FRAME_NAMES and 0 <= f["score"] <= 1 for f in analysis["frames"])
    assert [p["line"] for p in analysis["paragraphs"]] == [1, 3, 4]
    for p in analysis["paragraphs"]:
        assert "\r" not in text[p["start"] : p["end"]]
        assert all(t["label"] in TECHNIQUE_NAMES for t in p["techniques"])
    for s in analysis["spans"]:
        assert 0 <= s["start"] < s["end"] <= len(text) and text[s["start"] : s["end"]] == s["text"]
    assert {"genre", "frames", "techniques"} <= set(analysis["models"])


def test_analyze_lang_override_and_stdin():
    result = runner.invoke(app, ["analyze", "-", "--format", "json", "--lang", "ge"], input=join(ARTICLES["2"]))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["language"] == "de"


def test_analyze_text_and_html_outputs(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(join(ARTICLES["1"]))
    text = runner.invoke(app, ["analyze", str(path)])
    assert text.exit_code == 0 and "Genre" in text.stdout and "corrupt cowards" in text.stdout
    out = tmp_path / "a.html"
    html = runner.invoke(app, ["analyze", str(path), "--format", "html", "--output", str(out)])
    assert html.exit_code == 0
    page = out.read_text()
    assert page.startswith("<!doctype html>") and "corrupt cowards" in page and "<link" not in page


def test_analyze_escapes_markup_in_html(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Breaking <script>alert(1)</script> news\n\nA paragraph with </script> inside it.\n")
    out = tmp_path / "a.html"
    assert runner.invoke(app, ["analyze", str(path), "-f", "html", "-o", str(out)]).exit_code == 0
    page = out.read_text()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert page.count("</script>") == 1  # only the closing tag of the JSON data block


# --- input --------------------------------------------------------------------------------


def test_legacy_encoding_is_detected(tmp_path):
    (tmp_path / "latin1.txt").write_bytes("Le maire a été réélu\n\nLes électeurs ont voté à 60 %.\n".encode("cp1252"))
    result = runner.invoke(app, ["analyze", str(tmp_path / "latin1.txt"), "-f", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["text"].startswith("Le maire a été réélu")


# --- predict / evaluate -------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "xx"])
def test_predict_writes_official_files_for_every_task(data_dir, tmp_path, lang):
    split = semeval.Split(data_dir, lang, "train")
    for task in ("genre", "frames", "techniques", "spans"):
        out = tmp_path / f"{lang}-{task}.txt"
        result = runner.invoke(
            app, ["predict", str(data_dir), "--lang", lang, "--split", "train", "--task", task, "--output", str(out)]
        )
        assert result.exit_code == 0, result.output
        if task == "genre":
            rows = dict(line.split("\t") for line in out.read_text().splitlines())
            assert set(rows) == set(ARTICLES) and set(rows.values()) <= set(GENRE_NAMES)
        elif task == "frames":
            assert set(semeval.read_frame_labels(out)) == set(ARTICLES)
        elif task == "techniques":
            written = [tuple(line.split("\t")[:2]) for line in out.read_text().splitlines()]
            template = [(aid, str(line)) for aid, line in semeval.read_template(split.template_file())]
            assert written == template
            semeval.read_technique_labels(out)  # valid labels
        else:
            lengths = {aid: len(join(lines, "\r\n" if lang == "xx" else "\n")) for aid, lines in ARTICLES.items()}
            semeval.read_spans(out, lengths)  # valid, in range


def test_predict_reports_broken_articles_and_writes_the_rest(data_dir, tmp_path):
    (data_dir / "en" / "train-articles-subtask-3" / "article2.txt").write_bytes(b"\x00\x01\x02binary")
    out = tmp_path / "techniques.txt"
    result = runner.invoke(
        app,
        ["predict", str(data_dir), "--lang", "en", "--split", "train", "--task", "techniques", "--output", str(out)],
    )
    assert result.exit_code == 0
    assert "article2.txt" in result.stderr and "binary" in result.stderr
    assert "en/train techniques: 3/3 (100%)" in result.stderr  # progress, as lines off a terminal
    rows = [line.split("\t") for line in out.read_text().splitlines()]
    assert {r[0] for r in rows} == set(ARTICLES)
    assert all(r[2] == "" for r in rows if r[0] == "2")


def test_progress_off_a_terminal_is_a_line_now_and_then(capsys):
    now = [0.0]
    progress = progress_view.ProgressLines(every=60, clock=lambda: now[0])
    for done, at in [(0, 0), (1, 10), (2, 61), (3, 70), (4, 130), (5, 131), (5, 200)]:
        now[0] = at
        progress("fr/dev genre", done, 5)
    progress("embedding", 7, 0)  # total not known
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "fr/dev genre: 0/5 (0%), 0:00",
        "fr/dev genre: 2/5 (40%), 1:01",
        "fr/dev genre: 4/5 (80%), 2:10",
        "fr/dev genre: 5/5 (100%), 2:11",  # done: said at once, and once
        "embedding: 7, 0:00",
    ]


def test_evaluate_prints_official_scores(data_dir):
    result = runner.invoke(app, ["evaluate", str(data_dir), "--lang", "en", "--split", "train", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    scores = report["scores"]
    assert set(scores) == {"genre", "frames", "techniques", "spans"}
    assert 0 <= scores["genre"]["macro_f1"] <= 1 and scores["techniques"]["paragraphs"] == 8
    for task in ("frames", "techniques", "spans"):
        assert 0 <= scores[task]["f1"] <= 1


def test_evaluate_table_shows_the_held_out_estimates_of_old_and_new_models(data_dir):
    result = runner.invoke(
        app, ["evaluate", str(data_dir), "--lang", "en", "--split", "train", "--task", "spans"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if "metric" in line)
    assert [c.strip() for c in header.strip("┃ ").split("┃")] == [
        "task",
        "metric",
        "score",
        "precision",
        "recall",
        "CV",
        "CV before",
        "LOLO",
        "LOLO before",
    ]
    spans = SpanModel.load(MODEL_DIR).meta
    row = next(line for line in result.stdout.splitlines() if line.startswith("│ spans"))
    assert [cell.strip() for cell in row.split("│")[-5:-1]] == [
        f"{spans[key]['en']:.3f}" for key in ("cv", "cv_previous", "lolo", "lolo_previous")
    ]


def test_heldout_table_names_the_metric_of_each_score():
    scores = {"genre": {"en": 0.5}, "spans": {"en": 0.25}, "narratives": {"en": {"coarse_f1": 0.4, "fine_f1": 0.3}}}
    tuned = {"genre": {"en": 0.625}, "spans": {"en": 0.375}, "narratives": {"en": {"coarse_f1": 0.5, "fine_f1": 0.125}}}
    console = Console(record=True, width=200, file=io.StringIO())
    console.print(render.heldout_table({"shipped": scores, "tuned.onnx": tuned}))
    rows = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in console.export_text().splitlines()
        if line.startswith("│")
    ]
    assert rows == [
        ["genre", "macro-F1", "en", "0.500", "0.625"],
        ["spans", "token average precision", "en", "0.250", "0.375"],
        ["narratives", "coarse_f1", "en", "0.400", "0.500"],
        ["narratives", "fine_f1", "en", "0.300", "0.125"],
    ]


# --- serve ----------------------------------------------------------------------------------


@pytest.fixture
def served(monkeypatch) -> list:
    """The apps ``serve`` hands to uvicorn (and their host), instead of serving them."""
    apps: list = []
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port: apps.append((app, host)))
    return apps


def _calls(app_, token: str | None = None) -> tuple[int, str]:
    """The status of a taxonomy call to ``app_`` (no model needed), and the API's description."""
    client = TestClient(app_)  # without its lifespan: the models are not loaded
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get("/api/v1/taxonomy", headers=headers).status_code, client.get("/openapi.json").json()["info"][
        "description"
    ]


def test_serve_reads_the_token_from_the_environment_on_a_shared_address(served):
    token = "Zq8-env-token_4Kd9wPx2Lr"
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0"], env={"SPINSCOPE_TOKEN": token})
    assert result.exit_code == 0, result.output
    [(served_app, host)] = served
    assert host == "0.0.0.0"
    assert _calls(served_app)[0] == 401
    status, description = _calls(served_app, token)
    assert status == 200 and "60 calls a minute" in description  # a shared server has a rate limit by default
    assert "every API call needs 'Authorization: Bearer <token>'; at most 60 calls a minute" in result.stderr
    assert token not in result.output and "warning" not in result.stderr


def test_serve_on_loopback_needs_no_token_and_has_no_rate_limit(served):
    result = runner.invoke(app, ["serve"], env={"SPINSCOPE_TOKEN": None})
    assert result.exit_code == 0, result.output
    status, description = _calls(served[0][0])
    assert status == 200 and "calls a minute" not in description and "Bearer" not in description
    assert "the API needs no token; no rate limit" in result.stderr


def test_serve_on_loopback_asks_for_a_token_and_a_limit_when_given(served):
    result = runner.invoke(app, ["serve", "--token", "short", "--rate-limit", "5"], env={"SPINSCOPE_TOKEN": None})
    assert result.exit_code == 0, result.output
    assert _calls(served[0][0])[0] == 401
    status, description = _calls(served[0][0], "short")
    assert status == 200 and "5 calls a minute" in description
    assert "warning: the API token has 5 characters and can be guessed" in result.stderr


def test_serve_help_gives_the_default_rate_limit_of_shared_servers():
    assert cli.SHARED_RATE_LIMIT == access.SHARED_RATE_LIMIT
    assert "SPINSCOPE_TOKEN" in runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "200"}).stdout


def test_serve_passes_the_queue_time_limit_and_cache_to_the_app(served):
    result = runner.invoke(app, ["serve", "--queue", "0", "--time-limit", "5", "--cache", "0"])
    assert result.exit_code == 0, result.output
    with TestClient(served[0][0]) as client:  # its lifespan builds the analysis service
        limits = client.app.state.service.limits
    assert (limits.queue, limits.time_limit, limits.cache_entries) == (0, 5.0, 0)
    refused = runner.invoke(app, ["serve", "--time-limit", "0"])
    assert refused.exit_code == 2 and "Traceback" not in refused.output
