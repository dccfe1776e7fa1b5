"""Server-side HTML: the Jinja2 environment, the shared filters, static assets, and HTML errors.

HTML routes use `html_route_class(pages)`: a failure inside one becomes a readable error page
(404, 403, 500) instead of the JSON the API answers with, and `Redirect` lets any helper send
the browser elsewhere (to sign in, back to the incident) without threading responses through.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from incident_response.domain.clock import Clock, isoformat, utc
from incident_response.domain.text import shortened
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

WEB = Path(__file__).resolve().parent.parent
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"

# No inline script or style anywhere, so the policy can forbid both.
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

ERROR_TITLES: Mapping[int, str] = {
    400: "That request was not understood",
    401: "Please sign in",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed here",
    409: "Something changed meanwhile",
    422: "That request was not understood",
    500: "Something went wrong on our side",
}


class Redirect(Exception):
    """Send the browser to `url` (303, so a POST becomes a GET)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class PageError(Exception):
    """Answer with the error page: `status`, a title and what the person can do about it."""

    def __init__(self, status: int, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.title = title or ERROR_TITLES.get(status, "Something went wrong")


def time_tag(value: datetime | None, style: str = "datetime") -> Markup:
    """`<time>` in UTC, which the page's script rewrites into the viewer's time zone; the UTC
    time stays on hover (the title)."""
    if value is None:
        return Markup('<span class="muted">never</span>')
    at = utc(value)
    text = f"{at:%Y-%m-%d %H:%M} UTC" if style == "datetime" else f"{at:%Y-%m-%d}"
    return Markup(
        '<time datetime="{iso}" title="UTC {title}" data-local="{style}">{text}</time>'
    ).format(iso=isoformat(at), title=f"{at:%Y-%m-%d %H:%M:%S}", style=style, text=text)


def duration_text(seconds: float | None) -> str:
    """`850 ms`, `4.2 s`, `12m 05s`, `3h 20m`, `2d 4h`: the precision a person cares about."""
    if seconds is None:
        return "\u2014"
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


def humanise(value: str) -> str:
    """`WAR_ROOM_ASSEMBLED` -> `War room assembled`; `alert_received` -> `Alert received`."""
    return value.replace("_", " ").replace(".", " ").strip().capitalize()


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str

    @cached_property
    def etag(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:16]


class Pages:
    """Renders templates into responses with the console's security headers."""

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self._assets: dict[str, Asset] = {}
        env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["time"] = time_tag
        env.filters["duration"] = duration_text
        env.filters["humanise"] = humanise
        env.filters["shortened"] = shortened
        env.globals["static"] = self.static_url
        self._env = env

    def render(self, name: str, **context: Any) -> str:
        base = {
            "title": "Console",
            "person": None,
            "csrf": "",
            "flash": None,
            "reply_places": (),
            "nav": "",
            "now": self._clock.now(),
        }
        return self._env.get_template(name).render({**base, **context})

    def page(
        self, name: str, *, status: int = 200, cache: str = "no-store", **context: Any
    ) -> HTMLResponse:
        response = HTMLResponse(self.render(name, **context), status_code=status)
        response.headers.update(SECURITY_HEADERS)
        response.headers["Cache-Control"] = cache
        return response

    def error(self, status: int, message: str, *, title: str | None = None) -> HTMLResponse:
        return self.page(
            "error.html",
            status=status,
            title=title or ERROR_TITLES.get(status, "Something went wrong"),
            message=message,
            code=status,
        )

    # -- static assets -------------------------------------------------------------------------

    def asset(self, name: str) -> Asset | None:
        """A file from the static folder by plain name (no paths), read once."""
        if name in self._assets:
            return self._assets[name]
        if "/" in name or "\\" in name or name.startswith("."):
            return None
        path = STATIC / name
        if not path.is_file():
            return None
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if media_type.startswith("text/") or media_type.endswith("javascript"):
            media_type += "; charset=utf-8"
        asset = self._assets[name] = Asset(path.read_bytes(), media_type)
        return asset

    def static_url(self, name: str) -> str:
        asset = self.asset(name)
        version = f"?v={asset.etag}" if asset is not None else ""
        return f"/static/{escape(name)}{version}"


Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


def html_route_class(pages: Pages) -> type[APIRoute]:
    """An APIRoute whose failures are answered with HTML pages, not the API's JSON."""

    class HtmlRoute(APIRoute):
        def get_route_handler(self) -> Endpoint:
            handler = super().get_route_handler()

            async def route(request: Request) -> Response:
                try:
                    return await handler(request)
                except Redirect as exc:
                    return RedirectResponse(exc.url, status_code=303)
                except PageError as exc:
                    return pages.error(exc.status, exc.message, title=exc.title)
                except HTTPException as exc:
                    return pages.error(exc.status_code, str(exc.detail))
                except RequestValidationError:
                    return pages.error(400, "Some of the values in the address are not valid.")
                except Exception:
                    log.exception("console.page_failed", path=request.url.path)
                    return pages.error(
                        500,
                        "The error is logged. Try again; if it keeps happening, the incident "
                        "can still be run with the API or the CLI.",
                    )

            return route

    return HtmlRoute
