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
import time
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

from tests.fakes.linear.workspace import Workspace
from tests.fakes.vendor_server import FakeVendorServer
from tests.vendor import vendor_file


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
        self.workspace = Workspace(
            organization=organization,
            teams=teams,
            users=users,
            projects=projects,
            labels=labels,
            refuse=self._refuse,
        )
        self.violations: list[Violation] = []
        self.executed: list[Executed] = []
        self.lost_answers: list[LostAnswer] = []
        self.requests_limit = requests_limit
        self._refill_per_second = requests_limit / period
        self._clock = clock
        self._buckets: dict[str, Bucket] = {}

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

    @property
    def issues(self) -> dict[str, dict[str, Any]]:
        return self.workspace.issues

    @property
    def viewer(self) -> dict[str, Any]:
        return self.workspace.viewer

    def issue_by_id(self, issue_id: str) -> dict[str, Any]:
        return self.workspace.issues[issue_id]

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
                root_value=self.workspace.root(name),
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
