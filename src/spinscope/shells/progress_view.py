"""What a long command shows on stderr while it runs: one rich bar per stage of its
:class:`~spinscope.progress.Progress` callback (on a terminal; redirected to a file or a pipe,
a line per stage now and then), and the library's warnings, one line each.

Both write to stderr so that standard output carries only a command's result (a JSON, a report).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text

from ..progress import Progress

#: Where the CLI writes everything that is not a command's result.
stderr = Console(stderr=True)


class WarningPrinter(logging.Handler):
    """Shows the library's warnings on stderr, one line each; after ``limit`` of them, only counts."""

    def __init__(self, limit: int = 20):
        super().__init__(logging.WARNING)
        self.limit, self.count = limit, 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.count <= self.limit:
            stderr.print(f"[yellow]warning:[/] {escape(record.getMessage())}", highlight=False, soft_wrap=True)

    def summary(self) -> None:
        if self.count > self.limit:
            stderr.print(f"[yellow]... and {self.count - self.limit} more warning(s)[/]")


@contextmanager
def warnings_shown(limit: int = 20) -> Iterator[None]:
    """Print the library's warnings while the block runs."""
    printer = WarningPrinter(limit)
    logger = logging.getLogger("spinscope")
    logger.addHandler(printer)
    try:
        yield
    finally:
        logger.removeHandler(printer)
        printer.summary()


class RateColumn(ProgressColumn):
    """Items per minute, averaged by rich over the last 30 seconds."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{60 * speed:,.0f}/min" if speed else "", style="progress.data.speed")


class ProgressLines:
    """A :class:`~spinscope.progress.Progress` callback for a log file: a line when a stage
    starts, at most one every ``every`` seconds while it runs, and one when it is done."""

    def __init__(self, every: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.every, self.clock = every, clock
        self.started: dict[str, float] = {}
        self.shown: dict[str, float] = {}
        self.finished: set[str] = set()

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        start = self.started.setdefault(stage, now)
        finished = bool(total) and done >= total
        if stage in self.finished or (not finished and stage in self.shown and now - self.shown[stage] < self.every):
            return
        self.shown[stage] = now
        if finished:
            self.finished.add(stage)
        of = f"{done:,}/{total:,} ({100 * done / total:.0f}%)" if total else f"{done:,}"
        stderr.print(f"{stage}: {of}, {_minutes(now - start)}", highlight=False, soft_wrap=True)


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


@contextmanager
def progress_bars(rate: bool = False) -> Iterator[Progress]:
    """A :class:`~spinscope.progress.Progress` callback drawing one rich bar per stage (with
    items per minute when ``rate``); :class:`ProgressLines` when stderr is not a terminal."""
    if not stderr.is_terminal:
        yield ProgressLines()
        return
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *([RateColumn()] if rate else []),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    bars: dict[str, TaskID] = {}
    with RichProgress(*columns, console=stderr, transient=False) as display:

        def update(stage: str, done: int, total: int) -> None:
            if stage not in bars:
                bars[stage] = display.add_task(stage, total=total or None)
            display.update(bars[stage], completed=done, total=total or None)

        yield update
