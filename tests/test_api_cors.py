"""Cross-origin calls: the browser extension's origin and the origins listed with ``--allow-origin``.

The app runs in-process with a stand-in analyzer that fails if it is ever reached: every call
here is a preflight, a reference call (no model) or one the API's own rules refuse first.
"""

from __future__ import annotations

import warnings

import pytest
from typer.testing import CliRunner

with warnings.catch_warnings():  # Starlette's note about httpx2 is not about this project
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from spinscope.errors import InputError
from spinscope.io import MAX_BYTES
from spinscope.shells import api, cli
from spinscope.shells.api import create_app
from spinscope.shells.api.access import Access
from spinscope.shells.api.cors import EXTENSION_ID, EXTENSION_ORIGINS, allowed_origins, check_origin

TOKEN = "cors-token_7Gv2Kq9Lx4Pz"
EXTENSION = f"chrome-extension://{EXTENSION_ID}"
LISTED = "moz-extension://3f2a9c1e-5b7d-4e8f-a1c2-0d9e8f7a6b5c"
STRANGER = "https://news.example.org"
TAXONOMY = "/api/v1/taxonomy"
ANALYZE = "/api/v1/analyze"


class Broken:
    model_info: dict = {}

    def analyze(self, article):
        raise ValueError("a bug in a model")


class NeverReached:
    model_info = {"stand-in": {"version": None}}

    def analyze(self, article):
        raise AssertionError("this request should have been answered before the model ran")


def shared_app(rate_limit: int | None = None):
    """A shared server (it asks for a token) that also allows ``LISTED``."""
    return create_app(
        analyzer=NeverReached(), access=Access(token=TOKEN, rate_limit=rate_limit), allow_origins=[LISTED]
    )


@pytest.fixture(scope="module")
def client():
    with TestClient(shared_app()) as test_client:
        yield test_client


def preflight(client, origin: str, method: str = "POST", headers: str = "authorization,content-type", **extra):
    asked = {"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}
    return client.options(ANALYZE, headers=asked | extra)


def cors_headers(response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.lower().startswith("access-control-")}


def test_the_extension_origin_is_its_manifest_id():
    assert EXTENSION in EXTENSION_ORIGINS
    assert allowed_origins() == frozenset(EXTENSION_ORIGINS)


@pytest.mark.parametrize("origin", [EXTENSION, LISTED])
def test_a_preflight_from_an_allowed_origin_is_granted_without_token_or_rate_limit(origin):
    with TestClient(shared_app(rate_limit=3)) as client:
        for _ in range(6):  # twice the rate limit: preflights carry no token and are not counted
            answer = preflight(client, origin)
            assert answer.status_code == 204, answer.text
        # The rate limit was left alone: the allowed calls of this client are all still there.
        for _ in range(3):
            assert client.get(TAXONOMY, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert client.get(TAXONOMY, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 429
    assert answer.headers["access-control-allow-origin"] == origin
    assert set(answer.headers["access-control-allow-methods"].split(", ")) == {"GET", "POST"}
    assert {h.strip().lower() for h in answer.headers["access-control-allow-headers"].split(",")} == {
        "authorization",
        "content-type",
    }
    assert int(answer.headers["access-control-max-age"]) > 0 and "Origin" in answer.headers["vary"]
    assert "access-control-allow-credentials" not in answer.headers


def test_a_preflight_from_another_origin_grants_nothing(client):
    answer = preflight(client, STRANGER)
    assert answer.status_code == 403
    assert cors_headers(answer) == {}
    assert "--allow-origin https://news.example.org" in answer.json()["error"]


@pytest.mark.parametrize(
    ("method", "headers"),
    [("DELETE", "authorization"), ("PUT", ""), ("POST", "authorization,x-requested-by"), ("POST", "cookie")],
)
def test_a_preflight_asking_for_more_than_the_api_needs_is_refused(client, method, headers):
    answer = preflight(client, EXTENSION, method, headers)
    assert answer.status_code == 403 and cors_headers(answer) == {}


def test_a_preflight_for_the_loopback_server_may_reach_the_private_network(client):
    answer = preflight(client, EXTENSION, **{"Access-Control-Request-Private-Network": "true"})
    assert answer.headers["access-control-allow-private-network"] == "true"
    assert "access-control-allow-private-network" not in preflight(client, EXTENSION).headers


def test_the_extension_reads_answers_and_refusals():
    app = create_app(analyzer=NeverReached(), access=Access(token=TOKEN, rate_limit=2))
    with TestClient(app) as fresh:
        auth = {"Origin": EXTENSION, "Authorization": f"Bearer {TOKEN}"}
        granted = fresh.get(TAXONOMY, headers=auth)
        assert granted.status_code == 200 and granted.headers["access-control-allow-origin"] == EXTENSION
        assert "Retry-After" in granted.headers["access-control-expose-headers"]
        assert "Origin" in granted.headers["vary"]
        # Refusals by the token check, the rate limit and the body cap carry the grant, so the
        # extension can show their message; the rules themselves are unchanged.
        no_token = fresh.post(ANALYZE, json={"text": "A title\n\nA paragraph."}, headers={"Origin": EXTENSION})
        assert no_token.status_code == 401 and no_token.headers["access-control-allow-origin"] == EXTENSION
        limited = fresh.get(TAXONOMY, headers=auth)
        assert limited.status_code == 429 and limited.headers["access-control-allow-origin"] == EXTENSION
        assert "Retry-After" in limited.headers
    with TestClient(create_app(analyzer=NeverReached())) as local:
        huge = local.post(
            ANALYZE,
            content=b"x" * (MAX_BYTES + 1),
            headers={"Origin": EXTENSION, "Content-Type": "application/json"},
        )
        assert huge.status_code == 413 and huge.headers["access-control-allow-origin"] == EXTENSION


@pytest.mark.parametrize("origin", [STRANGER, "null", f"{EXTENSION}.evil.example", "chrome-extension://" + "a" * 32])
def test_an_origin_that_is_not_allowed_gets_no_grant(client, origin):
    answer = client.get(TAXONOMY, headers={"Origin": origin, "Authorization": f"Bearer {TOKEN.upper()}"})
    assert answer.status_code == 401  # answered as any other caller is
    assert cors_headers(answer) == {}


def test_same_origin_and_non_browser_calls_are_unchanged():
    with TestClient(create_app(analyzer=NeverReached())) as local:
        answer = local.get(TAXONOMY)
        assert answer.status_code == 200 and cors_headers(answer) == {}
        # An OPTIONS call that is not a preflight goes to the app, as before.
        assert local.options(TAXONOMY, headers={"Origin": STRANGER}).status_code == 405


@pytest.mark.parametrize(
    ("given", "origin"),
    [
        ("HTTP://LocalHost:3000/", "http://localhost:3000"),
        (
            " moz-extension://3F2A9C1E-5B7D-4E8F-A1C2-0D9E8F7A6B5C ",
            "moz-extension://3f2a9c1e-5b7d-4e8f-a1c2-0d9e8f7a6b5c",
        ),
        ("https://[::1]:8443", "https://[::1]:8443"),
        ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
    ],
)
def test_origins_are_read_as_browsers_send_them(given, origin):
    assert check_origin(given) == origin


@pytest.mark.parametrize(
    ("origin", "says"),
    [
        ("*", "wildcard"),
        ("https://*.example.org", "wildcard"),
        ("example.org", "scheme://host[:port]"),
        ("https://example.org/articles", "nothing after it"),
        ("https://example.org?x=1", "scheme://host[:port]"),
        ("https://user@example.org", "scheme://host[:port]"),
        ("null", "scheme://host[:port]"),
        ("", "scheme://host[:port]"),
        ("http://localhost:0", "between 1 and 65535"),
        ("http://localhost:70000", "between 1 and 65535"),
    ],
)
def test_a_bad_origin_is_refused_clearly(origin, says):
    with pytest.raises(InputError, match=None) as refused:
        check_origin(origin)
    assert says in str(refused.value)
    with pytest.raises(InputError):
        create_app(analyzer=NeverReached(), allow_origins=[origin])


runner = CliRunner()


@pytest.fixture
def served(monkeypatch) -> list[dict]:
    """What ``spinscope serve`` hands to the server, instead of serving."""
    calls: list[dict] = []
    monkeypatch.setattr(api, "serve", lambda *args, **kwargs: calls.append(kwargs))
    return calls


def test_serve_passes_the_listed_origins_on(served):
    result = runner.invoke(
        cli.app, ["serve", "--allow-origin", LISTED.upper(), "--allow-origin", "http://localhost:3000"]
    )
    assert result.exit_code == 0, result.output
    assert served[0]["allow_origins"] == (LISTED, "http://localhost:3000")
    assert runner.invoke(cli.app, ["serve"]).exit_code == 0
    assert served[1]["allow_origins"] == ()  # only the extension's own origin


@pytest.mark.parametrize("origin", ["*", "https://example.org/page"])
def test_serve_refuses_a_bad_origin_before_serving(served, origin):
    result = runner.invoke(cli.app, ["serve", "--allow-origin", origin])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "origin" in result.output and not served


def test_an_unexpected_error_is_answered_to_the_extension_and_still_raised():
    """Starlette answers a bug outside the middlewares; the extension must still read that answer."""
    with TestClient(create_app(analyzer=Broken()), raise_server_exceptions=False) as local:
        text = {"text": "A title\n\nA paragraph about the harbour."}
        answer = local.post(ANALYZE, json=text, headers={"Origin": EXTENSION})
        assert answer.status_code == 500 and answer.headers["access-control-allow-origin"] == EXTENSION
        assert "Internal error" in answer.json()["error"]
        assert cors_headers(local.post(ANALYZE, json=text, headers={"Origin": STRANGER})) == {}
    with TestClient(create_app(analyzer=Broken())) as local, pytest.raises(ValueError, match="a bug in a model"):
        local.post(ANALYZE, json=text, headers={"Origin": EXTENSION})  # the server still sees (and logs) it
