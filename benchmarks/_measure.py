"""Run one benchmark measurement in a fresh process and report its peak memory."""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
import resource
from collections.abc import Callable
from typing import Any


def _child(fn: Callable[..., Any], args: tuple, queue: mp.Queue) -> None:
    result = fn(*args)
    queue.put((result, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20))


def run_apart(fn: Callable[..., Any], *args: Any, context: str = "spawn") -> tuple[Any, float]:
    """Return ``fn(*args)`` run in a new process and that process's peak RSS [GiB].

    ``fn`` must be a module-level function (it is pickled to the child under
    ``spawn``); ``ru_maxrss`` is in KiB on Linux.
    """
    ctx = mp.get_context(context)
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    while True:
        try:
            out = queue.get(timeout=5)
            break
        except queue_mod.Empty:
            if not proc.is_alive():
                raise RuntimeError(f"{fn.__name__} failed (exit code {proc.exitcode})") \
                    from None
    proc.join()
    return out
