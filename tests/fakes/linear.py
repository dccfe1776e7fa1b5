"""FakeLinear: Linear's GraphQL API on a local port, refusing whatever Linear's schema refuses.

Every request is checked against Linear's published schema (tests/vendor/linear/schema.graphql)
with graphql-core: the document must parse and validate, and the variables must coerce to the
operation's variable definitions. A request that does not is answered as Linear answers it
(HTTP 400, `{"errors": [{"message", "extensions": {"type", "code"}}]}`) and recorded in
`violations`, so a client drifting from the contract fails its tests. A valid request is then
executed by graphql-core's own executor over a small in-memory workspace (teams, users,
projects, labels, issues); the root fields this adapter needs are modelled (`viewer`, `team`,
`issues`, `users`, `issueCreate`), and a filter the fake does not model is a violation too.

Linear's ways of saying no, as documented: a personal API key in `Authorization` as is (a
wrong or missing key: HTTP 400 with AUTHENTICATION_ERROR); a leaky-bucket request budget per
key with `X-RateLimit-Requests-Limit/-Remaining/-Reset` (reset in UTC epoch milliseconds) on
every answer and, once spent, HTTP 429 with RATELIMITED and `Retry-After`; entity errors (a
team that does not exist) as HTTP 200 with `data: null` and `errors`.

    async with FakeLinear(teams=[...], users=[...]) as linear:
        linear.lose_next_answer("issueCreate")  # the issue is created, the answer never comes
"""

from __future__ import annotations

import asyncio
import functools
import math
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from graphql import (
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

from tests.fakes.vendor_server import FakeVendorServer
from tests.vendor import vendor_file

UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
PRIORITIES = range(5)
DEFAULT_TEAM = {"id": "5b0e6f0c-2f43-4c39-9b2e-3d1c8a1f7e21", "key": "ENG", "name": "Engineering"}
DEFAULT_USERS = (
    {
        "id": "0f6f7a7e-9c1b-4a51-8b8e-1f5f1d8c9a01",
        "name": "Alice Martin",
        "email": "alice@example.com",
    },
    {
        "id": "7d3c2b1a-5e4f-4a3b-9c2d-8e7f6a5b4c02",
        "name": "Bob Okafor",
        "email": "bob@example.com",
    },
)


@functools.cache
def linear_schema() -> GraphQLSchema:
    """Linear's published schema, built once per test process (about half a second)."""
    return build_schema(vendor_file("linear/schema.graphql").read_text(encoding="utf-8"))


@dataclass
class Violation:
    """A request Linear would refuse (or one the fake cannot answer): what and why."""

    operation: str
    problems: list[str]
    body: Any


@dataclass
class Executed:
    """A request that passed validation and ran."""

    operation: str
    fields: tuple[str, ...]
    variables: dict[str, Any]


@dataclass
class LostAnswer:
    """A fault on the next request for one root field; `effect` says whether it ran first."""

    field_name: str
    status: int = 502
    stall: float = 0.0
    effect: bool = True


@dataclass
class Bucket:
    tokens: float
    at: float


def linear_error(
    message: str, *, type_: str, code: str, status: int, friendly: str | None = None
) -> dict[str, Any]:
    extensions: dict[str, Any] = {"type": type_, "code": code, "statusCode": status}
    if friendly:
        extensions["userPresentableMessage"] = friendly
        extensions["userError"] = True
    return {"message": message, "extensions": extensions}


def input_error(message: str, friendly: str) -> GraphQLError:
    return GraphQLError(
        message,
        extensions={
            "type": "invalid input",
            "code": "INPUT_ERROR",
            "statusCode": 400,
            "userError": True,
            "userPresentableMessage": friendly,
        },
    )


class Unmodelled(Exception):
    """The client asked for something this fake does not model (a gap to fill, loudly)."""


class FakeLinear(FakeVendorServer):
    """Linear's GraphQL endpoint at `/graphql` (`url + "/graphql"` is LINEAR_API_URL)."""

    name = "linear"

    def __init__(
        self,
        *,
        api_key: str = "lin_api_fake0123456789",
        organization: str = "acme",
        teams: list[dict[str, str]] | None = None,
        users: list[dict[str, str]] | None = None,
        projects: Sequence[str] = (),
        labels: Sequence[str] = (),
        requests_limit: int = 5000,
        period: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
        latency: float = 0.0,
    ) -> None:
        super().__init__(latency=latency)
        self.api_key = api_key
        self.organization = organization
        self.teams = {t["id"]: dict(t) for t in (teams or [DEFAULT_TEAM])}
        self.users = [dict(u, active=True, displayName=u["name"]) for u in users or DEFAULT_USERS]
        self.viewer = self.users[0]
        self.projects = {p: {"id": p, "name": f"Project {p[:8]}"} for p in projects}
        self.labels = set(labels)
        self.issues: dict[str, dict[str, Any]] = {}
        self.violations: list[Violation] = []
        self.executed: list[Executed] = []
        self.lost_answers: list[LostAnswer] = []
        self.requests_limit = requests_limit
        self._refill_per_second = requests_limit / period
        self._clock = clock
        self._buckets: dict[str, Bucket] = {}
        self._numbers: dict[str, int] = {}

    @property
    def api_url(self) -> str:
        return f"{self.url}/graphql"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/graphql", self.endpoint(self._graphql))

    # -- injection -------------------------------------------------------------------------------

    def lose_next_answer(self, field_name: str, *, status: int = 502, stall: float = 0.0) -> None:
        """The next request for `field_name` takes effect, then its answer is lost: a `status`
        from a proxy in front of Linear, after `stall` seconds (a timeout, if long enough)."""
        self.lost_answers.append(LostAnswer(field_name, status, stall))

    def limit_requests(self, limit: int, *, period: float) -> None:
        """A smaller request budget: `limit` requests, refilled evenly over `period` seconds."""
        self.requests_limit = limit
        self._refill_per_second = limit / period
        self._buckets.clear()

    def fail_next_call(self, field_name: str, count: int = 1, *, status: int = 503) -> None:
        """The next `count` requests for `field_name` fail with `status` and no effect."""
        for _ in range(count):
            self.lost_answers.append(LostAnswer(field_name, status, effect=False))

    def requested(self) -> list[str]:
        """The root fields of every request that reached the endpoint, in order (one entry per
        request, its fields joined by '+')."""
        names = []
        for call in self.calls:
            query = call.body.get("query") if isinstance(call.body, Mapping) else None
            try:
                operation = get_operation_ast(parse(query)) if isinstance(query, str) else None
            except GraphQLError:
                operation = None
            names.append("+".join(_root_fields(operation)) if operation else "?")
        return names

    def issue_by_id(self, issue_id: str) -> dict[str, Any]:
        return self.issues[issue_id]

    def created(self) -> list[Executed]:
        return [e for e in self.executed if "issueCreate" in e.fields]

    # -- the endpoint ------------------------------------------------------------------------------

    async def _graphql(self, request: web.Request) -> web.StreamResponse:
        key = request.headers.get("Authorization", "")
        if key != self.api_key:
            if key == f"Bearer {self.api_key}":
                self._refuse("auth", ["a personal API key is sent as is, without 'Bearer'"], None)
            return self._reply(
                400,
                errors=[
                    linear_error(
                        "Authentication required, not authenticated",
                        type_="authentication error",
                        code="AUTHENTICATION_ERROR",
                        status=401,
                        friendly="You need to authenticate to access this operation.",
                    )
                ],
            )
        budget = self._spend(key)
        if budget is None:
            return self._rate_limited(key)
        headers = budget
        if request.content_type != "application/json":
            return self._invalid(
                "request",
                [f"Content-Type {request.content_type!r}, not application/json"],
                None,
                headers=headers,
            )
        try:
            body = await request.json()
        except ValueError as exc:
            return self._invalid("request", [f"body is not JSON ({exc})"], None, headers=headers)
        return await self._run(body, headers=headers)

    async def _run(self, body: Any, *, headers: dict[str, str]) -> web.StreamResponse:
        if not isinstance(body, Mapping) or not isinstance(body.get("query"), str):
            return self._invalid("request", ["body needs a 'query' string"], body, headers=headers)
        variables = body.get("variables") or {}
        if not isinstance(variables, Mapping):
            return self._invalid(
                "request", ["'variables' must be an object"], body, headers=headers
            )
        try:
            document = parse(body["query"])
        except GraphQLError as exc:
            return self._invalid(
                "request", [exc.message], body, headers=headers, code="GRAPHQL_PARSE_FAILED"
            )
        schema = linear_schema()
        problems = validate(schema, document)
        if problems:
            return self._invalid(
                "request",
                [p.message for p in problems],
                body,
                headers=headers,
                code="GRAPHQL_VALIDATION_FAILED",
            )
        operation = get_operation_ast(document, body.get("operationName"))
        if operation is None:
            return self._invalid("request", ["no single operation to run"], body, headers=headers)
        name = operation.name.value if operation.name else "(anonymous)"
        coerced = get_variable_values(schema, operation.variable_definitions or (), dict(variables))
        if isinstance(coerced, list):
            return self._invalid(
                name, [e.message for e in coerced], body, headers=headers, code="BAD_USER_INPUT"
            )
        fields = _root_fields(operation)
        lost = next((f for f in self.lost_answers if f.field_name in fields), None)
        if lost is not None:
            self.lost_answers.remove(lost)
        if lost is None or lost.effect:
            self.executed.append(Executed(name, fields, dict(variables)))
            result = execute_sync(
                schema,
                document,
                root_value=self._root(name),
                variable_values=dict(variables),
                operation_name=body.get("operationName"),
            )
        if lost is not None:
            if lost.stall:
                await asyncio.sleep(lost.stall)
            return web.Response(status=lost.status, text="<html>Bad gateway</html>")
        errors = [e.formatted for e in result.errors or []]
        return self._reply(200, data=result.data, errors=errors or None, headers=headers)

    # -- answers -----------------------------------------------------------------------------------

    def _reply(
        self,
        status: int,
        *,
        data: Any = None,
        errors: list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        payload: dict[str, Any] = {}
        if errors:
            payload["errors"] = errors
        payload["data"] = data
        return web.json_response(payload, status=status, headers=headers)

    def _refuse(self, operation: str, problems: list[str], body: Any) -> None:
        self.violations.append(Violation(operation, problems, body))

    def _invalid(
        self,
        operation: str,
        problems: list[str],
        body: Any,
        *,
        headers: dict[str, str],
        code: str = "BAD_REQUEST",
    ) -> web.Response:
        self._refuse(operation, problems, body)
        return self._reply(
            400,
            errors=[
                linear_error(p, type_="graphql error", code=code, status=400) for p in problems
            ],
            headers=headers,
        )

    # -- the request budget (leaky bucket per key) ----------------------------------------------

    def _spend(self, key: str) -> dict[str, str] | None:
        """Takes one request from the key's bucket; its headers, or None when it is empty."""
        now = self._clock()
        bucket = self._buckets.setdefault(key, Bucket(float(self.requests_limit), now))
        bucket.tokens = min(
            float(self.requests_limit), bucket.tokens + (now - bucket.at) * self._refill_per_second
        )
        bucket.at = now
        if bucket.tokens < 1:
            return None
        bucket.tokens -= 1
        return self._budget_headers(bucket)

    def _budget_headers(self, bucket: Bucket) -> dict[str, str]:
        until_full = (self.requests_limit - bucket.tokens) / self._refill_per_second
        return {
            "X-RateLimit-Requests-Limit": str(self.requests_limit),
            "X-RateLimit-Requests-Remaining": str(math.floor(bucket.tokens)),
            "X-RateLimit-Requests-Reset": str(int((time.time() + until_full) * 1000)),
        }

    def _rate_limited(self, key: str) -> web.Response:
        self.rate_limited += 1
        bucket = self._buckets[key]
        wait = (1 - bucket.tokens) / self._refill_per_second
        headers = self._budget_headers(bucket)
        headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return self._reply(
            429,
            errors=[
                linear_error(
                    "Rate limit exceeded",
                    type_="ratelimited",
                    code="RATELIMITED",
                    status=429,
                    friendly="Too many requests: try again later.",
                )
            ],
            headers=headers,
        )

    # -- the workspace ----------------------------------------------------------------------------

    def _root(self, operation: str) -> dict[str, Any]:
        def guarded(resolve: Callable[..., Any]) -> Callable[..., Any]:
            def run(info: Any, **args: Any) -> Any:
                try:
                    return resolve(**args)
                except Unmodelled as exc:
                    self._refuse(operation, [f"the fake does not model {exc}"], args)
                    raise GraphQLError(f"fake Linear does not model {exc}") from exc

            return run

        return {
            "viewer": guarded(lambda: self.viewer),
            "team": guarded(self._team),
            "issues": guarded(self._issues),
            "users": guarded(self._users),
            "issueCreate": guarded(self._issue_create),
        }

    def _team(self, id: str) -> dict[str, Any]:
        team = self.teams.get(id) or next((t for t in self.teams.values() if t["key"] == id), None)
        if team is None:
            raise input_error("Entity not found: Team", "Could not find referenced Team.")
        return team

    def _issues(self, filter: Mapping[str, Any] | None = None, **args: Any) -> dict[str, Any]:
        _only(args, {"first", "includeArchived"}, "issues arguments")
        found = _matching(list(self.issues.values()), filter or {}, ISSUE_FIELDS)
        return _connection(found[: args.get("first") or 50])

    def _users(self, filter: Mapping[str, Any] | None = None, **args: Any) -> dict[str, Any]:
        _only(args, {"first", "includeDisabled"}, "users arguments")
        found = _matching(self.users, filter or {}, USER_FIELDS)
        return _connection(found[: args.get("first") or 50])

    def _issue_create(self, input: Mapping[str, Any]) -> dict[str, Any]:
        _only(
            input,
            {
                "id",
                "teamId",
                "title",
                "description",
                "priority",
                "projectId",
                "labelIds",
                "assigneeId",
            },
            "IssueCreateInput fields",
        )
        team = self.teams.get(input["teamId"])
        if team is None:
            raise input_error("Entity not found: Team", "Could not find referenced Team.")
        issue_id = input.get("id")
        if issue_id is not None and not UUID_V4.match(issue_id):
            self._refuse("issueCreate", [f"id {issue_id!r} is not a UUID v4"], dict(input))
            raise input_error("id must be a UUID", "The identifier must be a UUID v4.")
        if issue_id in self.issues:
            raise input_error(
                "Conflict: an issue with this id already exists",
                "An issue with this identifier already exists.",
            )
        title = (input.get("title") or "").strip()
        if not title:
            raise input_error("title must not be empty", "The issue needs a title.")
        priority = input.get("priority", 0)
        if priority not in PRIORITIES:
            raise input_error("priority must be 0 to 4", "Invalid priority.")
        project = None
        if input.get("projectId") is not None:
            project = self.projects.get(input["projectId"])
            if project is None:
                raise input_error("Entity not found: Project", "Could not find referenced Project.")
        for label in input.get("labelIds") or []:
            if label not in self.labels:
                raise input_error(
                    "Entity not found: IssueLabel", "Could not find referenced IssueLabel."
                )
        assignee = None
        if input.get("assigneeId") is not None:
            assignee = next((u for u in self.users if u["id"] == input["assigneeId"]), None)
            if assignee is None:
                raise input_error("Entity not found: User", "Could not find referenced User.")
        number = self._numbers[team["id"]] = self._numbers.get(team["id"], 0) + 1
        identifier = f"{team['key']}-{number}"
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]
        issue = {
            "id": issue_id or str(uuid.uuid4()),
            "identifier": identifier,
            "number": float(number),
            "title": title,
            "description": input.get("description"),
            "priority": float(priority),
            "url": f"https://linear.app/{self.organization}/issue/{identifier}/{slug}",
            "team": team,
            "project": project,
            "assignee": assignee,
            "labelIds": list(input.get("labelIds") or []),
            "archivedAt": None,
        }
        self.issues[issue["id"]] = issue
        return {"success": True, "issue": issue, "lastSyncId": float(len(self.issues))}


# -- filters ----------------------------------------------------------------------------------------

ISSUE_FIELDS = {"id", "description", "title"}
USER_FIELDS = {"id", "email", "name", "active"}
TEAM_FIELDS = {"id", "key"}


def _matching(
    items: list[dict[str, Any]], spec: Mapping[str, Any], fields: set[str]
) -> list[dict[str, Any]]:
    """The items the filter keeps; a filter the fake cannot evaluate raises Unmodelled even
    when there is nothing to filter, so a gap never passes for an empty answer."""
    _check(spec, fields)
    return [i for i in items if _matches(i, spec, fields)]


def _check(spec: Mapping[str, Any], fields: set[str]) -> None:
    for name, condition in spec.items():
        if name in ("and", "or"):
            for part in condition:
                _check(part, fields)
        elif name == "team" and fields is ISSUE_FIELDS:
            _check(condition, TEAM_FIELDS)
        elif name in fields:
            unknown = set(condition) - set(COMPARATORS)
            if unknown:
                raise Unmodelled(f"the comparators {sorted(unknown)}")
        else:
            raise Unmodelled(f"the filter on {name!r}")


def _matches(item: Mapping[str, Any], spec: Mapping[str, Any], fields: set[str]) -> bool:
    for name, condition in spec.items():
        if name == "and":
            ok = all(_matches(item, c, fields) for c in condition)
        elif name == "or":
            ok = any(_matches(item, c, fields) for c in condition)
        elif name == "team":
            ok = _matches(item["team"], condition, TEAM_FIELDS)
        else:
            ok = _compare(item.get(name), condition)
        if not ok:
            return False
    return True


COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda value, x: value == x,
    "neq": lambda value, x: value != x,
    "in": lambda value, x: value in x,
    "nin": lambda value, x: value not in x,
    "eqIgnoreCase": lambda value, x: str(value or "").lower() == str(x).lower(),
    "contains": lambda value, x: str(x) in str(value or ""),
    "containsIgnoreCase": lambda value, x: str(x).lower() in str(value or "").lower(),
}


def _compare(value: Any, comparator: Mapping[str, Any]) -> bool:
    return all(COMPARATORS[op](value, operand) for op, operand in comparator.items())


def _only(given: Mapping[str, Any], modelled: set[str], what: str) -> None:
    extra = sorted(k for k, v in given.items() if k not in modelled and v is not None)
    if extra:
        raise Unmodelled(f"{what} {', '.join(extra)}")


def _connection(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "nodes": nodes,
        "edges": [{"node": n, "cursor": str(n["id"])} for n in nodes],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": str(nodes[0]["id"]) if nodes else None,
            "endCursor": str(nodes[-1]["id"]) if nodes else None,
        },
    }


def _root_fields(operation: OperationDefinitionNode) -> tuple[str, ...]:
    return tuple(s.name.value for s in operation.selection_set.selections if hasattr(s, "name"))


@dataclass
class ManualClock:
    """Monotonic seconds a test moves by hand (the fake's rate-limit clock)."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        """An `OutboundHttp(sleep=...)` that records the wait and moves this clock by it."""
        self.slept.append(seconds)
        self.now += seconds
