"""Answers of the dashboard and API reads kept per store version and per user.

The overview, a league's page or the barometer's table are the same for every request
of one user until the store changes: rendering them again (hundreds of table cells
through the templates, thousands of JSON values) costs far more than sending them.
:class:`ResponseCache` keeps the answer of each read of :data:`CACHED` for

- the store's version (every answer is dropped when an upload or import changes it),
- the user (name, role and scope: everything the access rules look at; the user is
  found from the cookie or token *before* the lookup, so a revoked session or a
  deactivated user never gets a kept answer),
- the path and query, the language cookie, ``Accept-Language``, the host, and whether
  the client takes gzip.

Only complete ``200`` answers that set no cookie are kept; refusals always reach the
route (and its audit log). A page carries the session's CSRF token in its forms: it is
kept with the token replaced by a placeholder and the token of the asking session put
back when it is sent, so two sessions of one user share one rendering but never each
other's token. Answers are kept up to ``max_bytes`` in all, least recently used
dropped first.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dualcontrol.web.access import Principal
from dualcontrol.web.assets import accepts_gzip

logger = logging.getLogger(__name__)

#: Reads whose answer depends only on the user, the request and the store's data.
CACHED_EXACT = frozenset(
    {"/", "/api/accounts", "/api/assessment/barometer", "/api/assessment/budget"}
)
CACHED_PREFIXES = ("/league/", "/enterprise/", "/api/accounts/")
#: Stands for the session's CSRF token in a kept page (a NUL byte: never in a page).
PLACEHOLDER = b"\x00csrf\x00"


def cached_path(path: str) -> bool:
    """Return True if the answers of ``path`` may be kept."""
    return path in CACHED_EXACT or path.startswith(CACHED_PREFIXES)


@dataclass(frozen=True)
class Kept:
    """A kept answer: status, headers (without Content-Length) and body."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    has_token: bool


#: Returns (principal, CSRF token of the request's session or None, store version).
Identify = Callable[[Request], tuple[Principal, str | None, object]]


class ResponseCache:
    """ASGI middleware keeping the answers of :data:`CACHED` reads (see the module).

    ``identify`` finds who asks and the store's version (it may read the store: it runs
    in a worker thread); it raises :class:`HTTPException` for a refused token, and the
    request then goes to the application as it is.
    """

    def __init__(
        self, app: ASGIApp, *, identify: Identify, max_bytes: int = 64 * 2**20, enabled: bool = True
    ) -> None:
        self.app = app
        self.identify = identify
        self.max_bytes = max_bytes
        self.enabled = enabled
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[object, ...], Kept] = OrderedDict()
        self._bytes = 0
        self._version: object = None
        self.hits = 0
        self.misses = 0

    def _get(self, key: tuple[object, ...], version: object) -> Kept | None:
        with self._lock:
            if version != self._version:
                self._kept.clear()
                self._bytes = 0
                self._version = version
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def _put(self, key: tuple[object, ...], version: object, kept: Kept) -> None:
        with self._lock:
            if version != self._version or len(kept.body) > self.max_bytes // 8:
                return
            old = self._kept.pop(key, None)
            self._bytes -= len(old.body) if old else 0
            self._kept[key] = kept
            self._bytes += len(kept.body)
            while self._bytes > self.max_bytes and self._kept:
                _, dropped = self._kept.popitem(last=False)
                self._bytes -= len(dropped.body)

    def clear(self) -> None:
        """Drop every kept answer."""
        with self._lock:
            self._kept.clear()
            self._bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            not self.enabled
            or scope["type"] != "http"
            or scope.get("method") != "GET"
            or not cached_path(scope.get("path", ""))
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            principal, token, version = await run_in_threadpool(self.identify, request)
        except HTTPException:
            await self.app(scope, receive, send)  # the route refuses it, and logs that
            return
        headers = request.headers
        key = (
            scope.get("path"),
            scope.get("query_string", b""),
            request.cookies.get("lang"),
            headers.get("accept-language"),
            headers.get("host"),
            accepts_gzip(headers),
            principal.username,
            principal.role,
            str(principal.scope or ""),
        )
        found = self._get(key, version)
        if found is not None and (token is not None or not found.has_token):
            self.hits += 1
            await self._send(send, found, token)
            return
        self.misses += 1
        await self._keep(scope, receive, send, key, version, token)

    async def _send(self, send: Send, kept: Kept, token: str | None) -> None:
        body = (
            kept.body.replace(PLACEHOLDER, token.encode())
            if kept.has_token and token
            else kept.body
        )
        headers = [*kept.headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": kept.status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _keep(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        key: tuple[object, ...],
        version: object,
        token: str | None,
    ) -> None:
        start: Message | None = None
        parts: list[bytes] = []
        keep = True

        async def watching(message: Message) -> None:
            nonlocal start, keep
            if message["type"] == "http.response.start":
                start = message
                headers = Headers(raw=message.get("headers", []))
                keep = message.get("status") == 200 and "set-cookie" not in headers
            elif message["type"] == "http.response.body" and keep:
                parts.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self._store(key, version, start, b"".join(parts), token)
            await send(message)

        await self.app(scope, receive, watching)

    def _store(
        self,
        key: tuple[object, ...],
        version: object,
        start: Message | None,
        body: bytes,
        token: str | None,
    ) -> None:
        if start is None:
            return
        has_token = bool(token) and token.encode() in body  # type: ignore[union-attr]
        if has_token:
            assert token is not None
            if PLACEHOLDER in body:
                return
            body = body.replace(token.encode(), PLACEHOLDER)
        headers = [
            (k, v) for k, v in MutableHeaders(scope=start).raw if k.lower() != b"content-length"
        ]
        self._put(key, version, Kept(int(start["status"]), headers, body, has_token))
