"""Who may call the API and how often: the API token, the loopback rule and the per-client rate limit.

A server on a loopback address is reachable from this machine only, so it needs no token (one
can still be asked for) and has no rate limit unless one is asked for, so that its load figures
hold. Any other address shares the API with a network: it needs a token, and each client
address gets a token bucket. Here are the rules; :mod:`.middleware` answers with them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from ...errors import ConfigError

#: Requests a minute per client address on a shared server when no limit is given: a reader
#: analysing an article every few seconds never meets it, a script hammering the encoder does.
SHARED_RATE_LIMIT = 60
#: Client addresses whose buckets are kept; the longest idle is forgotten first, so the memory
#: stays bounded whatever the number of addresses (a forgotten client starts with a full bucket).
MAX_CLIENTS = 10_000


@dataclass(frozen=True)
class Access:
    """The access rules of one server: the token every API call must carry (``None``: none),
    and the requests a minute each client address may make (``None``: no limit)."""

    token: str | None = field(default=None, repr=False)  # never in a log or a traceback
    rate_limit: int | None = None

    def __post_init__(self) -> None:
        if self.token is not None and not valid_token(self.token):
            raise ConfigError(
                "the API token must be printable ASCII without spaces (a header carries it), "
                "for instance the output of secrets.token_urlsafe()"
            )
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ConfigError(f"the rate limit must be at least one request a minute, not {self.rate_limit}")


def valid_token(token: str) -> bool:
    """Whether ``token`` can travel in an ``Authorization: Bearer`` header unchanged."""
    return bool(token) and all("!" <= char <= "~" for char in token)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address to listen on) is reachable from this machine only.

    Host names other than ``localhost`` are not resolved: what they resolve to can change, so
    they count as shared.
    """
    name = host.strip().strip("[]").lower().removesuffix(".")
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def access_for(host: str, token: str | None = None, rate_limit: int | None = None) -> Access:
    """The access rules of a server listening on ``host``.

    ``token`` is required on any address but loopback (an empty one counts as none);
    ``rate_limit`` is requests a minute per client address: ``None`` gives
    :data:`SHARED_RATE_LIMIT` on a shared address and no limit on loopback, ``0`` no limit.
    """
    token = token or None
    loopback = is_loopback(host)
    if token is None and not loopback:
        raise ConfigError(
            f"serving on {host}, which other machines can reach, needs an API token for clients to send; "
            "give one, or serve on 127.0.0.1"
        )
    if rate_limit is None:
        rate_limit = None if loopback else SHARED_RATE_LIMIT
    return Access(token=token, rate_limit=rate_limit or None)


def token_matches(expected: str, given: bytes) -> bool:
    """Whether ``given`` is the token, in a time that depends on neither (their digests are compared)."""
    return hmac.compare_digest(hashlib.sha256(expected.encode()).digest(), hashlib.sha256(given).digest())


def bearer_token(authorization: bytes | None) -> bytes | None:
    """The token of an ``Authorization: Bearer <token>`` header value; ``None`` for any other."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(b" ")
    token = token.strip()
    return token if scheme.lower() == b"bearer" and token else None


class RateLimiter:
    """A token bucket per client: ``per_minute`` requests a minute, in bursts of up to ``per_minute``.

    Meant for one event loop: :meth:`wait` never awaits, so no two requests interleave in it.
    """

    def __init__(
        self, per_minute: int, max_clients: int = MAX_CLIENTS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_minute = per_minute
        self.capacity = float(per_minute)
        self.per_second = per_minute / 60
        self.max_clients = max_clients
        self.clock = clock
        # client -> (tokens left, when they were counted); the most recently seen last.
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def wait(self, client: str) -> int:
        """Take one request from ``client``'s bucket: 0 when it may go, else the whole seconds
        until it may (its request is then not counted)."""
        now = self.clock()
        tokens, then = self.buckets.pop(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - then) * self.per_second)
        wait = 0
        if tokens >= 1 - 1e-9:  # 1e-9: a client who waited exactly as told is not turned away by rounding
            tokens = max(0.0, tokens - 1)
        else:
            wait = max(1, math.ceil((1 - tokens) / self.per_second))
        self.buckets[client] = (tokens, now)
        while len(self.buckets) > self.max_clients:
            self.buckets.popitem(last=False)
        return wait
