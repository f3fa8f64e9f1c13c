"""Worker processes forked from a run that holds a large corpus in memory.

A forked worker shares the parent's memory until either process writes to a page. Python's
cyclic garbage collector writes to every object it tracks (its reference bookkeeping) each
time it runs a full collection, so a worker that collects copies every page holding the
parent's units, documents and token lists: one private copy of the corpus per worker.
:func:`frozen_heap` moves the parent's objects into the collector's permanent generation
(:func:`gc.freeze`) while the workers run, so they are left alone and stay shared.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["frozen_heap"]


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Freeze the garbage collector's view of the current objects for the ``with`` block.

    Processes forked inside the block do not touch (and so do not copy) the objects that
    existed when it started. Objects are still freed by reference counting meanwhile; only
    cycles among the frozen objects wait until the block ends.

    Examples
    --------
    >>> with frozen_heap():
    ...     gc.get_freeze_count() > 0
    True
    >>> gc.get_freeze_count()
    0
    """
    gc.collect()  # what is garbage now should not stay frozen for the workers' lifetime
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
