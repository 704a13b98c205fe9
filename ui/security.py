"""HTTP hardening of the browser chat (issue 9), kept apart from the layout in ui/app.py.

One ASGI gate wraps the whole Gradio app, outside Gradio's own middleware, so it sees every
request and every response:
- security headers on every response: a Content-Security-Policy that lets the page load nothing
  but its own scripts, styles and images (no remote image, font or frame, whatever an answer
  contains), frame-ancestors / X-Frame-Options against framing, nosniff, no Referer;
- CORS limited to the page's own origin plus PAPERCHAT_CORS_ORIGINS: Gradio reflects any Origin
  with credentials when the host is not localhost; the gate answers preflights itself, refuses
  state-changing requests from other origins and strips Gradio's CORS headers;
- endpoints the app does not use (file upload, recording, streaming, proxying, monitoring,
  code editing, login) answer 404;
- request bodies are capped (a 20 MB question is refused before anything parses or echoes it);
- no `server: uvicorn` banner.
"""
from __future__ import annotations

import json
import logging

from assistant.settings import Settings

log = logging.getLogger("paperchat.ui.security")

# Scripts and styles from the page itself ('unsafe-inline': Gradio injects its config and styles
# inline; 'unsafe-eval': Gradio runs the app's own js= / js_on_load code with new Function, and the
# page stays on "Loading..." without it); images only from the page or inline data (icons);
# nothing remote, ever: connect, image, font, media and frame sources are all the page's own.
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "media-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "frame-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
DROPPED = {b"server", b"access-control-allow-origin", b"access-control-allow-credentials",
           b"access-control-allow-methods", b"access-control-allow-headers", b"access-control-max-age"}

# Gradio routes this app never uses (it has no upload, audio, video, MCP, login or dev mode).
CLOSED = (
    "/gradio_api/upload", "/gradio_api/upload_progress", "/gradio_api/process_recording",
    "/gradio_api/stream/", "/gradio_api/proxy=", "/gradio_api/dev/", "/gradio_api/vibe-",
    "/gradio_api/undo-vibe-edit", "/gradio_api/runs", "/gradio_api/run-history", "/gradio_api/mcp",
    "/monitoring", "/login", "/logout",
)
# The largest request body the app needs: a question (limited to a few kB by the assistant) plus
# a conversation history sent back by a script or the page.
MAX_BODY_BYTES = 512 * 1024
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def allowed_origins(settings: Settings) -> set[str]:
    return {o.strip().rstrip("/").lower() for o in settings.cors_origins.split(",") if o.strip()}


class SecurityGate:
    """ASGI middleware; see the module docstring."""

    def __init__(self, app, extra_origins: set[str] | None = None):
        self.app = app
        self.extra_origins = extra_origins or set()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path = scope.get("path", "")
        root = scope.get("root_path", "") or ""
        if root and path.startswith(root):
            path = path[len(root):] or "/"
        method = scope.get("method", "GET").upper()
        origin = headers.get("origin")
        allowed = origin is None or self._allowed(origin, headers, scope)

        if any(path.startswith(p) for p in CLOSED):
            await _plain(send, 404, "Not Found")
            return
        if origin is not None and method == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(send, origin if allowed else None, headers)
            return
        if not allowed and method not in SAFE_METHODS:
            await _plain(send, 403, "cross-origin requests are not allowed (see PAPERCHAT_CORS_ORIGINS)")
            return
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            await _plain(send, 413, f"request body over {MAX_BODY_BYTES // 1024} kB")
            return

        async def send_wrapped(message):
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in DROPPED]
                kept += [(k.encode(), v.encode()) for k, v in HEADERS.items()
                         if not any(h[0].lower() == k.encode() for h in kept)]
                if origin is not None and allowed:
                    kept += [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]
                message = {**message, "headers": kept}
            await send(message)

        received = 0

        async def receive_capped():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:  # chunked bodies carry no content-length
                    raise _BodyTooLarge()
            return message

        try:
            await self.app(scope, receive_capped, send_wrapped)
        except _BodyTooLarge:
            log.warning("refused a request body over %d bytes to %s", MAX_BODY_BYTES, path[:100])
            await _plain(send, 413, f"request body over {MAX_BODY_BYTES // 1024} kB")

    def _allowed(self, origin: str, headers: dict, scope) -> bool:
        origin = origin.strip().rstrip("/").lower()
        host = headers.get("x-forwarded-host") or headers.get("host", "")
        scheme = headers.get("x-forwarded-proto") or scope.get("scheme", "http")
        own = f"{scheme}://{host}".lower()
        return origin == own or origin in self.extra_origins

    async def _preflight(self, send, origin: str | None, headers: dict):
        if origin is None:
            await _plain(send, 403, "cross-origin requests are not allowed (see PAPERCHAT_CORS_ORIGINS)")
            return
        extra = [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin"),
                 (b"access-control-allow-methods", b"GET, POST, OPTIONS"), (b"access-control-max-age", b"600")]
        requested = headers.get("access-control-request-headers")
        if requested:
            extra.append((b"access-control-allow-headers", requested[:200].encode("latin-1")))
        await _plain(send, 204, "", extra)


class _BodyTooLarge(Exception):
    pass


async def _plain(send, status: int, text: str, extra: list | None = None) -> None:
    body = json.dumps({"detail": text}).encode() if text else b""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in HEADERS.items()] + (extra or [])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def app_kwargs(settings: Settings | None) -> dict:
    """Pass to demo.launch(app_kwargs=...): installs the gate when the server starts, before it
    accepts its first request (Starlette builds its middleware stack on the lifespan call)."""
    from contextlib import asynccontextmanager

    if settings is None:
        from assistant.settings import get_settings

        settings = get_settings()
    origins = allowed_origins(settings)

    @asynccontextmanager
    async def lifespan(app):
        stack = app.middleware_stack or app.build_middleware_stack()
        if not isinstance(stack, SecurityGate):
            app.middleware_stack = SecurityGate(stack, origins)
        yield

    return {"lifespan": lifespan}


def hide_server_banner(demo) -> None:
    """uvicorn adds `server: uvicorn` outside the app; drop it from its default headers."""
    server = getattr(demo, "server", None)
    config = getattr(server, "config", None)
    if config is None:
        return
    config.server_header = False
    config.encoded_headers = [h for h in getattr(config, "encoded_headers", []) if h[0].lower() != b"server"]
    state = getattr(server, "server_state", None)
    if state is not None:
        state.default_headers = [h for h in state.default_headers if h[0].lower() != b"server"]


# A logged line longer than this is cut: Gradio prints a malformed request's whole payload
# ("Received inputs: [...]") with its traceback, and one request must not write megabytes of log.
MAX_LOG_LINE = 2000


class _CappedLines:
    """A stderr wrapper that cuts over-long lines, keeping their length."""

    def __init__(self, inner, limit: int = MAX_LOG_LINE):
        self._inner, self._limit = inner, limit

    def write(self, text: str) -> int:
        if len(text) > self._limit:
            text = "\n".join(line if len(line) <= self._limit else
                             f"{line[:self._limit]}… [{len(line):,} characters, cut]" for line in text.split("\n"))
        self._inner.write(text)
        return len(text)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def cap_log_lines() -> None:
    """Cut over-long lines written to stderr by this (serving) process; idempotent."""
    import sys

    if not isinstance(sys.stderr, _CappedLines):
        sys.stderr = _CappedLines(sys.stderr)
