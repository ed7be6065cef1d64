"""Safe download of one news article by URL, for the CLI and the web API.

Only public http(s) addresses are fetched: every hop (including each redirect) is
resolved, every resolved address must be globally routable, and the connection is
made to the exact address that was checked, so a second DNS answer cannot swap in
an internal host (DNS rebinding). Bodies are streamed and capped, timeouts are
bounded and only textual content types are accepted.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import charset_normalizer
import httpx

from ..errors import FetchError, FetchTimeoutError, InvalidURLError, NotAPageError, PageTooLargeError, RefusedURLError

USER_AGENT = "spinscope/0.1 (+article analysis)"
ALLOWED_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Fetched:
    url: str  # final URL after redirects
    content_type: str  # e.g. "text/html"
    text: str  # decoded body


def is_public(ip: IPAddress) -> bool:
    """True only for globally routable unicast addresses (IPv4 inside IPv6 is unwrapped)."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return is_public(embedded)
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


def check_host(host: str, allow_private: bool = False) -> list[IPAddress]:
    """Resolve ``host``; refuse it (:class:`RefusedURLError`) unless every address is public or ``allow_private``.

    Numeric spellings such as ``2130706433`` or ``0x7f.1`` are resolved by the system
    resolver to the address they denote, so they are checked like any other host.
    """
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"Could not resolve host {host!r}; check the URL.") from exc
    ips = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not ips:
        raise FetchError(f"Could not resolve host {host!r}; check the URL.")
    if not allow_private:
        for ip in ips:
            if not is_public(ip):
                raise RefusedURLError(
                    f"Refusing to fetch {host!r}: it resolves to the non-public address {ip}; use a public URL."
                )
    return ips


def _parse(url: str | httpx.URL) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
        host = parsed.host  # decodes the IDNA name: a malformed "xn--" label raises here
    except (httpx.InvalidURL, TypeError, UnicodeError) as exc:  # UnicodeError: also a lone surrogate
        raise InvalidURLError(f"Invalid URL {str(url)!r}; give a full http:// or https:// URL.") from exc
    if parsed.scheme not in ("http", "https") or not host:
        raise InvalidURLError(f"Unsupported URL {str(url)!r}; give a full http:// or https:// URL.")
    return parsed


def _decode(body: bytes, charset: str | None) -> str:
    if charset:
        try:
            return body.decode(charset, errors="replace")
        except (LookupError, ValueError):
            # An unknown name, or one the site chose to break us: idna, punycode and undefined
            # raise UnicodeError whatever the error handler, a NUL in the name a ValueError.
            pass  # fall back to detection
    best = charset_normalizer.from_bytes(body).best() if body else None
    return str(best) if best is not None else body.decode("utf-8", errors="replace")


def _declares_more(content_length: str, max_bytes: int) -> bool:
    """Whether a Content-Length header declares more than ``max_bytes``; a malformed one (a
    sign, "²", thousands of digits) declares nothing, and the body is counted as it comes."""
    digits = content_length.strip()
    return digits.isascii() and digits.isdigit() and (len(digits) > 18 or int(digits) > max_bytes)


def _get_once(client: httpx.Client, url: httpx.URL, ip: IPAddress, max_bytes: int) -> httpx.URL | tuple[str, str]:
    """GET ``url`` from ``ip``; return the redirect target, or (content type, text)."""
    request = client.build_request(
        "GET",
        url.copy_with(host=str(ip)),  # connect to the checked address, not a fresh lookup
        headers={"Host": url.netloc.decode("ascii")},
        extensions={"sni_hostname": url.raw_host.decode("ascii")},  # SNI + cert check use the name
    )
    try:
        response = client.send(request, stream=True)
    except ValueError as exc:
        # httpx prepares a redirect's next request even when not following it, and urllib
        # refuses some Locations ("Invalid IPv6 URL"): the site's answer, not our error.
        raise FetchError(f"{url} sent an answer that cannot be read ({exc}); try another URL.") from exc
    try:
        if response.status_code in REDIRECT_CODES:
            location = response.headers.get("location")
            if not location:
                raise FetchError(f"{url} sent a redirect without a Location; try another URL.")
            try:
                return url.join(location)
            except (httpx.InvalidURL, ValueError) as exc:  # ValueError: urllib's, e.g. "Invalid IPv6 URL"
                raise FetchError(f"{url} redirected to an invalid URL; try another URL.") from exc
        if not 200 <= response.status_code < 300:
            raise FetchError(f"The site answered HTTP {response.status_code} for {url}; check the URL or try later.")
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in ALLOWED_TYPES:
            raise NotAPageError(
                f"{url} is {content_type or 'of unknown type'}, not an HTML or text article;"
                " give the URL of a web page."
            )
        too_large = PageTooLargeError(f"{url} is larger than {max_bytes} bytes; give a smaller page.")
        if _declares_more(response.headers.get("content-length", ""), max_bytes):
            raise too_large
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise too_large
        return content_type, _decode(bytes(body), response.charset_encoding)
    finally:
        response.close()


def fetch(
    url: str,
    *,
    max_bytes: int = 5_000_000,
    connect_timeout: float = 5.0,
    read_timeout: float = 15.0,
    max_redirects: int = 5,
    allow_private: bool = False,
) -> Fetched:
    """Download an article page, following at most ``max_redirects`` checked redirects.

    Raises a :class:`~spinscope.errors.FetchError` on any refusal, its class saying why: an invalid URL,
    a refused (non-public) host, a timeout, a page too large or not a page, or any other failure of the site.
    """
    current = _parse(url)
    timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    # trust_env=False: an environment proxy would do its own DNS lookup and bypass the check.
    # No keep-alive: a pooled connection is keyed by IP and must not serve another host name.
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(timeout=timeout, headers=headers, limits=limits, trust_env=False) as client:
        for _ in range(max_redirects + 1):
            ip = check_host(current.raw_host.decode("ascii"), allow_private)[0]
            try:
                result = _get_once(client, current, ip, max_bytes)
            except httpx.TimeoutException as exc:
                raise FetchTimeoutError(f"Timed out fetching {current}; try again later.") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"Could not fetch {current} ({exc}); try again later.") from exc
            if isinstance(result, httpx.URL):
                current = _parse(result)
                continue
            content_type, text = result
            return Fetched(url=str(current), content_type=content_type, text=text)
    raise FetchError(f"{url} redirected more than {max_redirects} times; give the final URL.")
