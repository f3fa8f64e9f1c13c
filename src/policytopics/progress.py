"""Progress bars of long stages (``tqdm.auto``): shown to a person, silent for a machine.

In: a total, a description and a unit (and ``update`` calls as work is done). Out: a bar on
stderr in a terminal (a widget in a notebook with ipywidgets), nothing at all when stderr is
not a terminal (CI, pipes, log files) or when ``POLICYTOPICS_PROGRESS=0``; the per-stage log
lines say what happened either way. Bars never touch the results.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from tqdm import tqdm

__all__ = ["PROGRESS_ENV", "progress_bar", "progress_callback"]

#: ``0`` (or ``off``, ``false``, ``no``) hides every bar; ``1`` (``on``, ...) shows them even
#: when stderr is not a terminal; unset: a bar only on a terminal or in a notebook.
PROGRESS_ENV = "POLICYTOPICS_PROGRESS"
_OFF = {"0", "off", "false", "no"}
_ON = {"1", "on", "true", "yes"}

_bar_class: Any = None


def _tqdm_class() -> Any:
    """``tqdm.auto.tqdm`` without its monitor thread (imported on first use: light imports)."""
    global _bar_class
    if _bar_class is None:
        with warnings.catch_warnings():
            # a notebook without ipywidgets: tqdm.auto falls back to the text bar (silent
            # there, the kernel's stderr is no terminal) instead of warning in every notebook
            warnings.filterwarnings("ignore", message="IProgress not found")
            from tqdm.auto import tqdm as auto_tqdm

        class Bar(auto_tqdm):  # type: ignore[misc, valid-type]
            # no monitor thread: stages fork worker processes while a bar is open
            monitor_interval = 0

        _bar_class = Bar
    return _bar_class


def _enabled(enabled: bool | None) -> bool | None:
    if enabled is not None:
        return bool(enabled)
    setting = os.environ.get(PROGRESS_ENV, "").strip().lower()
    return False if setting in _OFF else True if setting in _ON else None


def progress_bar(
    total: int | None, desc: str, unit: str, *, enabled: bool | None = None, stream: TextIO | None = None
) -> tqdm:
    """A ``tqdm.auto`` bar over ``total`` items, shown only where a person can see it.

    Parameters
    ----------
    total : int or None
        The number of items (``None``: not known yet; set ``bar.total`` later).
    desc : str
        What is being done, e.g. ``"tokenise"``.
    unit : str
        What an item is, in the singular (tqdm writes ``unit/s``), e.g. ``"unit"``.
    enabled : bool, optional
        ``True`` shows the bar, ``False`` hides it; ``None`` (the default) follows the
        ``POLICYTOPICS_PROGRESS`` environment variable (``0``: never, ``1``: always) and
        otherwise shows the bar only when ``stream`` is a terminal (or in a notebook).
    stream : file-like, optional
        Where the bar is drawn; ``sys.stderr`` at the time of the call by default.

    Returns
    -------
    tqdm.tqdm
        Call ``update(n)`` as items are done and ``close()`` at the end (or use it as a
        context manager). The bar disappears when closed (``leave=False``): the stage's log
        line then says what was done. A hidden bar ignores ``update`` and draws nothing;
        what the caller computes is the same either way.

    Examples
    --------
    >>> import io
    >>> with progress_bar(3, "demo", "item", stream=io.StringIO()) as bar:  # not a terminal
    ...     bar.update(3)
    >>> bar.disable
    True
    >>> shown = io.StringIO()
    >>> with progress_bar(3, "demo", "item", enabled=True, stream=shown) as bar:
    ...     bar.update(3)
    >>> bar.n, "demo" in shown.getvalue()
    (3, True)
    """
    enabled = _enabled(enabled)
    return _tqdm_class()(
        total=total,
        desc=desc,
        unit=unit,
        file=stream if stream is not None else sys.stderr,
        disable=None if enabled is None else not enabled,  # None: tqdm asks stream.isatty()
        leave=False,
        mininterval=0.2,
        dynamic_ncols=True,
    )


def progress_callback(bar: tqdm) -> Callable[..., None]:
    """A ``progress(done, total, ...)`` callback, as stages take one, that moves ``bar``.

    Parameters
    ----------
    bar : tqdm.tqdm
        A bar from :func:`progress_bar`.

    Returns
    -------
    callable
        ``report(done, total, *rest)``: sets the bar's total and moves it to ``done``
        (further arguments, e.g. the current file, are ignored).

    Examples
    --------
    >>> import io
    >>> bar = progress_bar(None, "ingest", "file", enabled=True, stream=io.StringIO())
    >>> report = progress_callback(bar)
    >>> report(2, 5, "a.txt"); report(5, 5, "b.txt")
    >>> bar.n, bar.total
    (5, 5)
    >>> bar.close()
    """

    def report(done: int, total: int, *_: Any) -> None:
        if bar.total != total:
            bar.total = total
        if done > bar.n:
            bar.update(done - bar.n)

    return report
