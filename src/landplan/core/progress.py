r"""Progress of long work on stderr, and the logging set-up of the command line.

Library code marks its long steps with :func:`landplan.core.timing.stage`
(optionally with a count to reach) and logs with :mod:`logging`; it never
configures either.  :func:`configure` (which the command line calls) does:

- each stage is reported on stderr when it ends, one line with its count
  and duration; on a terminal a live line also shows the stage running,
  its counts, the share done and an estimate of the time left;
- landplan's loggers show warnings, with ``verbose=1`` also their INFO
  messages (the stages, counties done), with ``verbose=2`` their DEBUG
  messages; other libraries (pyogrio, fiona, rasterio ...) only their
  warnings, all their messages from ``verbose=3``;
- a message repeated word for word is shown once, and the number of its
  repetitions is reported by :func:`finish` (at exit);
- ``quiet=True`` shows errors only, and no progress.

Without :func:`configure` nothing is reported and logging is left alone.

Examples
--------
>>> import io
>>> out = io.StringIO()
>>> progress = Reporter(out, live=False, clock=iter([0.0, 2.5]).__next__)
>>> task = progress.start("slope tiles", total=4, unit="tiles")
>>> for _ in range(4):
...     task.advance()
>>> progress.end(task)
>>> out.getvalue()
'landplan: slope tiles: 4 tiles in 2.5 s\n'
"""

from __future__ import annotations

import atexit
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

__all__ = [
    "PREFIX",
    "Reporter",
    "StageProgress",
    "active_reporter",
    "configure",
    "configure_worker",
    "finish",
    "settings",
]

#: Start of every progress line.
PREFIX = "landplan: "
#: Format of log lines on stderr.
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"

_REPORTER: Reporter | None = None
_HANDLER: _StderrHandler | None = None
_SETTINGS: tuple[int, bool] | None = None
_AT_EXIT = False


@dataclass
class StageProgress:
    """A stage under way: what it counts, how far it got, when it started.

    Attributes
    ----------
    name
        The stage name.
    total
        The count the stage reaches when done, if known.
    unit
        What it counts (``"parcels"``, ``"counties"``, ``"tiles"``).
    done
        How many were done so far (:meth:`advance`).
    started
        Clock reading at the start.
    """

    name: str
    total: int | None = None
    unit: str = ""
    done: int = 0
    started: float = 0.0
    reporter: Reporter | None = field(default=None, repr=False, compare=False)

    def advance(self, n: int = 1) -> None:
        """Count *n* more done, and show it if a reporter is watching.

        Parameters
        ----------
        n
            How many more were done.
        """
        self.done += n
        if self.reporter is not None:
            self.reporter.refresh(self)

    def summary(self, seconds: float) -> str:
        """The line shown when the stage ends: name, count and duration.

        Parameters
        ----------
        seconds
            How long the stage took.

        Returns
        -------
        str
            E.g. ``"overlaps: 12,000 parcels in 1.2 s"``.

        Examples
        --------
        >>> StageProgress("merge").summary(0.04)
        'merge in 0.0 s'
        >>> StageProgress("counties", total=12, unit="counties", done=12).summary(75)
        'counties: 12 counties in 1 min 15 s'
        """
        count = self.done or self.total
        counted = f": {count:,} {self.unit}".rstrip() if count else ""
        return f"{self.name}{counted} in {_duration(seconds)}"

    def live(self, seconds: float) -> str:
        """The live line while the stage runs: counts, share done, time left.

        Parameters
        ----------
        seconds
            Time since the stage started.

        Returns
        -------
        str
            E.g. ``"counties: 3/12 counties done (25%), 4.0 s, about 12 s left"``.

        Examples
        --------
        >>> StageProgress("counties", total=12, unit="counties", done=3).live(4.0)
        'counties: 3/12 counties done (25%), 4.0 s, about 12 s left'
        >>> StageProgress("slope").live(1.0)
        'slope …, 1.0 s'
        """
        if self.total and self.done:
            left = seconds * (self.total - self.done) / self.done
            return (
                f"{self.name}: {self.done:,}/{self.total:,} {self.unit} done "
                f"({self.done / self.total:.0%}), {_duration(seconds)}, "
                f"about {_duration(left)} left"
            )
        if self.done:
            return f"{self.name}: {self.done:,} {self.unit} done, {_duration(seconds)}"
        return f"{self.name} …, {_duration(seconds)}"


def _duration(seconds: float) -> str:
    """``0.4 s``, ``12 s``, ``3 min 05 s``, ``1 h 02 min``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Reporter:
    """Shows stages on a stream: one line each when it ends, and a live line on a terminal.

    Parameters
    ----------
    stream
        Where to write; None means ``sys.stderr`` at the time of writing.
    live
        Whether to keep a live line of the running stage (redrawn in place);
        None: when the stream is a terminal.
    clock
        Seconds from some origin; :func:`time.perf_counter` by default.
    interval_s
        Least time between two redraws of the live line.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        live: bool | None = None,
        clock: Callable[[], float] = time.perf_counter,
        interval_s: float = 0.2,
    ) -> None:
        self._stream = stream
        self.live = bool(self.stream.isatty()) if live is None else live
        self._clock = clock
        self._interval_s = interval_s
        self._running: list[StageProgress] = []
        self._shown = False
        self._drawn_at = float("-inf")

    @property
    def stream(self) -> TextIO:
        """The stream written to.

        Returns
        -------
        typing.TextIO
            The stream given, else the current ``sys.stderr``.
        """
        return self._stream if self._stream is not None else sys.stderr

    def start(self, name: str, *, total: int | None = None, unit: str = "") -> StageProgress:
        """Begin showing stage *name*.

        Parameters
        ----------
        name
            Stage name.
        total
            The count the stage reaches when done, if known.
        unit
            What it counts.

        Returns
        -------
        StageProgress
            The stage, to :meth:`StageProgress.advance` and to :meth:`end`.
        """
        task = StageProgress(name, total, unit, started=self._clock(), reporter=self)
        self._running.append(task)
        self._draw(task, task.started)
        return task

    def refresh(self, task: StageProgress, *, force: bool = False) -> None:
        """Redraw the live line for *task* (at most every ``interval_s``).

        Parameters
        ----------
        task
            A running stage.
        force
            Redraw however recently it was drawn.
        """
        if not self.live or not self._running or task is not self._running[-1]:
            return
        now = self._clock()
        if force or now - self._drawn_at >= self._interval_s:
            self._draw(task, now)

    def _draw(self, task: StageProgress, now: float) -> None:
        if self.live:
            self._drawn_at = now
            self._write(f"\r\x1b[K{PREFIX}{task.live(now - task.started)}")
            self._shown = True

    def end(self, task: StageProgress, *, failed: bool = False) -> None:
        """Stop showing *task*: its line (unless *failed*), then the stage around it.

        Parameters
        ----------
        task
            A running stage.
        failed
            The stage ended with an exception: no line for it.
        """
        now = self._clock()
        if task in self._running:
            self._running.remove(task)
        self.clear()
        if not failed:
            self._write(f"{PREFIX}{task.summary(now - task.started)}\n")
        if self._running:
            self._draw(self._running[-1], now)

    def clear(self) -> None:
        """Remove the live line, so that other text can be written."""
        if self._shown:
            self._write("\r\x1b[K")
            self._shown = False

    def _write(self, text: str) -> None:
        stream = self.stream
        stream.write(text)
        stream.flush()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Log lines to the current ``sys.stderr``, clearing the live line; repeats counted."""

    def __init__(self) -> None:
        super().__init__()
        self.repeats: dict[tuple[str, int, str], int] = {}

    @property
    def stream(self) -> TextIO:
        """The current ``sys.stderr`` (replaced by test runners, say).

        Returns
        -------
        typing.TextIO
            Where the next line goes.
        """
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        """Ignore a stream set by :class:`logging.StreamHandler`: stderr is looked up anew.

        Parameters
        ----------
        value
            The stream given.
        """

    def emit(self, record: logging.LogRecord) -> None:
        """Write *record*, unless the same message was written before (then count it).

        Parameters
        ----------
        record
            The log record.
        """
        key = (record.name, record.levelno, record.getMessage())
        if key in self.repeats:
            self.repeats[key] += 1
            return
        self.repeats[key] = 0
        if _REPORTER is not None:
            _REPORTER.clear()
        super().emit(record)

    def summarize(self) -> None:
        """Write how often each repeated message was left out, then forget them."""
        for (name, level, message), n in self.repeats.items():
            if n:
                first = message.splitlines()[0] if message else ""
                first = first if len(first) <= 100 else first[:99] + "…"
                self.stream.write(
                    f"{logging.getLevelName(level)} {name}: the message {first!r} "
                    f"was repeated {n} more time(s)\n"
                )
        self.repeats.clear()
        self.flush()


def configure(verbose: int = 0, quiet: bool = False) -> None:
    """Set up logging and progress on stderr for a command-line run (see the module docs).

    Calling it again replaces the previous set-up.

    Parameters
    ----------
    verbose
        0: warnings and progress; 1: also landplan's INFO messages; 2: also
        landplan's DEBUG messages; 3 or more: every library's messages.
    quiet
        Errors only, no progress (wins over *verbose*).
    """
    global _HANDLER, _REPORTER, _SETTINGS, _AT_EXIT
    root = logging.getLogger()
    if _HANDLER is not None:
        root.removeHandler(_HANDLER)
    _HANDLER = _StderrHandler()
    _HANDLER.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(_HANDLER)
    root_level, own_level = _levels(verbose, quiet)
    root.setLevel(root_level)
    logging.getLogger("landplan").setLevel(own_level)
    logging.captureWarnings(True)
    _REPORTER = None if quiet else Reporter()
    _SETTINGS = (verbose, quiet)
    if not _AT_EXIT:
        atexit.register(finish)
        _AT_EXIT = True


def _levels(verbose: int, quiet: bool) -> tuple[int, int]:
    """Levels of the root logger and of landplan's."""
    if quiet:
        return logging.ERROR, logging.ERROR
    own = (logging.WARNING, logging.INFO)[verbose] if verbose < 2 else logging.DEBUG
    return (logging.DEBUG if verbose >= 3 else logging.WARNING), own


def settings() -> tuple[int, bool] | None:
    """The arguments of the last :func:`configure`, to set worker processes up alike.

    Returns
    -------
    tuple of (int, bool) or None
        ``(verbose, quiet)``, or None when :func:`configure` was not called.
    """
    return _SETTINGS


def configure_worker(given: tuple[int, bool] | None) -> None:
    """Log in a worker process as the driver does (no progress: the driver shows it).

    Parameters
    ----------
    given
        :func:`settings` of the driver; None leaves logging alone.
    """
    if given is None:
        return
    verbose, quiet = given
    root_level, own_level = _levels(verbose, quiet)
    logging.basicConfig(level=root_level, format=LOG_FORMAT, stream=sys.stderr)
    logging.getLogger().setLevel(root_level)
    logging.getLogger("landplan").setLevel(own_level)
    logging.captureWarnings(True)


def active_reporter() -> Reporter | None:
    """The reporter that :func:`configure` set up, if any.

    Returns
    -------
    Reporter or None
        None when progress is not shown (library use, ``quiet``).
    """
    return _REPORTER


def finish() -> None:
    """End the run's reporting: remove the live line, report repeated messages."""
    if _REPORTER is not None:
        _REPORTER.clear()
    if _HANDLER is not None:
        _HANDLER.summarize()
