"""Static files served compressed, with validators and long cache lifetimes.

Each file of ``web/static`` (and the Plotly bundle of the ``plotly`` package) is read
once, its gzip form made once (the Plotly bundle: 4.8 MB, about 1.4 MB gzipped), and
both kept in memory. Pages link a file with :func:`Assets.url`, which appends the
first characters of the content's SHA-256 (``/static/style.css?v=…``): a browser keeps
such a URL for a year without asking again (``immutable``), and a new release of the
file has a new URL. A URL without the right ``v`` is answered with ``no-cache``: the
browser asks again each time, and gets ``304 Not Modified`` while the ETag matches.

References
----------
RFC 9110, sections 8.8.3 (ETag), 13.1.2 (If-None-Match) and 12.5.3 (Accept-Encoding);
RFC 9111, section 5.2.2 (Cache-Control: max-age, no-cache); RFC 8246 (immutable).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import mimetypes
import threading
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

logger = logging.getLogger(__name__)

#: Cache-Control of a URL naming the file's content: kept a year, never asked again.
IMMUTABLE = "public, max-age=31536000, immutable"
#: Cache-Control of a URL without the content's digest: ask again (304 while unchanged).
REVALIDATE = "no-cache"
#: Types worth compressing (text); fonts and images are compressed already.
COMPRESSIBLE = (
    "text/",
    "application/javascript",
    "application/json",
    "image/svg+xml",
    "application/geo+json",
    "application/xml",
)
#: Shortest file compressed [bytes].
MIN_COMPRESSED = 512


@dataclass(frozen=True)
class Asset:
    """One static file: its bytes, gzipped bytes (None: not worth it), type and digest."""

    body: bytes
    gzipped: bytes | None
    media_type: str
    digest: str

    @property
    def etag(self) -> str:
        """Return the strong validator of the content (a quoted digest)."""
        return f'"{self.digest}"'

    @classmethod
    def read(cls, path: Path, media_type: str | None = None) -> Asset:
        """Return the asset of the file at ``path`` (gzip at level 9, done once)."""
        body = path.read_bytes()
        kind = media_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if kind == "text/javascript" or path.suffix == ".js":
            kind = "text/javascript"
        packed = None
        if len(body) >= MIN_COMPRESSED and kind.startswith(COMPRESSIBLE):
            packed = gzip.compress(body, compresslevel=9, mtime=0)
            if len(packed) >= len(body):
                packed = None
        return cls(body, packed, kind, hashlib.sha256(body).hexdigest()[:16])


def accepts_gzip(headers: Headers) -> bool:
    """Return True if the request's Accept-Encoding allows gzip (listed, q above 0)."""
    for part in headers.get("accept-encoding", "").split(","):
        coding, _, params = part.partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        return q > 0
    return False


def asset_response(
    request: Request | Headers, asset: Asset, *, versioned: bool, head: bool = False
) -> Response:
    """Return the response of ``asset``: 304 if the client has it, gzip if it accepts it."""
    headers = request if isinstance(request, Headers) else request.headers
    cache = {
        "ETag": asset.etag,
        "Cache-Control": IMMUTABLE if versioned else REVALIDATE,
        "Vary": "Accept-Encoding",
    }
    wanted = headers.get("if-none-match", "")
    if wanted and (
        wanted.strip() == "*"
        or asset.etag in [tag.strip().removeprefix("W/") for tag in wanted.split(",")]
    ):
        return Response(status_code=304, headers=cache)
    body = asset.body
    if asset.gzipped is not None and accepts_gzip(headers):
        body = asset.gzipped
        cache["Content-Encoding"] = "gzip"
    response = Response(body, media_type=asset.media_type, headers=cache)
    if head:
        response.body = b""
    return response


class Assets:
    """ASGI app of the files of one folder, each read and compressed once.

    Only files present in the folder are served (the path is matched against its
    listing, never joined into a file name); GET and HEAD only.
    """

    def __init__(self, folder: Path, extra: dict[str, Path] | None = None) -> None:
        self.folder = folder
        self._files = {
            p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()
        }
        self._files.update(extra or {})
        self._loaded: dict[str, Asset] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Asset | None:
        """Return the asset named ``name`` (a path under the folder), or None."""
        found = self._loaded.get(name)
        if found is not None:
            return found
        path = self._files.get(name)
        if path is None:
            return None
        with self._lock:
            if name not in self._loaded:
                self._loaded[name] = Asset.read(path)
            return self._loaded[name]

    def url(self, name: str) -> str:
        """Return the URL of ``name`` naming its content (``/static/NAME?v=DIGEST``)."""
        asset = self.get(name)
        if asset is None:
            raise KeyError(f"no static file {name!r}")
        return f"/static/{name}?v={asset.digest}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if request.method not in ("GET", "HEAD"):
            response: Response = PlainTextResponse(
                "Method Not Allowed", status_code=405, headers={"Allow": "GET, HEAD"}
            )
        else:
            name = scope.get("path", "").removeprefix(scope.get("root_path", ""))
            name = name.removeprefix("/static").lstrip("/")
            asset = self.get(name)
            if asset is None:
                response = PlainTextResponse("Not Found", status_code=404)
            else:
                response = asset_response(
                    request,
                    asset,
                    head=request.method == "HEAD",
                    versioned=request.query_params.get("v") == asset.digest,
                )
        await response(scope, receive, send)
