"""The :class:`AnalysisCache`: Analysis JSON kept in memory, so that an article analysed once is
answered again without running the encoder.

An entry is keyed by a hash of the article's exact text, the model version and the options that
change the analysis (the language); bounded in entries and in bytes, the least recently used
entry goes first. The article's ``id`` is not in the key: the analysis reads the text only, so
the same text sent under another name is the same entry (the caller puts its own id back).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass

from ..errors import ConfigError

#: What an entry costs beyond its JSON: the key, the OrderedDict's link and the bytes object.
ENTRY_OVERHEAD = 200


@dataclass(frozen=True)
class CacheStats:
    """What an :class:`AnalysisCache` holds and how it has been used since it was made."""

    hits: int
    misses: int
    evictions: int
    entries: int
    bytes: int
    max_entries: int
    max_bytes: int

    @property
    def hit_rate(self) -> float:
        """Hits over lookups; 0 before the first lookup."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


def analysis_key(text: str, model_version: str, **options: object) -> str:
    """The key of the analysis of ``text`` by the models of ``model_version`` with ``options``
    (such as ``language``): 64 hex digits of a SHA-256 that changes when any of them does."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass"))
    # The text's own hash first: a text cannot be crafted to collide with another's options.
    header = json.dumps({"model": model_version, "options": options}, sort_keys=True, default=str)
    return hashlib.sha256(digest.digest() + header.encode()).hexdigest()


class AnalysisCache:
    """A thread-safe LRU map from :func:`analysis_key` to an Analysis JSON object.

    Values are stored serialised: each :meth:`get` returns a new object that its caller may
    change, and the byte bound counts what the entries really hold. ``max_entries=0`` or
    ``max_bytes=0`` keeps nothing (every lookup is a miss). An entry larger than a quarter of
    ``max_bytes`` is not kept, so one huge article cannot empty the cache of many small ones.
    """

    def __init__(self, max_entries: int = 2048, max_bytes: int = 64 * 2**20):
        if max_entries < 0 or max_bytes < 0:
            raise ConfigError(
                f"the analysis cache needs sizes of 0 or more (got {max_entries} entries, {max_bytes} bytes)"
            )
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._hits = self._misses = self._evictions = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> dict | None:
        """The analysis stored under ``key`` (a fresh copy), or ``None``; counts a hit or a miss."""
        with self._lock:
            blob = self._entries.get(key)
            if blob is None:
                self._misses += 1
                return None
            self._entries.move_to_end(key)
            self._hits += 1
        return json.loads(blob.decode("utf-8", "surrogatepass"))

    def put(self, key: str, analysis: dict) -> bool:
        """Keep ``analysis`` under ``key``, evicting the least recently used entries to stay within
        both bounds; ``False`` when it is too large to keep."""
        blob = json.dumps(analysis, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
        size = len(blob) + ENTRY_OVERHEAD
        if self.max_entries == 0 or size > self.max_bytes // 4:
            return False
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old) + ENTRY_OVERHEAD
            self._entries[key] = blob
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted) + ENTRY_OVERHEAD
                self._evictions += 1
        return True

    def clear(self) -> None:
        """Drop every entry (the counts of hits, misses and evictions stay)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                self._hits,
                self._misses,
                self._evictions,
                len(self._entries),
                self._bytes,
                self.max_entries,
                self.max_bytes,
            )

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries
