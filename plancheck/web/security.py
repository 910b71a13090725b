"""What keeps the workbench safe by default: the access token, the Host check, CSRF tokens, body
size limits and the response headers.

The workbench binds 127.0.0.1 unless told otherwise, and any other address needs a token. Every
form carries a CSRF token that must match a cookie the browser sends only to this site
(double submit, SameSite=Strict), so another page cannot post a grade or promote a model in a
reviewer's name. The Host check stops a web page from reaching the workbench through a DNS name
that points at 127.0.0.1.
"""
from __future__ import annotations

import hmac
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, quote, urlencode

from ..errors import PlancheckError

CSRF_COOKIE = "plancheck_csrf"
CSRF_FIELD = "csrf"
TOKEN_COOKIE = "plancheck_token"
# What the pages may load: only this site's own files; forms post only here; no framing.
PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# A served file (a plan, a report) runs nothing and cannot reach the workbench: a sandbox of its own.
FILE_POLICY = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"


class CsrfError(PlancheckError):
    """A form arrived without the token of the page that showed it."""

    code = "csrf"


class BodyTooLargeError(PlancheckError):
    """A request body went over its limit."""

    code = "too_large"


def _cookies(scope) -> dict[str, str]:
    jar = SimpleCookie()
    for name, value in scope.get("headers") or []:
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is ignored, not an error page
                continue
    return {k: m.value for k, m in jar.items()}


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers") or []:
        if key == name:
            return value.decode("latin-1")
    return ""


def check_csrf(cookie: str | None, submitted: str | None) -> None:
    """Raise CsrfError unless the form's token matches the cookie's."""
    if not cookie or not submitted or not hmac.compare_digest(str(cookie), str(submitted)):
        raise CsrfError("this form has expired or did not come from the workbench: reload the page and try again")


class Guard:
    """ASGI middleware in front of the whole workbench.

    Args:
        app: the application behind it.
        token: the access token, or None when only this machine can connect.
        allowed_hosts: Host header names accepted (any port).
        body_limit: the largest request body in bytes, and ``upload_limit`` that of ``upload_path``.
    """

    def __init__(self, app, token: str | None, allowed_hosts: set[str], body_limit: int = 256 * 1024,
                 upload_limit: int = 50 * 1024 * 1024, upload_path: str = "/upload"):
        self.app, self.token = app, token
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self.body_limit, self.upload_limit, self.upload_path = body_limit, upload_limit, upload_path

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        host = _header(scope, b"host").lower()
        name = host[1:].split("]")[0] if host.startswith("[") else host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        if "*" not in self.allowed_hosts and name not in self.allowed_hosts:
            return await _plain(send, 400, "unknown host: open the workbench at the address it printed")
        cookies = _cookies(scope)
        set_cookies: list[str] = []
        if self.token is not None:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            given = query.get("token") or cookies.get(TOKEN_COOKIE) or _bearer(scope)
            if not given or not hmac.compare_digest(given, self.token):
                return await _plain(send, 401, "this workbench needs its access token: open the address with "
                                               "?token=... that `plancheck serve` printed")
            if "token" in query:  # keep the token out of links, history and logs: move it to a cookie
                rest = urlencode([(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"))
                                  if k != "token"])
                location = quote(scope["path"]) + (f"?{rest}" if rest else "")
                cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
                return await _redirect(send, location, [cookie])
        csrf = cookies.get(CSRF_COOKIE)
        if not csrf or len(csrf) != 43:
            csrf = secrets.token_urlsafe(32)
            set_cookies.append(f"{CSRF_COOKIE}={csrf}; Path=/; HttpOnly; SameSite=Strict")
        scope.setdefault("state", {})
        scope["state"]["csrf"] = csrf
        scope["state"]["csrf_cookie"] = cookies.get(CSRF_COOKIE)
        scope["state"]["cookies"] = cookies
        limit = self.upload_limit if scope["path"] == self.upload_path else self.body_limit
        length = _header(scope, b"content-length")
        if length.isdigit() and int(length) > limit:
            return await _plain(send, 413, f"the request is larger than the limit of {limit:,} bytes")
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(f"the request is larger than the limit of {limit:,} bytes")
            return message

        async def guarded_send(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {k.lower() for k, _ in headers}
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", PAGE_POLICY.encode()))
                headers += [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                            (b"referrer-policy", b"no-referrer"), (b"cache-control", b"no-store")]
                headers += [(b"set-cookie", c.encode("latin-1")) for c in set_cookies]
                message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, limited_receive, guarded_send)


def _bearer(scope) -> str:
    value = _header(scope, b"authorization")
    return value[7:].strip() if value.lower().startswith("bearer ") else ""


async def _plain(send, status: int, text: str) -> None:
    body = (text + "\n").encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                            (b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


async def _redirect(send, location: str, cookies: list[str]) -> None:
    headers = [(b"location", location.encode("latin-1")), (b"content-length", b"0"), (b"cache-control", b"no-store")]
    headers += [(b"set-cookie", c.encode("latin-1")) for c in cookies]
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
