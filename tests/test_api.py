"""The REST API and the page's assets, through FastAPI's TestClient.

Safety tests use a stand-in analyzer that fails if it is ever reached: every bad input must
be refused before the model runs. The happy paths use the real Analyzer (skipped until the
trained models exist) and share one embedding cache, so the article is embedded only once.
Every article here is invented for these tests; no request leaves this machine.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

with warnings.catch_warnings():  # Starlette's note about httpx2 is not about this project
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from spinscope import errors, taxonomy
from spinscope import io as ingest
from spinscope.errors import ModelError
from spinscope.io import fetch
from spinscope.pipeline import MODEL_DIR, model_folder
from spinscope.schema import AnalysisSchema
from spinscope.shells.api import MAX_BYTES, MAX_CHARS, WEB_DIR, create_app, serve

ARTICLE = "\n".join(
    [
        "Reckless Dam Plan Will Drown the Valley",
        "",
        "The minister's reckless dam scheme is a betrayal of every farmer who has worked this valley for generations.",
        "Anyone who supports this disastrous plan is either paid by the construction lobby or has never set foot here.",
        "If the dam goes ahead, the river dies, the farms fail, and our children will have nothing left to inherit.",
        "Stand with the valley. Stop the dam now!",
        "",
    ]
)
TITLE, *BODY = [line for line in ARTICLE.split("\n") if line]
ARTICLE_HTML = (
    "<!doctype html><html><head><meta charset='utf-8'><title>" + TITLE + "</title></head><body>"
    "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav><article><h1>"
    + TITLE
    + "</h1>"
    + "".join(f"<p>{p}</p>" for p in BODY)
    + "<script>var leaked = 'SCRIPT_SHOULD_NOT_LEAK';</script></article>"
    "<footer><p>Copyright The Valley Courier.</p></footer></body></html>"
)


# --- fixtures -------------------------------------------------------------------------------


class NeverReached:
    """Stand-in analyzer for safety tests: the request must be refused before the model."""

    model_info = {"stand-in": {"version": None}}

    def analyze(self, article):
        raise AssertionError("this request should have been refused before the model ran")


class Exploding:
    def analyze(self, article):
        raise RuntimeError("secret internal detail")


@pytest.fixture(scope="module")
def guarded():
    with TestClient(create_app(analyzer=NeverReached())) as client:
        yield client


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory):
    if not (MODEL_DIR / "techniques.json").is_file():
        pytest.skip(
            f"no trained models in {MODEL_DIR} (techniques.json is missing): "
            "run `spinscope train` to create them, then re-run these tests"
        )
    from spinscope.models.embeddings import Embedder, EmbeddingCache
    from spinscope.pipeline import Analyzer

    cache = EmbeddingCache(tmp_path_factory.mktemp("embeddings") / "cache.sqlite")
    return Analyzer(embedder=Embedder(cache))


@pytest.fixture(scope="module")
def client(analyzer):
    with TestClient(create_app(analyzer=analyzer)) as client:
        yield client


@pytest.fixture(scope="module")
def analysed(client):
    """One real analysis of ARTICLE, shared by the assertions that need one."""
    response = client.post("/api/v1/analyze", json={"text": ARTICLE})
    assert response.status_code == 200, response.text
    return response


@pytest.fixture
def site():
    """A loopback web server: ``site.routes[path] = (status, content_type, body, headers)``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            status, ctype, body, headers = self.server.routes[self.path]
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            # The client stops reading past its size cap, as it should.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.routes = {}
    server.base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def loopback_is_public(monkeypatch):
    """Let fetch.py treat 127.0.0.1 (and only it) as public, to test fetching against ``site``."""
    monkeypatch.setattr(fetch, "is_public", lambda ip: str(ip) == "127.0.0.1")


def error_of(response, status: int) -> str:
    """Assert ``response`` is a JSON error with ``status`` and return its message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["error"], str) and body["error"].endswith((".", "?", "!"))
    assert "Traceback" not in response.text
    return body["error"]


# --- happy paths (real models) --------------------------------------------------------------


def test_text_returns_exactly_the_analysis_json(client, analysed, analyzer):
    assert analysed.headers["content-type"].startswith("application/json")
    article = ingest.with_language(ingest.article_from_bytes(ARTICLE.encode(), "test", html=False), None)
    expected = analyzer.analyze(article).to_dict()  # what `spinscope analyze --format json` prints
    assert analysed.json() == expected


def test_the_same_article_again_is_answered_from_the_cache(client, analysed):
    service = client.app.state.service
    before = service.stats()
    again = client.post("/api/v1/analyze", json={"text": ARTICLE})
    after = service.stats()
    assert again.status_code == 200 and again.content == analysed.content
    assert after.analyses == before.analyses  # the encoder did not run
    assert after.cache.hits == before.cache.hits + 1


def test_analysis_matches_the_response_schema(analysed):
    result = AnalysisSchema.model_validate(analysed.json())  # labels must be taxonomy names
    assert result.text == ARTICLE
    assert result.language == "en"
    assert ARTICLE[result.title.start : result.title.end] == TITLE
    assert [p.line for p in result.paragraphs] == [1, 3, 4, 5, 6]
    assert set(result.frame_scores) == set(taxonomy.FRAME_NAMES)
    for span in result.spans:
        assert ARTICLE[span.start : span.end] == span.text


def test_lang_overrides_detection(client, analysed):
    response = client.post("/api/v1/analyze", json={"text": ARTICLE, "lang": "fr"})
    assert response.status_code == 200, response.text
    assert response.json()["language"] == "fr"


def test_upload_of_a_text_file(client, analysed):
    response = client.post("/api/v1/analyze/file", files={"file": ("valley.txt", ARTICLE.encode(), "text/plain")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["text"] == ARTICLE and body["id"] == "valley"
    offsets = [(p["line"], p["start"], p["end"]) for p in body["paragraphs"]]
    assert offsets == [(p["line"], p["start"], p["end"]) for p in analysed.json()["paragraphs"]]


def test_upload_with_a_detectable_legacy_encoding(client):
    text = "Château fort : le maire répond\n\nLe maire a répondu hier aux critiques sur le château.\n"
    response = client.post(
        "/api/v1/analyze/file", files={"file": ("chateau.txt", text.encode("cp1252"))}, data={"lang": "fr"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["text"] == text


def test_html_field(client, html_extractor):
    response = client.post("/api/v1/analyze", json={"html": ARTICLE_HTML})
    assert response.status_code == 200, response.text
    text = response.json()["text"]
    assert text.startswith(TITLE) and BODY[0] in text and "SCRIPT_SHOULD_NOT_LEAK" not in text


def test_upload_of_an_html_file(client, html_extractor):
    response = client.post("/api/v1/analyze/file", files={"file": ("valley.html", ARTICLE_HTML.encode())})
    assert response.status_code == 200, response.text
    assert BODY[1] in response.json()["text"]


def test_url_of_a_page(client, site, loopback_is_public):
    site.routes["/valley"] = (200, "text/plain; charset=utf-8", ARTICLE.encode(), {})
    response = client.post("/api/v1/analyze", json={"url": site.base + "/valley"})
    assert response.status_code == 200, response.text
    assert response.json()["text"] == ARTICLE and response.json()["id"] == site.base + "/valley"


def test_health_reports_the_loaded_models(client):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert {"genre", "frames", "techniques"} <= set(body["models"])


# --- reference endpoints, docs and page (no model needed) -----------------------------------


def test_taxonomy_lists_every_label_and_group_colour(guarded):
    from spinscope.shells.render import GROUP_COLOURS

    body = guarded.get("/api/v1/taxonomy").json()
    assert [t["name"] for t in body["techniques"]] == list(taxonomy.TECHNIQUE_NAMES)
    assert [f["name"] for f in body["frames"]] == list(taxonomy.FRAME_NAMES)
    assert all(t["definition"] for t in body["techniques"])
    assert {g["name"]: g["colour"] for g in body["technique_groups"]} == GROUP_COLOURS


def test_health_answers_with_a_stand_in(guarded):
    assert guarded.get("/health").json()["status"] == "ok"


def test_openapi_schema_is_built_from_the_taxonomy(guarded):
    schema = guarded.get("/openapi.json").json()
    assert {"/api/v1/analyze", "/api/v1/analyze/file", "/api/v1/taxonomy", "/health"} <= set(schema["paths"])
    components = schema["components"]["schemas"]
    assert set(components["AnalyzeRequest"]["properties"]) == {"text", "url", "html", "lang"}
    span_technique = components["SpanSchema"]["properties"]["technique"]
    assert span_technique["enum"] == list(taxonomy.TECHNIQUE_NAMES)


def test_docs_are_served_without_internet(guarded):
    page = guarded.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/") for a in assets), assets  # nothing from a CDN
    assert "cdn." not in page.text and '"validatorUrl": null' in page.text
    for asset in assets:
        response = guarded.get(asset)
        assert response.status_code == 200, asset
    assert "SwaggerUIBundle" in guarded.get("/docs-assets/swagger-ui-bundle.js").text


def test_page_and_its_assets_are_local(guarded):
    page = guarded.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="([^"#]+)"', page.text)
    assert {"/static/app.js", "/static/app.css"} <= set(assets)
    for asset in assets:
        response = guarded.get(asset)
        assert response.status_code == 200, asset
        assert not re.search(r"(?:url\(|@import|src=|href=)\s*['\"]?https?://", response.text), asset


def test_page_script_never_writes_html():
    # Article text reaches the page through textContent only; this keeps it that way.
    lines = (WEB_DIR / "static" / "app.js").read_text().splitlines()
    script = "\n".join(line for line in lines if not line.strip().startswith("//"))
    assert not re.search(r"\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write)\b", script)


# --- size limits ----------------------------------------------------------------------------


def test_body_over_2_mb_is_refused_from_its_content_length(guarded):
    body = b'{"text": "' + b"a" * MAX_BYTES + b'"}'
    message = error_of(guarded.post("/api/v1/analyze", content=body, headers={"content-type": "application/json"}), 413)
    assert "2,000,000 bytes" in message


def test_streamed_body_over_2_mb_is_refused(guarded):
    def chunks():  # no Content-Length: the body is counted as it arrives
        yield b'{"text": "'
        for _ in range(21):
            yield b"a" * 100_000

    response = guarded.post("/api/v1/analyze", content=chunks(), headers={"content-type": "application/json"})
    assert "transfer-encoding" in {k.lower() for k in response.request.headers}
    error_of(response, 413)


def test_upload_over_2_mb_is_refused(guarded):
    error_of(guarded.post("/api/v1/analyze/file", files={"file": ("big.txt", b"a" * (MAX_BYTES + 1))}), 413)


def test_text_over_200000_characters_is_refused(guarded):
    message = error_of(guarded.post("/api/v1/analyze", json={"text": "Title\n\n" + "é" * MAX_CHARS}), 413)
    assert "200,000" in message


def test_invalid_content_length_is_refused(guarded):
    error_of(
        guarded.post(
            "/api/v1/analyze", content=b"{}", headers={"content-type": "application/json", "content-length": "lots"}
        ),
        400,
    )


# --- malformed requests ---------------------------------------------------------------------


def test_malformed_json(guarded):
    response = guarded.post(
        "/api/v1/analyze", content=b'{"text": "unfinished', headers={"content-type": "application/json"}
    )
    assert "not valid JSON" in error_of(response, 422)


def test_body_without_json_content_type(guarded):
    response = guarded.post("/api/v1/analyze", content=b'{"text": "x"}', headers={"content-type": "text/plain"})
    assert "application/json" in error_of(response, 422)


@pytest.mark.parametrize("body", [b'["a list"]', b'"a string"', b"42", b"null", b""])
def test_body_that_is_not_an_object(guarded, body):
    response = guarded.post("/api/v1/analyze", content=body, headers={"content-type": "application/json"})
    assert "JSON object" in error_of(response, 422)


@pytest.mark.parametrize(
    "payload, words",
    [
        ({"text": 5}, "'text' must be a string"),
        ({"text": ["Title", "body"]}, "'text' must be a string"),
        ({"url": {"href": "http://example.org"}}, "'url' must be a string"),
        ({"text": "Title\n\nBody.", "lang": 1}, "'lang' must be a string"),
        ({}, "exactly one of text, url or html"),
        ({"text": None}, "exactly one of text, url or html"),
        ({"text": "Title\n\nBody.", "url": "http://example.org/"}, "got text and url"),
        ({"text": "Title\n\nBody.", "title": "extra"}, "Unknown field 'title'"),
        ({"text": "Title\n\nBody.", "lang": "e" * 17}, "'lang' is too long"),
    ],
)
def test_wrong_fields_and_types(guarded, payload, words):
    assert words in error_of(guarded.post("/api/v1/analyze", json=payload), 422)


@pytest.mark.parametrize("text", ["", "   \n\t\n"])
def test_empty_text(guarded, text):
    assert "empty" in error_of(guarded.post("/api/v1/analyze", json={"text": text}), 400)


def test_text_with_a_lone_surrogate(guarded):
    response = guarded.post(
        "/api/v1/analyze",
        content=b'{"text": "Title\\n\\nBad \\ud800 char"}',
        headers={"content-type": "application/json"},
    )
    assert "invalid Unicode" in error_of(response, 400)


def test_text_with_nul_characters(guarded):
    error_of(guarded.post("/api/v1/analyze", json={"text": "Title\n\nbinary\u0000junk"}), 415)


def test_unknown_language_code(guarded):
    assert "language code" in error_of(guarded.post("/api/v1/analyze", json={"text": ARTICLE, "lang": "xx"}), 400)


def test_unknown_address_and_wrong_method(guarded):
    assert "/api/v1" in error_of(guarded.get("/api/v2/analyze"), 404)
    error_of(guarded.get("/api/v1/analyze"), 405)


# --- uploads --------------------------------------------------------------------------------


def test_binary_upload(guarded):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    message = error_of(guarded.post("/api/v1/analyze/file", files={"file": ("photo.png", png)}), 415)
    assert "binary" in message and "photo.png" in message


def test_upload_in_an_undetectable_encoding(guarded):
    data = bytes([0x80, 0x81, 0x8D, 0x8F, 0x90, 0x9D]) * 300
    assert "UTF-8" in error_of(guarded.post("/api/v1/analyze/file", files={"file": ("odd.txt", data)}), 415)


def test_empty_upload(guarded):
    assert "empty" in error_of(guarded.post("/api/v1/analyze/file", files={"file": ("empty.txt", b"")}), 400)


def test_upload_without_a_file(guarded):
    assert "'file' is required" in error_of(guarded.post("/api/v1/analyze/file", data={"lang": "en"}), 422)
    assert "'file' is required" in error_of(guarded.post("/api/v1/analyze/file", json={"text": ARTICLE}), 422)


# --- URLs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["ftp://example.org/article.txt", "file:///etc/passwd", "javascript:alert(1)", "not a url", "http://"]
)
def test_only_http_and_https_urls(guarded, url):
    error_of(guarded.post("/api/v1/analyze", json={"url": url}), 400)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/",
        "http://localhost/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://0.0.0.0/",
        "http://2130706433/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
def test_private_and_internal_hosts_are_refused(guarded, url):
    # Refused while resolving the host, before any connection is attempted.
    assert "non-public address" in error_of(guarded.post("/api/v1/analyze", json={"url": url}), 403)


def test_redirect_to_a_private_host_is_refused(guarded, site, loopback_is_public):
    site.routes["/moved"] = (302, "text/html", b"", {"Location": "http://127.0.0.2/admin"})
    message = error_of(guarded.post("/api/v1/analyze", json={"url": site.base + "/moved"}), 403)
    assert "127.0.0.2" in message


def test_url_that_is_not_a_page(guarded, site, loopback_is_public):
    site.routes["/photo"] = (200, "image/png", b"\x89PNG\r\n", {})
    error_of(guarded.post("/api/v1/analyze", json={"url": site.base + "/photo"}), 415)


def test_url_of_a_page_too_large(guarded, site, loopback_is_public):
    site.routes["/huge"] = (200, "text/plain", b"a" * (MAX_BYTES + 1), {})
    error_of(guarded.post("/api/v1/analyze", json={"url": site.base + "/huge"}), 413)


def test_url_answering_an_error(guarded, site, loopback_is_public):
    site.routes["/gone"] = (404, "text/html", b"not here", {})
    error_of(guarded.post("/api/v1/analyze", json={"url": site.base + "/gone"}), 502)


# --- failures inside the server -------------------------------------------------------------


def test_unexpected_error_is_a_json_500_without_details():
    app = create_app(analyzer=Exploding())
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/api/v1/analyze", json={"text": ARTICLE, "lang": "en"})
    message = error_of(response, 500)
    assert "secret internal detail" not in response.text and "RuntimeError" not in response.text
    assert "try again" in message


def test_answers_are_checked_against_the_analysis_schema():
    class Unlisted:
        def to_dict(self):
            return {
                "text": ARTICLE,
                "spans": [{"technique": "Not_A_Technique", "start": 0, "end": 8, "text": ARTICLE[:8], "score": 0.9}],
            }

    class Inventing(NeverReached):
        def analyze(self, article):
            return Unlisted()

    with TestClient(create_app(analyzer=Inventing()), raise_server_exceptions=False) as client:
        response = client.post("/api/v1/analyze", json={"text": ARTICLE, "lang": "en"})
    assert "Not_A_Technique" not in response.text
    assert "try again" in error_of(response, 500)


def test_analysis_runs_off_the_event_loop():
    started, release = threading.Event(), threading.Event()

    class Slow(NeverReached):
        def analyze(self, article):
            started.set()
            release.wait(10)
            raise RuntimeError("released")

    with TestClient(create_app(analyzer=Slow()), raise_server_exceptions=False) as client:
        worker = threading.Thread(
            target=client.post, args=("/api/v1/analyze",), kwargs={"json": {"text": ARTICLE, "lang": "en"}}
        )
        worker.start()
        try:
            assert started.wait(10)
            begin = time.monotonic()
            assert client.get("/health").status_code == 200  # answered while the analysis runs
            assert time.monotonic() - begin < 5
        finally:
            release.set()
            worker.join(10)


def test_missing_models_stop_startup_with_a_clear_message(tmp_path):
    missing = "no trained model for genre, frames, techniques, spans, narratives, entities"
    with pytest.raises(ModelError, match=missing), TestClient(create_app(models=tmp_path)):
        pass
    (tmp_path / "genre.json").write_text("{}")
    with pytest.raises(ModelError, match=r"missing: genre\.npz, frames\.json"):
        model_folder(tmp_path)
    with pytest.raises(ModelError):
        serve(port=0, models=tmp_path)  # refused before uvicorn starts


# --- HTTP statuses of library errors ----------------------------------------------------------

#: The status the API answers each error class of spinscope.errors with: the library says what
#: went wrong, only the API names it in HTTP.
ERROR_STATUSES = {
    errors.SpinscopeError: 500,
    errors.InputError: 400,
    errors.NotFoundError: 404,
    errors.TooLargeError: 413,
    errors.NotTextError: 415,
    errors.NoArticleError: 422,
    errors.FetchError: 502,
    errors.InvalidURLError: 400,
    errors.RefusedURLError: 403,
    errors.FetchTimeoutError: 504,
    errors.PageTooLargeError: 413,
    errors.NotAPageError: 415,
    errors.DataError: 400,
    errors.ModelError: 500,
    errors.StoreError: 400,
    errors.MissingStoreError: 404,
    errors.BatchError: 500,
    errors.ConfigError: 500,
}


def test_every_library_error_class_has_a_status():
    classes = {c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.SpinscopeError)}
    assert classes == set(ERROR_STATUSES)


@pytest.mark.parametrize("kind", ERROR_STATUSES, ids=lambda kind: kind.__name__)
def test_library_errors_get_their_status_from_the_api(kind):
    error = kind("the stand-in says what went wrong")
    assert not hasattr(error, "status")  # the library knows no HTTP

    class Raising:
        def analyze(self, article):
            raise error

    with TestClient(create_app(analyzer=Raising()), raise_server_exceptions=False) as client:
        answers = [
            client.post("/api/v1/analyze", json={"text": ARTICLE, "lang": "en"}),
            client.post("/api/v1/analyze/file", files={"file": ("valley.txt", ARTICLE.encode())}, data={"lang": "en"}),
        ]
    for response in answers:
        assert error_of(response, ERROR_STATUSES[kind]) == "The stand-in says what went wrong."


def test_corpus_page_errors_get_their_status_from_the_api(tmp_path):
    (tmp_path / "notes.sqlite").write_text("These are notes, not a database.\n" * 100)
    for name, status in (("none.sqlite", 404), ("notes.sqlite", 400)):
        with TestClient(create_app(analyzer=NeverReached(), db=tmp_path / name)) as client:
            assert name in error_of(client.get("/corpus"), status)
