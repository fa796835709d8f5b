"""The reference web client, served by the local runtime beside the API: the built files of web/dist (hashed
assets cached for good, everything else revalidated), index.html for the app's own paths, /config.json, and
the security headers the CloudFront response headers policy sets in AWS."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_runtime.gateway import Response

WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
NOT_THE_APP = ("/v1/", "/dev/", "/moto-api/")  # the API's and the runtime's own paths: never index.html
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".map": "application/json",
}
IMMUTABLE = "public, max-age=31536000, immutable"  # /assets/* carry a content hash in their names
REVALIDATE = "no-cache"


def content_security_policy(connect_sources: list[str]) -> str:
    """The CSP of the CloudFront policy; `connect_sources` adds the origins the app calls beside its own
    (locally the AWS emulator, where attachments are uploaded with presigned POSTs)."""
    connect = " ".join(["'self'", *connect_sources])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )


def security_headers(connect_sources: list[str]) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(connect_sources),
        "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": "geolocation=(self), camera=(), microphone=()",
    }


NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Web client not built</title></head>
<body><h1>The web client is not built</h1><p>Run <code>make web</code> (or <code>cd web &amp;&amp; npm ci &amp;&amp;
npm run build</code>) and reload. <code>make run</code> builds it when it is missing or out of date.</p></body></html>"""


@dataclass
class WebClient:
    dist: Path = WEB_DIST
    connect_sources: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return security_headers(self.connect_sources)

    def config(self, config: dict[str, Any]) -> Response:
        """/config.json: where the API is and which identity providers to log in with."""
        headers = self.headers | {"Content-Type": "application/json", "Cache-Control": REVALIDATE}
        return Response(200, headers, json.dumps(config, ensure_ascii=False).encode())

    def serve(self, method: str, path: str, headers: dict[str, str]) -> Response | None:
        """A file of the built app, or index.html for the app's routes; None for paths that are not the app's
        (the gateway answers those with its 404)."""
        if method not in ("GET", "HEAD") or path.startswith(NOT_THE_APP):
            return None
        root = self.dist.resolve()
        index = root / "index.html"
        if not index.is_file():
            return Response(
                503, self.headers | {"Content-Type": "text/html; charset=utf-8"}, NOT_BUILT.encode()
            )
        wanted = (root / path.lstrip("/")).resolve()
        hidden = any(part.startswith(".") for part in path.split("/"))  # .built, .DS_Store: not the app's
        if not hidden and wanted != root and wanted.is_relative_to(root) and wanted.is_file():
            return self._file(wanted, headers, IMMUTABLE if path.startswith("/assets/") else REVALIDATE)
        last = path.rsplit("/", 1)[-1]
        if "." in last:  # a missing file (an old asset, a typo): never answer it with the page
            return Response(404, self.headers | {"Content-Type": "text/plain; charset=utf-8"}, b"Not found")
        return self._file(index, headers, REVALIDATE)

    def _file(self, file: Path, request_headers: dict[str, str], cache: str) -> Response:
        body = file.read_bytes()
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        headers = self.headers | {
            "Content-Type": CONTENT_TYPES.get(file.suffix, "application/octet-stream"),
            "Cache-Control": cache,
            "ETag": etag,
        }
        if etag in {t.strip() for t in request_headers.get("if-none-match", "").split(",")}:
            return Response(304, headers, b"")
        return Response(200, headers, body)
