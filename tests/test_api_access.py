"""Sharing a server: the API token, the loopback rule and the per-client rate limit.

The app runs in-process (FastAPI's TestClient) with a stand-in analyzer that fails if it is
ever reached: a refused request must be answered before the model runs, and the calls that
are let through here (the taxonomy, the health check) need no model.
"""

from __future__ import annotations

import time
import warnings

import pytest

with warnings.catch_warnings():  # Starlette's note about httpx2 is not about this project
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from spinscope.errors import ConfigError
from spinscope.shells.api import access as access_module
from spinscope.shells.api import create_app
from spinscope.shells.api.access import Access, RateLimiter, access_for, bearer_token, is_loopback, token_matches

TOKEN = "k3P-9vQ_x7LmN2aB8cD4eF"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class NeverReached:
    model_info = {"stand-in": {"version": None}}

    def analyze(self, article):
        raise AssertionError("this request should have been refused before the model ran")


@pytest.fixture(scope="module")
def shared():
    """A server that asks for the token, without a rate limit."""
    with TestClient(create_app(analyzer=NeverReached(), access=Access(token=TOKEN))) as client:
        yield client


def refused(response, status: int) -> str:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == "application/json"
    return response.json()["error"]


# --- which servers ask for what ---------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.0.0.1 ",
        "127.4.5.6",
        "::1",
        "[::1]",
        "localhost",
        "LocalHost",
        "localhost.",
        "::ffff:127.0.0.1",
    ],
)
def test_loopback_addresses(host):
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host",
    ["0.0.0.0", "::", "192.168.1.20", "10.0.0.7", "2001:db8::1", "newsroom.example.org", "localhost.example", ""],
)
def test_shared_addresses(host):
    assert not is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "newsroom.example.org"])
@pytest.mark.parametrize("token", [None, ""])
def test_a_shared_address_needs_a_token(host, token):
    with pytest.raises(ConfigError, match=f"serving on {host}, which other machines can reach, needs an API token"):
        access_for(host, token)


def test_access_of_shared_and_loopback_servers():
    assert access_for("0.0.0.0", TOKEN) == Access(token=TOKEN, rate_limit=access_module.SHARED_RATE_LIMIT)
    assert access_for("0.0.0.0", TOKEN, rate_limit=0) == Access(token=TOKEN, rate_limit=None)
    assert access_for("0.0.0.0", TOKEN, rate_limit=5) == Access(token=TOKEN, rate_limit=5)
    assert access_for("127.0.0.1") == Access(token=None, rate_limit=None)  # the loopback load figures hold
    assert access_for("127.0.0.1", "") == Access(token=None, rate_limit=None)
    assert access_for("127.0.0.1", TOKEN) == Access(token=TOKEN, rate_limit=None)
    assert access_for("localhost", None, rate_limit=30) == Access(token=None, rate_limit=30)


def test_the_token_never_shows_in_a_repr():
    assert TOKEN not in repr(access_for("0.0.0.0", TOKEN))


@pytest.mark.parametrize("token", ["two words", "tab\there", "naïve-token", "line\nbreak"])
def test_a_token_a_header_cannot_carry_is_refused(token):
    with pytest.raises(ConfigError, match="printable ASCII without spaces"):
        access_for("0.0.0.0", token)


def test_bearer_token_is_read_from_the_header():
    assert bearer_token(b"Bearer abc") == b"abc"
    assert bearer_token(b"bearer  abc ") == b"abc"
    for header in (None, b"", b"Bearer", b"Bearer   ", b"Basic YWxhZGRpbjpvcGVu", b"abc"):
        assert bearer_token(header) is None


def test_the_token_is_compared_in_constant_time(monkeypatch):
    compared = []

    def spy(a, b):
        compared.append((len(a), len(b)))
        return real(a, b)

    real = access_module.hmac.compare_digest
    monkeypatch.setattr(access_module.hmac, "compare_digest", spy)
    assert token_matches(TOKEN, TOKEN.encode())
    for wrong in (b"", TOKEN[:-1].encode(), (TOKEN + "x").encode(), TOKEN.upper().encode()):
        assert not token_matches(TOKEN, wrong)
    # Digests of equal length whatever was sent: the time says nothing of the token's length either.
    assert compared == [(32, 32)] * 5


# --- the token over HTTP ----------------------------------------------------------------------


def test_api_calls_without_the_token_get_401(shared):
    response = shared.get("/api/v1/taxonomy")
    assert "needs an API token" in refused(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    for headers in ({"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}, {"X-Token": TOKEN}):
        assert "needs an API token" in refused(shared.get("/api/v1/taxonomy", headers=headers), 401)


def test_api_calls_with_a_wrong_token_get_401(shared):
    for wrong in ("nope", TOKEN[:-1], TOKEN + "x", TOKEN.lower()):
        response = shared.get("/api/v1/taxonomy", headers={"Authorization": f"Bearer {wrong}"})
        assert "token is wrong" in refused(response, 401)
        assert (
            response.headers["www-authenticate"].startswith("Bearer")
            and "invalid_token" in response.headers["www-authenticate"]
        )
        assert wrong not in response.text


def test_api_calls_with_the_token_are_answered(shared):
    response = shared.get("/api/v1/taxonomy", headers=AUTH)
    assert response.status_code == 200 and response.json()["techniques"]
    assert shared.get("/api/v1/taxonomy", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200


def test_analysis_is_refused_before_the_body_is_read_or_the_model_runs(shared):
    assert refused(shared.post("/api/v1/analyze", json={"text": "A title\n\nA paragraph."}), 401)
    huge = b"x" * (3 * 1024 * 1024)  # over the body cap: the 401 comes first
    assert refused(shared.post("/api/v1/analyze/file", files={"file": ("a.txt", huge)}), 401)
    # With the token, the request reaches the API's own checks (and is refused there, before the model).
    assert refused(shared.post("/api/v1/analyze", json={"txt": "a"}, headers=AUTH), 422)


@pytest.mark.parametrize(
    "path", ["/corpus", "/metrics", "/api/v1/nothing", "/api/v2/analyze", "/anything", "//api/v1/taxonomy"]
)
def test_every_other_address_needs_the_token(shared, path):
    refused(shared.get(path), 401)
    assert shared.get(path, headers=AUTH).status_code != 401


@pytest.mark.parametrize(
    "path",
    ["/health", "/", "/static/app.js", "/static/app.css", "/docs", "/openapi.json", "/docs-assets/swagger-ui.css"],
)
def test_health_the_page_and_the_docs_need_no_token(shared, path):
    assert shared.get(path).status_code == 200


def test_a_server_without_a_token_asks_for_none():
    with TestClient(create_app(analyzer=NeverReached())) as client:
        assert client.get("/api/v1/taxonomy").status_code == 200
        assert "securitySchemes" not in client.get("/openapi.json").json().get("components", {})


# --- the rate limit ---------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_refills_and_does_not_count_refused_requests():
    clock = Clock()
    limiter = RateLimiter(6, clock=clock)  # one request every 10 s, bursts of 6
    assert [limiter.wait("a") for _ in range(6)] == [0] * 6
    assert limiter.wait("a") == 10
    clock.now += 4
    assert limiter.wait("a") == 6  # the refused request above took nothing
    assert limiter.wait("b") == 0  # each client has its own bucket
    clock.now += 6
    assert limiter.wait("a") == 0
    assert limiter.wait("a") == 10
    clock.now += 3600
    assert [limiter.wait("a") for _ in range(7)] == [0] * 6 + [10]  # an idle hour refills to the burst, no more


def test_token_bucket_memory_is_bounded():
    clock = Clock()
    limiter = RateLimiter(1, max_clients=100, clock=clock)
    for n in range(10_000):
        limiter.wait(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter.buckets) == 100
    assert limiter.wait("10.0.39.15") > 0  # among the 100 most recent: still limited
    assert limiter.wait("10.0.0.1") == 0  # long forgotten: starts afresh


def test_rate_limit_gives_429_after_n_requests_and_recovers():
    per_minute = 120  # two a second: recovery takes half a second
    app = create_app(analyzer=NeverReached(), access=Access(rate_limit=per_minute))
    with TestClient(app, client=("192.0.2.10", 50000)) as client:
        started = time.monotonic()
        assert [client.get("/api/v1/taxonomy").status_code for _ in range(per_minute)] == [200] * per_minute
        refilled = 0  # what the bucket regained while those requests ran, at two a second
        while (response := client.get("/api/v1/taxonomy")).status_code == 200:
            refilled += 1
            assert refilled <= per_minute, "the rate limit never answered 429"
        assert refilled <= (time.monotonic() - started) * per_minute / 60 + 1
        assert f"at most {per_minute} a minute" in refused(response, 429)
        assert response.headers["retry-after"] == "1"
        assert client.get("/health").status_code == 200  # the health check is never limited
        assert TestClient(app, client=("192.0.2.11", 50000)).get("/api/v1/taxonomy").status_code == 200
        time.sleep(0.6)
        assert client.get("/api/v1/taxonomy").status_code == 200


def test_guesses_at_the_token_count_against_the_rate_limit():
    app = create_app(analyzer=NeverReached(), access=Access(token=TOKEN, rate_limit=5))
    with TestClient(app) as client:
        wrong = {"Authorization": "Bearer guess"}
        assert [client.get("/api/v1/taxonomy", headers=wrong).status_code for _ in range(6)] == [401] * 5 + [429]
        assert client.get("/api/v1/taxonomy", headers=AUTH).status_code == 429


def test_a_loopback_server_has_no_rate_limit_unless_asked():
    with TestClient(create_app(analyzer=NeverReached(), access=access_for("127.0.0.1"))) as client:
        assert {client.get("/api/v1/nothing").status_code for _ in range(300)} == {404}


# --- /docs ------------------------------------------------------------------------------------


def test_the_docs_show_the_token_and_the_limits():
    app = create_app(analyzer=NeverReached(), access=Access(token=TOKEN, rate_limit=60))
    with TestClient(app) as client:
        schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["APIToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["APIToken"]["description"],
    }
    for path in ("/api/v1/analyze", "/api/v1/analyze/file", "/api/v1/taxonomy"):
        for operation in schema["paths"][path].values():
            assert operation["security"] == [{"APIToken": []}]
            assert {"401", "429"} <= set(operation["responses"])
            assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
            assert "Retry-After" in operation["responses"]["429"]["headers"]
    health = schema["paths"]["/health"]["get"]
    assert "security" not in health and "401" not in health["responses"] and "429" not in health["responses"]
    assert (
        "Authorization: Bearer" in schema["info"]["description"]
        and "60 calls a minute" in schema["info"]["description"]
    )
    assert TOKEN not in str(schema)


def test_the_docs_of_an_open_server_promise_no_token_or_limit():
    with TestClient(create_app(analyzer=NeverReached())) as client:
        schema = client.get("/openapi.json").json()
    responses = [set(op["responses"]) for ops in schema["paths"].values() for op in ops.values()]
    assert all(not {"401", "429"} & codes for codes in responses)
    assert "Bearer" not in schema["info"]["description"]
