"""Worker processes forked from a run that holds a large corpus in memory.

A forked worker shares the parent's memory until either process writes to a page. Python's
cyclic garbage collector writes to every object it tracks (its reference bookkeeping) each
time it runs a full collection, so a worker that collects copies every page holding the
parent's units, documents and token lists: one private copy of the corpus per worker.
:class:`ForkedPool` moves the parent's objects into the collector's permanent generation
(:func:`gc.freeze`) for as long as the pool runs, so they are left alone and stay shared.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

__all__ = ["ForkedPool"]

#: Pools alive now: the heap is unfrozen when the last one shuts down.
_open_pools = 0


class ForkedPool(ProcessPoolExecutor):
    """A process pool whose forked workers do not copy the parent's objects.

    The heap is frozen from the pool's creation to its shutdown (workers may be forked at
    any submit). Objects are still freed by reference counting meanwhile; only cycles among
    the frozen objects wait until the pool is shut down.

    Parameters
    ----------
    max_workers : int
        How many worker processes.
    initializer, initargs
        As for :class:`concurrent.futures.ProcessPoolExecutor`.

    Examples
    --------
    >>> with ForkedPool(1) as pool:
    ...     gc.get_freeze_count() > 0, pool.submit(abs, -2).result()
    (True, 2)
    >>> gc.get_freeze_count()
    0
    """

    def __init__(self, max_workers: int, initializer: Callable[..., Any] | None = None, initargs: tuple = ()) -> None:
        global _open_pools
        if _open_pools == 0:
            gc.collect()  # what is garbage now should not stay frozen for the pool's lifetime
            gc.freeze()
        _open_pools += 1
        self._frozen = True
        try:
            super().__init__(max_workers, initializer=initializer, initargs=initargs)
        except BaseException:
            self._thaw()
            raise

    def _thaw(self) -> None:
        global _open_pools
        if self._frozen:
            self._frozen = False
            _open_pools -= 1
            if _open_pools == 0:
                gc.unfreeze()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        try:
            super().shutdown(wait=wait, cancel_futures=cancel_futures)
        finally:
            self._thaw()
