"""FakeStatuspage: Statuspage's management API (v1) for one page, on a real local HTTP server.

It speaks the contract written down in tests/vendor/statuspage/manage-api.yaml (our own summary of
Statuspage's documented fields) and refuses what breaks it:

- `Authorization: OAuth <key>` or 401; a page id other than this page's: 404;
- `GET /v1/pages/{id}`, `GET .../components` (paged: `page`, `per_page` at most 100),
  `GET .../incidents` (`q`, `limit` at most 100, `page`; newest first), `GET .../incidents/{id}`,
  `POST .../incidents` (201) and `PATCH .../incidents/{id}`, with Statuspage's JSON shapes;
- a write body that is not `{"incident": {...}}` with known fields of the documented types and
  enums (status, impact_override, component statuses, metadata whose top-level values are
  objects, component ids of this page) gets 422 `{"message": ...}` and is recorded in
  `violations`, with no effect;
- each write with a `body` adds an incident update; `metadata` replaces the incident's (the
  strictest reading of the docs, so a client that forgets earlier markers fails its tests);
- its 1 request/s per key on a rolling 60 s window (`rate_limited_at()`) answers 420 (or 429)
  with Retry-After.

`lose_next_response(status)` makes the next write take effect and then answer `status`, as when
the answer to a create is lost: the case the adapter's crash marker exists for.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from aiohttp import web

from tests.fakes.vendor_server import FakeVendorServer
from tests.vendor import vendor_file

CONTRACT = yaml.safe_load(vendor_file("statuspage/manage-api.yaml").read_text(encoding="utf-8"))
WRITE_FIELDS: dict[str, Any] = CONTRACT["IncidentWrite"]
MAX_PER_PAGE = 100


@dataclass
class LostResponse:
    status: int


class FakeStatuspage(FakeVendorServer):
    name = "statuspage"

    def __init__(
        self,
        *,
        api_key: str = "sp-test-key",
        page_id: str = "pg1acme0000",
        page_name: str = "Acme Status",
        domain: str | None = "status.acme.test",
        components: tuple[str, ...] = ("Checkout", "Payments", "Platform"),
        latency: float = 0.0,
    ) -> None:
        super().__init__(latency=latency)
        self.api_key = api_key
        self.page_id = page_id
        self.page_name = page_name
        self.domain = domain  # the page's CNAME alias; None: read at its statuspage.io subdomain
        self.violations: list[str] = []
        self.incidents: dict[str, dict[str, Any]] = {}
        self.lost: list[LostResponse] = []
        self._ids = itertools.count(1)
        self._epoch = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
        self.components: list[dict[str, Any]] = []
        self.add_component("Services", group=True)
        for name in components:
            self.add_component(name)

    # -- set-up and injection ------------------------------------------------------------------

    def add_component(self, name: str, *, group: bool = False) -> dict[str, Any]:
        now = self._now()
        component = {
            "id": self._id("cmp"),
            "page_id": self.page_id,
            "group_id": None,
            "group": group,
            "name": name,
            "description": None,
            "status": "operational",
            "position": len(self.components) + 1,
            "showcase": False,
            "only_show_if_degraded": False,
            "start_date": None,
            "created_at": now,
            "updated_at": now,
        }
        self.components.append(component)
        return component

    def rate_limited_at(
        self, per_second: float = 1.0, *, window: float = 60.0, status: int = 420
    ) -> None:
        """Statuspage's limit per API key, 1 request/s on a rolling 60 s window: over it,
        `status` (420 or 429) with Retry-After, and nothing done."""
        self.rate_limit(per_second, window=window, status=status)

    def lose_next_response(self, status: int = 503) -> None:
        """The next write happens, then its answer is `status` instead (the answer was lost)."""
        self.lost.append(LostResponse(status))

    # -- what tests read -----------------------------------------------------------------------

    def bodies(self, incident_id: str) -> list[str]:
        """The update texts of an incident, oldest first."""
        incident = self.incidents.get(incident_id)
        if incident is None:
            return []
        return [u["body"] for u in reversed(incident["incident_updates"])]

    def all_updates(self) -> list[tuple[str, str, str]]:
        """(incident id, status, body) of every update on the page, oldest first."""
        return [
            (incident["id"], u["status"], u["body"])
            for incident in self.incidents.values()
            for u in reversed(incident["incident_updates"])
        ]

    def component_status(self, name: str) -> str:
        return next(c["status"] for c in self.components if c["name"] == name)

    # -- the contract --------------------------------------------------------------------------

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"OAuth {self.api_key}"

    def routes(self, app: web.Application) -> None:
        base = "/v1/pages/{page_id}"
        app.router.add_get(base, self.endpoint(self._page))
        app.router.add_get(base + "/components", self.endpoint(self._components))
        app.router.add_get(base + "/incidents", self.endpoint(self._incidents))
        app.router.add_post(base + "/incidents", self.endpoint(self._create))
        app.router.add_get(base + "/incidents/{incident_id}", self.endpoint(self._incident))
        app.router.add_patch(base + "/incidents/{incident_id}", self.endpoint(self._update))

    async def _page(self, request: web.Request) -> web.Response:
        if (refused := self._page_refused(request)) is not None:
            return refused
        return web.json_response(
            {
                "id": self.page_id,
                "name": self.page_name,
                "subdomain": "acme",
                "domain": self.domain,
                "url": "https://www.acme.test",
                "time_zone": "UTC",
                "created_at": self._iso(self._epoch),
                "updated_at": self._now(),
            }
        )

    async def _components(self, request: web.Request) -> web.Response:
        if (refused := self._page_refused(request)) is not None:
            return refused
        paging = self._paging(request, size_param="per_page")
        if isinstance(paging, web.Response):
            return paging
        start, size = paging
        return web.json_response(self.components[start : start + size])

    async def _incidents(self, request: web.Request) -> web.Response:
        if (refused := self._page_refused(request)) is not None:
            return refused
        paging = self._paging(request, size_param="limit")
        if isinstance(paging, web.Response):
            return paging
        start, size = paging
        newest = list(reversed(self.incidents.values()))
        q = request.query.get("q", "").casefold()
        if q:
            newest = [i for i in newest if q in _searchable(i)]
        return web.json_response(newest[start : start + size])

    async def _incident(self, request: web.Request) -> web.Response:
        if (refused := self._page_refused(request)) is not None:
            return refused
        incident = self.incidents.get(request.match_info["incident_id"])
        if incident is None:
            return _error(404, "The requested resource could not be found.")
        return web.json_response(incident)

    async def _create(self, request: web.Request) -> web.StreamResponse:
        if (refused := self._page_refused(request)) is not None:
            return refused
        fields = await self._write_fields(request, creating=True)
        if isinstance(fields, web.Response):
            return fields
        now = self._now()
        incident_id = self._id("inc")
        incident: dict[str, Any] = {
            "id": incident_id,
            "page_id": self.page_id,
            "name": fields["name"],
            "status": fields.get("status", "investigating"),
            "impact": fields.get("impact_override", "none"),
            "impact_override": fields.get("impact_override"),
            "shortlink": f"https://stspg.io/{incident_id[-6:]}",
            "metadata": fields.get("metadata", {}),
            "created_at": now,
            "updated_at": now,
            "monitoring_at": None,
            "resolved_at": None,
            "scheduled_for": fields.get("scheduled_for"),
            "scheduled_until": fields.get("scheduled_until"),
            "components": [],
            "incident_updates": [],
        }
        self._apply(incident, fields, now)
        self.incidents[incident_id] = incident
        return self._answer_write(incident, 201)

    async def _update(self, request: web.Request) -> web.StreamResponse:
        if (refused := self._page_refused(request)) is not None:
            return refused
        incident = self.incidents.get(request.match_info["incident_id"])
        if incident is None:
            return _error(404, "The requested resource could not be found.")
        fields = await self._write_fields(request, creating=False)
        if isinstance(fields, web.Response):
            return fields
        now = self._now()
        for name in ("name", "status", "impact_override", "metadata"):
            if name in fields:
                incident[name] = fields[name]
        if "impact_override" in fields:
            incident["impact"] = fields["impact_override"]
        incident["updated_at"] = now
        self._apply(incident, fields, now)
        return self._answer_write(incident, 200)

    # -- internals -----------------------------------------------------------------------------

    def _apply(self, incident: dict[str, Any], fields: dict[str, Any], now: str) -> None:
        status = incident["status"]
        if status == "monitoring" and incident["monitoring_at"] is None:
            incident["monitoring_at"] = now
        incident["resolved_at"] = now if status == "resolved" else None
        by_id = {c["id"]: c for c in self.components}
        affected = []
        for component_id in fields.get("component_ids", []):
            component = by_id[component_id]
            if all(c["id"] != component_id for c in incident["components"]):
                incident["components"].append(component)
        for component_id, new in fields.get("components", {}).items():
            component = by_id[component_id]
            affected.append(
                {
                    "code": component_id,
                    "name": component["name"],
                    "old_status": component["status"],
                    "new_status": new,
                }
            )
            component["status"], component["updated_at"] = new, now
        if "body" in fields:
            incident["incident_updates"].insert(
                0,
                {
                    "id": self._id("upd"),
                    "incident_id": incident["id"],
                    "status": status,
                    "body": fields["body"],
                    "created_at": now,
                    "updated_at": now,
                    "display_at": now,
                    "affected_components": affected,
                    "deliver_notifications": fields.get("deliver_notifications", True),
                    "custom_tweet": None,
                    "tweet_id": None,
                },
            )

    def _answer_write(self, incident: dict[str, Any], status: int) -> web.Response:
        if self.lost:
            lost = self.lost.pop(0)
            return _error(lost.status, "Service Unavailable")
        return web.json_response(incident, status=status)

    async def _write_fields(
        self, request: web.Request, *, creating: bool
    ) -> dict[str, Any] | web.Response:
        try:
            doc = await request.json()
        except ValueError:
            return self._refuse(request, 400, "the body is not JSON")
        if (
            not isinstance(doc, dict)
            or set(doc) != {"incident"}
            or not isinstance(doc["incident"], dict)
        ):
            return self._refuse(request, 400, 'the body must be {"incident": {...}}')
        fields: dict[str, Any] = doc["incident"]
        problems = [p for name, value in fields.items() for p in self._field_problems(name, value)]
        if creating and not isinstance(fields.get("name"), str):
            problems.append("name can't be blank")
        if fields.get("status") == "scheduled" and not (
            fields.get("scheduled_for") and fields.get("scheduled_until")
        ):
            problems.append("a scheduled incident needs scheduled_for and scheduled_until")
        if problems:
            return self._refuse(request, 422, "; ".join(problems))
        return fields

    def _field_problems(self, name: str, value: Any) -> list[str]:
        spec = WRITE_FIELDS.get(name)
        if spec is None:
            return [f"unknown field incident[{name}]"]
        kind = spec["type"]
        if kind == "string":
            if not isinstance(value, str):
                return [f"incident[{name}] must be a string"]
            if "enum" in spec and value not in spec["enum"]:
                return [f"incident[{name}] {value!r} is not one of {', '.join(spec['enum'])}"]
            if len(value) > spec.get("max_length", 10**9):
                return [f"incident[{name}] is longer than {spec['max_length']} characters"]
            if name == "name" and not value.strip():
                return ["name can't be blank"]
            if spec.get("format") == "date-time":
                try:
                    datetime.fromisoformat(value.replace("Z", "+00:00"))
                except ValueError:
                    return [f"incident[{name}] {value!r} is not a date-time"]
            return []
        if kind == "boolean":
            return [] if isinstance(value, bool) else [f"incident[{name}] must be a boolean"]
        if kind == "array":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return [f"incident[{name}] must be an array of strings"]
            return [f"component {v} is not on this page" for v in value if not self._component(v)]
        if name == "components":
            if not isinstance(value, dict):
                return ["incident[components] must be an object of component id to status"]
            allowed = spec["values"]["enum"]
            return [
                f"component {cid} is not on this page"
                if not self._component(cid)
                else f"component status {status!r} is not one of {', '.join(allowed)}"
                for cid, status in value.items()
                if not self._component(cid) or status not in allowed
            ]
        # metadata: an object whose top-level values are objects
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            return ["incident[metadata] top-level values must be objects"]
        return []

    def _component(self, component_id: str) -> bool:
        return any(c["id"] == component_id and not c["group"] for c in self.components)

    def _paging(self, request: web.Request, *, size_param: str) -> tuple[int, int] | web.Response:
        try:
            number = int(request.query.get("page", "1"))
            size = int(request.query.get(size_param, str(MAX_PER_PAGE)))
        except ValueError:
            return self._refuse(request, 400, f"page and {size_param} must be integers")
        if number < 1 or not 1 <= size <= MAX_PER_PAGE:
            return self._refuse(
                request, 400, f"page must be 1 or more and {size_param} 1 to {MAX_PER_PAGE}"
            )
        return (number - 1) * size, size

    def _page_refused(self, request: web.Request) -> web.Response | None:
        if request.match_info["page_id"] != self.page_id:
            return _error(404, "The requested resource could not be found.")
        return None

    def _refuse(self, request: web.Request, status: int, message: str) -> web.Response:
        self.violations.append(f"{request.method} {request.path}: {message}")
        return _error(status, message)

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):09d}"

    def _now(self) -> str:
        """Each call a millisecond later than the last: times are distinct and ordered."""
        self._epoch += timedelta(milliseconds=1)
        return self._iso(self._epoch)

    @staticmethod
    def _iso(at: datetime) -> str:
        return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _searchable(incident: dict[str, Any]) -> str:
    parts = [incident["name"], incident["status"]]
    parts += [u["body"] for u in incident["incident_updates"]]
    return " ".join(parts).casefold()


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)
