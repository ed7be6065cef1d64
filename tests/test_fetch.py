"""Tests for spinscope.io.fetch against loopback servers; nothing leaves this machine."""

from __future__ import annotations

import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from spinscope.errors import (
    FetchError,
    FetchTimeoutError,
    InvalidURLError,
    NotAPageError,
    PageTooLargeError,
    RefusedURLError,
)
from spinscope.io import fetch as fetch_mod
from spinscope.io.fetch import USER_AGENT, Fetched, check_host, fetch

HTML = "text/html; charset=utf-8"
RUSSIAN = "Съешь же ещё этих мягких французских булок, да выпей чаю. " * 5


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.seen.append((self.path, dict(self.headers)))
        self.server.routes[self.path](self)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """A loopback HTTP server; tests register ``routes[path] = handler_function``."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.routes, httpd.seen, httpd.release = {}, [], threading.Event()
    httpd.base = f"http://127.0.0.1:{httpd.server_port}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.release.set()  # let stalled handlers finish
    httpd.shutdown()
    httpd.server_close()


def reply(status=200, body=b"", ctype=HTML, length=True, stall=False, **headers):
    """Handler factory: send ``body``; ``length=False`` omits Content-Length, ``stall`` hangs after."""

    def handle(h):
        h.send_response(status)
        if ctype:
            h.send_header("Content-Type", ctype)
        if length is not False:
            h.send_header("Content-Length", str(len(body) if length is True else length))
        for name, value in headers.items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()
        if stall:
            h.server.release.wait(10)
        h.close_connection = True

    return handle


def get(url, **kw):
    """fetch() with short timeouts, allowed to reach the loopback test server by default."""
    kw = {"connect_timeout": 2.0, "read_timeout": 2.0, "allow_private": True, **kw}
    return fetch(url, **kw)


def fail(url, kind, **kw):
    """Assert that fetching ``url`` fails with exactly the error class ``kind`` and return the error."""
    with pytest.raises(FetchError) as info:
        get(url, **kw)
    assert type(info.value) is kind, info.value
    return info.value


@pytest.fixture
def fake_dns(monkeypatch):
    """Map made-up host names to address lists; other names use the real resolver."""
    table: dict[str, list[list[str]]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in table:
            return real(host, port, *args, **kwargs)
        answers = table[host]
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port or 0))
            for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


def test_fetches_page_with_user_agent_and_host_header(server):
    server.routes["/a"] = reply(body="<p>Привет</p>".encode())
    result = get(server.base + "/a")
    assert result == Fetched(url=server.base + "/a", content_type="text/html", text="<p>Привет</p>")
    headers = server.seen[0][1]
    assert headers["User-Agent"] == USER_AGENT
    assert headers["Host"] == server.base.removeprefix("http://")


@pytest.mark.parametrize(
    "url",
    [
        "",
        "file:///etc/passwd",
        "ftp://example.com/a",
        "javascript:alert(1)",
        "example.com/a",
        "http://",
        "http:///path",
        "http://[::1/",
    ],
)
def test_rejects_bad_urls(url):
    error = fail(url, InvalidURLError, allow_private=False)
    assert isinstance(error, ValueError) and "http" in str(error)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[2002:7f00:1::]/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
    ],
)
def test_refuses_non_public_addresses(url):
    fail(url, RefusedURLError, allow_private=False)


def test_refuses_host_when_any_address_is_private(fake_dns):
    fake_dns["mixed.test"] = [["93.184.216.34", "10.0.0.7"]]
    fake_dns["public.test"] = [["93.184.216.34", "2606:2800:220:1::1"]]
    fail("http://mixed.test/", RefusedURLError, allow_private=False)
    assert check_host("public.test") == [
        ipaddress.ip_address("93.184.216.34"),
        ipaddress.ip_address("2606:2800:220:1::1"),
    ]


def test_unresolvable_host_is_upstream_error(monkeypatch):
    def no_answer(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_answer)
    fail("http://nowhere.test/", FetchError)


def test_connects_to_the_checked_address_despite_rebinding(server, fake_dns):
    # First answer is the loopback server; any later lookup would get an unreachable address.
    fake_dns["article.test"] = [["127.0.0.1"], ["203.0.113.9"]]
    server.routes["/a"] = reply(body=b"ok", ctype="text/plain")
    url = f"http://article.test:{server.server_port}/a"
    assert get(url) == Fetched(url=url, content_type="text/plain", text="ok")
    assert server.seen[0][1]["Host"] == f"article.test:{server.server_port}"


def test_follows_redirects_and_reports_final_url(server):
    server.routes["/a"] = reply(302, Location="/b")
    server.routes["/b"] = reply(301, Location=server.base + "/c")
    server.routes["/c"] = reply(body=b"done")
    result = get(server.base + "/a")
    assert (result.url, result.text) == (server.base + "/c", "done")


@pytest.mark.parametrize(
    "target, kind",
    [
        ("http://127.0.0.1:{port}/secret", RefusedURLError),
        ("http://[::ffff:127.0.0.1]:{port}/secret", RefusedURLError),
        ("http://internal.test:{port}/secret", RefusedURLError),
        ("file:///etc/passwd", InvalidURLError),
    ],
)
def test_public_page_redirecting_to_private_is_refused(server, fake_dns, monkeypatch, target, kind):
    # "public.test" passes the check (as a real public host would) but is served from loopback;
    # every other host goes through the real check with allow_private=False.
    fake_dns["internal.test"] = [["10.0.0.5"]]
    real_check = fetch_mod.check_host

    def check(host, allow_private=False):
        return [ipaddress.ip_address("127.0.0.1")] if host == "public.test" else real_check(host, allow_private)

    monkeypatch.setattr(fetch_mod, "check_host", check)
    server.routes["/go"] = reply(302, Location=target.format(port=server.server_port))
    server.routes["/secret"] = reply(body=b"secret")
    fail(f"http://public.test:{server.server_port}/go", kind, allow_private=False)
    assert [path for path, _ in server.seen] == ["/go"]


def test_redirect_limit_and_missing_location(server):
    server.routes["/loop"] = reply(302, Location="/loop")
    server.routes["/nowhere"] = reply(302)
    assert "3 times" in str(fail(server.base + "/loop", FetchError, max_redirects=3))
    assert len(server.seen) == 4
    fail(server.base + "/nowhere", FetchError)


def test_non_2xx_status_is_upstream_error(server):
    server.routes["/gone"] = reply(404, b"not here")
    assert "404" in str(fail(server.base + "/gone", FetchError))


@pytest.mark.parametrize("ctype", ["application/json", "image/png", "application/pdf", None])
def test_refuses_non_text_content_types(server, ctype):
    server.routes["/x"] = reply(body=b"{}", ctype=ctype)
    fail(server.base + "/x", NotAPageError)


@pytest.mark.parametrize("ctype", ["TEXT/HTML; charset=utf-8", "application/xhtml+xml", "text/plain"])
def test_accepts_text_content_types(server, ctype):
    server.routes["/x"] = reply(body=b"hi", ctype=ctype)
    assert get(server.base + "/x").text == "hi"


def test_refuses_large_content_length_without_reading_body(server):
    # Claims 1 GB then stalls: reading the body would end in a timeout, not a 413.
    server.routes["/big"] = reply(body=b"x" * 100, length=10**9, stall=True)
    fail(server.base + "/big", PageTooLargeError, max_bytes=1000)


def test_cuts_streamed_body_at_cap(server):
    # No Content-Length; sends just over the cap then stalls, so only a streaming cap gives 413.
    server.routes["/big"] = reply(body=b"x" * 1001, length=False, stall=True)
    server.routes["/fits"] = reply(body=b"x" * 1000, length=False)
    fail(server.base + "/big", PageTooLargeError, max_bytes=1000)
    assert len(get(server.base + "/fits", max_bytes=1000).text) == 1000


def test_read_timeouts(server):
    def silent(h):
        h.server.release.wait(10)

    server.routes["/silent"] = silent
    server.routes["/drip"] = reply(body=b"partial", length=100, stall=True)
    fail(server.base + "/silent", FetchTimeoutError, read_timeout=0.3)
    fail(server.base + "/drip", FetchTimeoutError, read_timeout=0.3)


def test_connect_timeout():
    # A listener whose accept queue is full and never drained: new SYNs go unanswered.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(3):
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
                fillers.append(filler)
            fail(f"http://127.0.0.1:{port}/", FetchTimeoutError, connect_timeout=0.3, read_timeout=0.3)
        finally:
            for filler in fillers:
                filler.close()


@pytest.mark.parametrize(
    "body, ctype, expected",
    [
        ("café".encode("latin-1"), "text/plain; charset=latin-1", "café"),
        ("naïve café".encode(), "text/plain; charset=bogus-charset", "naïve café"),
        (RUSSIAN.encode("cp1251"), "text/plain", RUSSIAN),
        (b"ok \xff\xfe\xfa", "text/plain; charset=utf-8", "ok \ufffd\ufffd\ufffd"),
    ],
)
def test_decodes_body(server, body, ctype, expected):
    server.routes["/t"] = reply(body=body, ctype=ctype)
    assert get(server.base + "/t").text == expected
