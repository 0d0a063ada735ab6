"""Limits against abuse: login back-off, request body size, and the PDF render queue.

:class:`LoginLimiter` slows password guessing per (user name, client address) pair with
an exponential back-off, so failures from one address never lock the user out from
another, and caps the failures of any one address. :class:`BodyLimit` counts request
bodies as they arrive and answers 413 once over the limit, whatever Content-Length
says. :class:`RenderQueue` lets one or two Chromium renders run at once and turns
away requests beyond a short queue with 503.

All three are in-process: with several server processes each keeps its own counts.

References
----------
OWASP Authentication Cheat Sheet, "Login Throttling" and "Account Lockout".
RFC 9110, sections 15.5.14 (413 Content Too Large) and 10.2.3 (Retry-After).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass
class _PairRecord:
    """Failures of one (user name, address) pair: count, last one, blocked until [s]."""

    failures: int = 0
    last: float = 0.0
    until: float = 0.0


class LoginLimiter:
    """Login back-off per (user name, client address) and a cap per address.

    After ``max_failures`` failures of a pair, each further failure makes the pair wait
    ``backoff_s``, then twice as long, and so on up to ``backoff_max_s`` [s]. A pair's
    failures are forgotten ``window_s`` [s] after its last one, or at a success. An
    address with ``max_per_address`` failures in the last ``window_s`` (any user names)
    waits until the oldest of them leaves the window.
    """

    def __init__(
        self,
        *,
        max_failures: int,
        max_per_address: int,
        window_s: float,
        backoff_s: float = 1.0,
        backoff_max_s: float = 900.0,
        clock: Clock = time.monotonic,
        max_pairs: int = 100_000,
    ) -> None:
        self.max_failures = max_failures
        self.max_per_address = max_per_address
        self.window_s = window_s
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.max_pairs = max_pairs
        self._clock = clock
        self._pairs: dict[tuple[str, str], _PairRecord] = {}
        self._addresses: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def backoff(self, failures: int) -> float:
        """Return the wait after ``failures`` failures of a pair [s] (0 below the limit)."""
        extra = failures - self.max_failures
        if extra < 0:
            return 0.0
        return min(self.backoff_s * 2.0 ** min(extra, 60), self.backoff_max_s)

    def retry_after(self, username: str, address: str) -> float:
        """Return how long the pair must wait before its next try [s]; 0: try now."""
        now = self._clock()
        with self._lock:
            record = self._pair(username, address, now)
            times = self._trimmed(address, now)
            wait_pair = max(record.until - now, 0.0) if record else 0.0
            wait_address = (
                times[0] + self.window_s - now if len(times) >= self.max_per_address else 0.0
            )
        return max(wait_pair, wait_address, 0.0)

    def fail(self, username: str, address: str) -> float:
        """Record a failed login of the pair; return the wait it now has [s]."""
        now = self._clock()
        with self._lock:
            record = self._pair(username, address, now)
            if record is None:
                self._forget_oldest()
                record = self._pairs.setdefault((username, address), _PairRecord())
            record.failures += 1
            record.last = now
            record.until = now + self.backoff(record.failures)
            self._trimmed(address, now).append(now)
            return record.until - now

    def succeed(self, username: str, address: str) -> None:
        """Forget the failures of the pair (after a successful login)."""
        with self._lock:
            self._pairs.pop((username, address), None)

    def _pair(self, username: str, address: str, now: float) -> _PairRecord | None:
        record = self._pairs.get((username, address))
        if record is not None and now - record.last > self.window_s and now >= record.until:
            del self._pairs[(username, address)]
            return None
        return record

    def _trimmed(self, address: str, now: float) -> deque[float]:
        times = self._addresses.setdefault(address, deque())
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def _forget_oldest(self) -> None:
        """Keep memory bounded: drop the stalest pairs and quiet addresses when full."""
        if len(self._pairs) < self.max_pairs:
            return
        stale = sorted(self._pairs, key=lambda k: self._pairs[k].last)[: self.max_pairs // 10]
        for key in stale:
            del self._pairs[key]
        for address in [a for a, t in self._addresses.items() if not t]:
            del self._addresses[address]


class BodyTooLargeError(HTTPException):
    """The request body went over the limit while it was being read (413).

    An HTTPException, so that FastAPI passes it on from form parsing and the app's
    error handler answers it in the usual shape.
    """

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request body larger than {max_bytes} bytes")


class BodyLimit:
    """ASGI middleware answering 413 to a request whose body exceeds ``max_bytes``.

    A declared Content-Length over the limit is refused before reading; otherwise the
    bytes are counted as the application reads them, so a missing or lying
    Content-Length (chunked transfer) is caught after at most one chunk past the limit
    and the body is never held whole.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLargeError:
            if started:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": f"request body larger than {self.max_bytes} bytes"})
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class QueueFullError(Exception):
    """No render slot and no room to wait; ``retry_after_s`` suggests when to retry."""

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"busy: retry after {retry_after_s} s")


class RenderQueue:
    """At most ``max_running`` renders at once and ``max_waiting`` waiting for a turn.

    A request that finds the queue full, or waits longer than ``wait_s`` [s], gets
    :class:`QueueFullError` (the route answers 503 with Retry-After).
    """

    def __init__(
        self, *, max_running: int, max_waiting: int, wait_s: float, retry_after_s: int = 30
    ) -> None:
        self.max_running = max_running
        self.max_waiting = max_waiting
        self.wait_s = wait_s
        self.retry_after_s = retry_after_s
        self._slots = threading.BoundedSemaphore(max_running)
        self._admitted = 0
        self._lock = threading.Lock()

    @property
    def admitted(self) -> int:
        """Return the renders running or waiting now."""
        return self._admitted

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a render slot for the duration of the block; QueueFullError if none."""
        with self._lock:
            if self._admitted >= self.max_running + self.max_waiting:
                raise QueueFullError(self.retry_after_s)
            self._admitted += 1
        try:
            if not self._slots.acquire(timeout=self.wait_s):
                raise QueueFullError(self.retry_after_s)
            try:
                yield
            finally:
                self._slots.release()
        finally:
            with self._lock:
                self._admitted -= 1


def retry_after_header(seconds: float) -> dict[str, Any]:
    """Return the Retry-After header of a wait [s], rounded up to whole seconds."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))}
