"""How long-running work reports progress: a callback that the shells turn into a progress bar."""

from __future__ import annotations

from collections.abc import Callable

#: ``progress(stage, done, total)``: ``done`` of the ``total`` items of ``stage`` are finished
#: (``total`` is 0 while unknown). Stages are short descriptions such as ``"fr/dev genre"``.
Progress = Callable[[str, int, int], None]


class Counter:
    """Counts the items of one stage and reports each step to ``progress`` (which may be ``None``)."""

    def __init__(self, progress: Progress | None, stage: str, total: int = 0):
        self.progress, self.stage, self.total, self.done = progress, stage, total, 0
        self.advance(0)

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.progress:
            self.progress(self.stage, self.done, max(self.total, self.done) if self.total else 0)
