"""Postmortem drafts in the console: the Markdown the embedded issue tracker files, rendered as a
page for signed-in people, and the file itself to download.

Postmortems name the responders and quote the war room, so they are never public; scripts read
the same file from `GET /api/postmortems/{name}` with a personal token (web/postmortems.py).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from incident_response.adapters.embedded.postmortems import split_key
from incident_response.web.console.incidents import ConsolePages
from incident_response.web.console.markdown import markdown_renderer, render_markdown
from incident_response.web.console.rendering import (
    SECURITY_HEADERS,
    PageError,
    Pages,
    html_route_class,
)
from incident_response.web.console.services import ConsoleServices
from incident_response.web.console.signin import ConsoleAuth

MARKDOWN = "text/markdown; charset=utf-8"


def postmortems_router(*, services: ConsoleServices, auth: ConsoleAuth, pages: Pages) -> APIRouter:
    router = APIRouter(route_class=html_route_class(pages), include_in_schema=False)
    console = ConsolePages(pages=pages, auth=auth)
    md = markdown_renderer()

    async def markdown_of(name: str) -> str:
        text = await services.postmortems.read(name)
        if text is None:
            raise PageError(404, f"There is no postmortem {name}. It may have been mistyped.")
        return text

    @router.get("/console/postmortems/{name}")
    async def postmortem_page(request: Request, name: str) -> Response:
        visitor = await auth.require(request)
        key, body = split_key(await markdown_of(name))
        # the embedded tracker files each postmortem under its incident's id
        incident = await services.store.get(key) if key else None
        title = next((ln[2:].strip() for ln in body.splitlines() if ln.startswith("# ")), name)
        return console.show(
            request,
            visitor,
            "postmortem.html",
            nav="incidents",
            title=title,
            postmortem_id=name,
            incident=incident,
            document=render_markdown(body, md),
        )

    @router.get("/console/postmortems/{name}/markdown")
    async def postmortem_markdown(request: Request, name: str) -> Response:
        await auth.require(request)
        text = await markdown_of(name)
        headers = {
            **SECURITY_HEADERS,
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{name}.md"',
        }
        return Response(text, media_type=MARKDOWN, headers=headers)

    return router
