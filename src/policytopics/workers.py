"""Process pools: the package's one way to run work in other processes.

Every parallel stage (cleaning, tokenising, the LDA fits) runs through :func:`process_pool`.
A pool is created with a *context*: the read-only settings its tasks need (a tokenizer, the
cleaning rules, the fits' shared features). Each worker receives the context once, when it
starts, and a task reads it with :func:`worker_context`; tasks themselves carry only their
own small arguments. The context lives in this module only, so no stage keeps a module
global of its own.

Two start methods:

* ``fork`` (the default, where the platform has it) with :class:`ForkedPool`: workers share
  the parent's memory. A forked worker shares the parent's memory until either process writes
  to a page; Python's cyclic garbage collector writes to every object it tracks each time it
  runs a full collection, so a worker that collects would copy every page holding the
  parent's corpus. :class:`ForkedPool` moves the parent's objects into the collector's
  permanent generation (:func:`gc.freeze`) while the pool runs, so they stay shared.
* ``spawn``: workers start clean (no inherited threads or state); used where a worker must
  not inherit the parent's state (the LDA fits, which run BLAS).

:func:`resolve_workers` turns a config's ``workers`` setting into a process count.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

__all__ = ["ForkedPool", "process_pool", "resolve_workers", "worker_context"]

#: Pools alive now: the heap is unfrozen when the last one shuts down.
_open_pools = 0
_NO_CONTEXT = object()
#: The context of this worker process (set once per worker by its pool's initializer).
_context: Any = _NO_CONTEXT


def resolve_workers(workers: int) -> int:
    """The number of processes ``workers`` asks for (0 = one per CPU core).

    Parameters
    ----------
    workers : int
        A ``workers`` setting of the config: a positive count, or 0 (or less) for one
        process per CPU core.

    Returns
    -------
    int
        ``workers`` itself when positive, else ``os.cpu_count()`` (at least 1).

    Examples
    --------
    >>> resolve_workers(3)
    3
    >>> resolve_workers(0) >= 1
    True
    """
    return workers if workers > 0 else max(1, os.cpu_count() or 1)


def _set_context(context: Any) -> None:
    global _context
    _context = context


def worker_context() -> Any:
    """The context the pool of this worker process was created with.

    Raises
    ------
    RuntimeError
        Outside a worker of :func:`process_pool` (no context was set).

    Examples
    --------
    >>> def twice(x):
    ...     return worker_context() * x
    >>> with process_pool(1, context=2) as pool:  # doctest: +SKIP
    ...     list(pool.map(twice, [1, 2]))
    [2, 4]
    """
    if _context is _NO_CONTEXT:
        raise RuntimeError("worker_context() called outside a worker of policytopics.workers.process_pool")
    return _context


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
            super().__init__(max_workers, mp_context=multiprocessing.get_context("fork"),
                             initializer=initializer, initargs=initargs)
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


def process_pool(workers: int, context: Any = None, *, start: str = "fork") -> Executor:
    """A pool of ``workers`` processes whose tasks read ``context`` with :func:`worker_context`.

    Parameters
    ----------
    workers : int
        How many processes (at least 1).
    context : object
        Read-only settings for every task, sent to each worker once (pickled with ``spawn``).
    start : {"fork", "spawn"}
        How workers start (see the module docstring).

    Returns
    -------
    concurrent.futures.Executor
        Use it as a context manager; it shuts down (and, forked, unfreezes the heap) on exit.

    Examples
    --------
    >>> with process_pool(1, context=10) as pool:
    ...     pool.submit(abs, -3).result()
    3
    """
    if workers < 1:
        raise ValueError(f"a process pool needs at least 1 worker, got {workers}")
    if start == "fork":
        return ForkedPool(workers, initializer=_set_context, initargs=(context,))
    if start == "spawn":
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_set_context, initargs=(context,))
    raise ValueError(f"start must be 'fork' or 'spawn', got {start!r}")
