"""Repeated work is free, and load is refused rather than queued without end: the cache of
analyses (:mod:`spinscope.pipeline.cache`), the analysis queue and time limit of the API
(:mod:`spinscope.shells.api.service`) and ``GET /metrics``.

The API tests use stand-in analyzers that count their calls and can be held in the middle of an
analysis, so that a full queue or a time limit is reached on purpose, in milliseconds. Every
article here is invented for these tests.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():  # Starlette's note about httpx2 is not about this project
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from spinscope.analysis import Analysis
from spinscope.errors import ConfigError, NoArticleError
from spinscope.pipeline.cache import ENTRY_OVERHEAD, AnalysisCache, analysis_key
from spinscope.shells.api import create_app
from spinscope.shells.api.service import ServiceLimits

ARTICLE = "Harbour Fees Rise Again\n\nThe port authority raised mooring fees for the third time this year.\n"


def article(number: int) -> str:
    return ARTICLE.replace("Again", f"Again ({number})", 1)


class Counting:
    """A stand-in analyzer: an empty but valid Analysis, and the texts it was asked to analyse.

    ``gate``, when set, holds every analysis until it is opened; ``started`` is set when one
    begins.
    """

    model_info = {"stand-in": {"version": "1"}}

    def __init__(self, gate: threading.Event | None = None):
        self.texts: list[str] = []
        self.gate = gate
        self.started = threading.Event()

    def analyze(self, article):
        self.texts.append(article.text)
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(10), "the test never opened the gate"
        return Analysis(article)


def post(client, text: str, **fields):
    return client.post("/api/v1/analyze", json={"text": text, "lang": "en", **fields})


def in_thread(function, *args, **kwargs) -> tuple[threading.Thread, list]:
    """Run ``function`` in a thread; its result lands in the returned list."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(function(*args, **kwargs)), daemon=True)
    thread.start()
    return thread, result


def metric(text: str, name: str, **labels) -> float:
    """The value of the sample ``name{labels}`` in a Prometheus text exposition."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if match and match[1] == name:
            found = dict(re.findall(r'(\w+)="([^"]*)"', match[2] or ""))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(match[3])
    raise AssertionError(f"no sample {name} {labels} in the metrics")


# --- the cache itself -------------------------------------------------------------------------


def an_analysis(text: str, size: int = 0) -> dict:
    return {"text": text, "id": "", "padding": "x" * size, "scores": {"a": 0.1234567890123, "b": float("1e-300")}}


def test_a_cached_analysis_reads_back_identical_and_as_a_new_object():
    cache = AnalysisCache()
    stored = an_analysis("Wörter, 漢字 and a lone \ud800 surrogate")
    cache.put("k", stored)
    first = cache.get("k")
    assert first == stored and json.dumps(first) == json.dumps(stored)
    first["text"] = "changed by the caller"
    assert cache.get("k") == stored


def test_the_cache_counts_hits_misses_and_evictions_and_drops_the_least_recently_used():
    cache = AnalysisCache(max_entries=2)
    cache.put("a", an_analysis("A"))
    cache.put("b", an_analysis("B"))
    assert cache.get("a") is not None  # "a" is now more recent than "b"
    cache.put("c", an_analysis("C"))
    assert "b" not in cache and "a" in cache and "c" in cache
    assert cache.get("b") is None
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.evictions, stats.entries) == (1, 1, 1, 2)
    assert stats.hit_rate == 0.5


def test_the_cache_stays_within_its_bytes():
    size = len(json.dumps(an_analysis("t", 1000), separators=(",", ":"))) + ENTRY_OVERHEAD
    cache = AnalysisCache(max_entries=100, max_bytes=5 * size)
    for i in range(20):
        cache.put(str(i), an_analysis("t", 1000))
        assert cache.stats().bytes <= 5 * size
    assert len(cache) == 5 and cache.stats().bytes == 5 * size and cache.stats().evictions == 15
    assert not cache.put("huge", an_analysis("t", 5 * size))  # over a quarter of the bound: not kept
    assert "huge" not in cache and len(cache) == 5


@pytest.mark.parametrize("bounds", [{"max_entries": 0}, {"max_bytes": 0}])
def test_a_cache_of_size_zero_keeps_nothing(bounds):
    cache = AnalysisCache(**bounds)
    assert not cache.put("a", an_analysis("A"))
    assert cache.get("a") is None and len(cache) == 0


def test_a_negative_bound_is_refused():
    with pytest.raises(ConfigError, match="0 or more"):
        AnalysisCache(max_entries=-1)


def test_the_key_follows_the_text_the_models_and_the_options():
    key = analysis_key("Title\n\nBody.", "v1", language="en")
    assert key == analysis_key("Title\n\nBody.", "v1", language="en")
    others = [
        analysis_key("Title\n\nBody!", "v1", language="en"),
        analysis_key("Title\n\nBody.", "v2", language="en"),
        analysis_key("Title\n\nBody.", "v1", language="fr"),
        analysis_key("Title\n\nBody.", "v1", language=None),
    ]
    assert len({key, *others}) == 5


def test_the_cache_is_consistent_under_threads():
    cache = AnalysisCache(max_entries=50, max_bytes=10**9)

    def work(offset: int) -> None:
        for i in range(400):
            key = str((offset * 7 + i) % 120)
            if cache.get(key) is None:
                cache.put(key, an_analysis(key, i % 50))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = cache.stats()
    assert stats.hits + stats.misses == 8 * 400
    assert stats.entries == len(cache) <= 50
    expected = sum(
        len(json.dumps(cache.get(k), separators=(",", ":"))) + ENTRY_OVERHEAD
        for k in map(str, range(120))
        if k in cache
    )
    assert stats.bytes == expected


# --- the API: repeated work is free -----------------------------------------------------------


def test_the_same_article_is_analysed_once_and_answered_identically():
    analyzer = Counting()
    with TestClient(create_app(analyzer=analyzer)) as client:
        first, second = post(client, ARTICLE), post(client, ARTICLE)
        assert first.status_code == second.status_code == 200
        assert second.content == first.content
        post(client, ARTICLE, lang="fr")  # another language: another analysis
    assert analyzer.texts == [ARTICLE, ARTICLE]


def test_every_analysis_route_shares_the_cache():
    analyzer = Counting()
    with TestClient(create_app(analyzer=analyzer)) as client:
        sent = post(client, ARTICLE).json()
        uploaded = client.post(
            "/api/v1/analyze/file", files={"file": ("harbour.txt", ARTICLE.encode())}, data={"lang": "en"}
        ).json()
    assert analyzer.texts == [ARTICLE]
    assert uploaded["id"] == "harbour" and sent["id"] == ""  # each answer keeps its own name
    assert uploaded | {"id": ""} == sent


def test_failed_analyses_are_not_kept():
    class Failing(Counting):
        def analyze(self, article):
            self.texts.append(article.text)
            raise NoArticleError("the stand-in found no article")

    analyzer = Failing()
    with TestClient(create_app(analyzer=analyzer)) as client:
        assert [post(client, ARTICLE).status_code for _ in range(2)] == [422, 422]
    assert len(analyzer.texts) == 2


def test_requests_for_an_article_under_analysis_wait_for_that_analysis():
    gate = threading.Event()
    analyzer = Counting(gate)
    with TestClient(create_app(analyzer=analyzer, limits=ServiceLimits(queue=0))) as client:
        first = in_thread(post, client, ARTICLE)
        assert analyzer.started.wait(10)
        others = [in_thread(post, client, ARTICLE) for _ in range(4)]
        time.sleep(0.3)  # the four are waiting on the first one's analysis, not refused
        gate.set()
        answers = []
        for thread, result in [first, *others]:
            thread.join(10)
            answers.append(result[0])
    assert [a.status_code for a in answers] == [200] * 5
    assert len({a.content for a in answers}) == 1
    assert analyzer.texts == [ARTICLE]


# --- the API: backpressure ----------------------------------------------------------------------


def test_a_full_queue_is_refused_at_once_with_retry_after():
    gate = threading.Event()
    analyzer = Counting(gate)
    with TestClient(create_app(analyzer=analyzer, limits=ServiceLimits(queue=1))) as client:
        gate.set()
        post(client, article(0))  # analysed and cached
        gate.clear()
        analyzer.started.clear()
        try:
            running = in_thread(post, client, article(1))
            assert analyzer.started.wait(10)
            waiting = in_thread(post, client, article(2))
            deadline = time.monotonic() + 10
            while client.app.state.service.stats().queued < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            begin = time.monotonic()
            refused = post(client, article(3))
            assert time.monotonic() - begin < 2  # refused at once, not after the analyses ahead
            cached = post(client, article(0))  # a cached article is still answered
            # A page to fetch is refused before the fetch (a loopback address would be a 403 after it).
            page = client.post("/api/v1/analyze", json={"url": "http://127.0.0.1:9/article"})
        finally:
            gate.set()
        for thread, _ in (running, waiting):
            thread.join(10)
        assert [running[1][0].status_code, waiting[1][0].status_code] == [200, 200]
        text = client.get("/metrics").text
    assert refused.status_code == 503, refused.text
    assert int(refused.headers["retry-after"]) >= 1
    assert "busy" in refused.json()["error"] and refused.json()["error"].endswith(".")
    assert cached.status_code == 200
    assert page.status_code == 503 and "busy" in page.json()["error"]
    assert article(3) not in analyzer.texts
    assert metric(text, "spinscope_refused_total", reason="queue_full") == 2
    assert metric(text, "spinscope_requests_total", route="/api/v1/analyze", method="POST", status="503") == 2


def test_an_analysis_past_the_time_limit_is_refused_and_kept_for_the_next_ask():
    gate = threading.Event()
    analyzer = Counting(gate)
    with TestClient(create_app(analyzer=analyzer, limits=ServiceLimits(time_limit=0.3))) as client:
        begin = time.monotonic()
        late = post(client, ARTICLE)
        waited = time.monotonic() - begin
        gate.set()
        deadline = time.monotonic() + 10
        while client.app.state.service.stats().queued and time.monotonic() < deadline:
            time.sleep(0.01)
        again = post(client, ARTICLE)
        text = client.get("/metrics").text
    assert late.status_code == 503 and 0.3 <= waited < 5
    assert "0.3 seconds" in late.json()["error"] and int(late.headers["retry-after"]) >= 1
    assert again.status_code == 200 and analyzer.texts == [ARTICLE]
    assert metric(text, "spinscope_refused_total", reason="time_limit") == 1


def test_the_limits_are_checked():
    with pytest.raises(ConfigError):
        ServiceLimits(queue=-1)
    with pytest.raises(ConfigError):
        ServiceLimits(time_limit=0)


# --- metrics ------------------------------------------------------------------------------------


def test_metrics_show_requests_latency_errors_and_the_cache():
    with TestClient(create_app(analyzer=Counting())) as client:
        for _ in range(3):
            post(client, ARTICLE)
        post(client, article(1))
        client.post("/api/v1/analyze", json={"text": 5})
        client.get("/no/such/page/1234")
        response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert metric(text, "spinscope_cache_hits_total") == 2
    assert metric(text, "spinscope_cache_misses_total") == 2
    assert metric(text, "spinscope_cache_hit_ratio") == 0.5
    assert metric(text, "spinscope_cache_entries") == 2 and metric(text, "spinscope_cache_bytes") > 0
    assert metric(text, "spinscope_analyses_total") == 2
    assert metric(text, "spinscope_queue_depth") == 0 and metric(text, "spinscope_queue_limit") == 16
    assert metric(text, "spinscope_requests_total", route="/api/v1/analyze", method="POST", status="200") == 4
    assert metric(text, "spinscope_request_errors_total", route="/api/v1/analyze", status="422") == 1
    assert metric(text, "spinscope_request_duration_seconds_count", route="/api/v1/analyze") == 5
    assert metric(text, "spinscope_request_duration_seconds_bucket", route="/api/v1/analyze", le="+Inf") == 5
    assert metric(text, "spinscope_requests_total", route="unmatched", method="GET", status="404") == 1
    assert "1234" not in text  # a raw path never becomes a label


def test_each_app_counts_on_its_own():
    with TestClient(create_app(analyzer=Counting())) as first, TestClient(create_app(analyzer=Counting())) as second:
        post(first, ARTICLE)
        post(first, ARTICLE)
        assert metric(first.get("/metrics").text, "spinscope_cache_hits_total") == 1
        assert metric(second.get("/metrics").text, "spinscope_cache_hits_total") == 0


# --- memory over a long run -----------------------------------------------------------------------


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the resident memory from /proc")
def test_memory_stays_flat_over_many_repeated_and_fresh_requests():
    """800 requests of 40 kB articles, one in two new: the cache fills to its bound, then
    evicts. Unbounded, it grows by 8 MiB over the measured second half of the run."""
    body = "\n".join(f"Paragraph {i} of an article long enough to weigh on memory." for i in range(660))

    class Tallying(Counting):
        def analyze(self, article):
            self.texts.append("")  # not the text: this list must not grow by 40 kB a request
            return Analysis(article)

    analyzer = Tallying()
    limits = ServiceLimits(cache_entries=100, cache_bytes=4 * 2**20)
    with TestClient(create_app(analyzer=analyzer, limits=limits)) as client:
        for i in range(800):
            number = i if i % 2 else i % 40  # one in two fresh, the others from 20 seen before
            assert post(client, f"Title {number}\n\n{body}").status_code == 200
            if i == 399:
                halfway = rss_mib()
        grown = rss_mib() - halfway
        stats = client.app.state.service.stats()
    assert stats.cache.entries <= 100 and stats.cache.bytes <= 4 * 2**20 and stats.cache.evictions > 0
    assert stats.queued == 0
    assert len(analyzer.texts) == 420  # 400 fresh, the 20 repeated ones once each
    assert grown < 4, f"resident memory grew by {grown:.1f} MiB over the second half"
