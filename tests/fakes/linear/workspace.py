"""The fake Linear's workspace: teams, users, projects, labels and issues, and the root fields
the adapter uses (`viewer`, `team`, `issues`, `users`, `issueCreate`) as graphql-core resolvers.

Errors are Linear's: an entity that does not exist is an `invalid input` error naming it. A
filter, argument or input field the fake does not model raises `Unmodelled`, which the server
records as a violation, so a gap in the fake never passes for an empty answer.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from graphql import GraphQLError

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


Refuse = Callable[[str, list[str], Any], None]


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


class Workspace:
    """What one Linear organization holds, as the GraphQL API returns it (dicts by field name)."""

    def __init__(
        self,
        *,
        organization: str,
        teams: list[dict[str, str]] | None,
        users: list[dict[str, str]] | None,
        projects: Sequence[str],
        labels: Sequence[str],
        refuse: Refuse,
    ) -> None:
        self.organization = organization
        self.teams = {t["id"]: dict(t) for t in (teams or [DEFAULT_TEAM])}
        self.users = [dict(u, active=True, displayName=u["name"]) for u in users or DEFAULT_USERS]
        self.viewer = self.users[0]
        self.projects = {p: {"id": p, "name": f"Project {p[:8]}"} for p in projects}
        self.labels = set(labels)
        self.issues: dict[str, dict[str, Any]] = {}
        self.refuse = refuse
        self._numbers: dict[str, int] = {}

    def root(self, operation: str) -> dict[str, Any]:
        """The root value graphql-core executes an operation on: a resolver per modelled field."""

        def guarded(resolve: Callable[..., Any]) -> Callable[..., Any]:
            def run(info: Any, **args: Any) -> Any:
                try:
                    return resolve(**args)
                except Unmodelled as exc:
                    self.refuse(operation, [f"the fake does not model {exc}"], args)
                    raise GraphQLError(f"fake Linear does not model {exc}") from exc

            return run

        return {
            "viewer": guarded(lambda: self.viewer),
            "team": guarded(self.team),
            "issues": guarded(self.issues_matching),
            "users": guarded(self.users_matching),
            "issueCreate": guarded(self.issue_create),
        }

    def team(self, id: str) -> dict[str, Any]:
        team = self.teams.get(id)
        if team is None:
            raise input_error("Entity not found: Team", "Could not find referenced Team.")
        return team

    def issues_matching(
        self, filter: Mapping[str, Any] | None = None, **args: Any
    ) -> dict[str, Any]:
        _only(args, {"first", "includeArchived"}, "issues arguments")
        found = _matching(list(self.issues.values()), filter or {}, ISSUE_FIELDS)
        return _connection(found[: args.get("first") or 50])

    def users_matching(
        self, filter: Mapping[str, Any] | None = None, **args: Any
    ) -> dict[str, Any]:
        _only(args, {"first", "includeDisabled"}, "users arguments")
        found = _matching(self.users, filter or {}, USER_FIELDS)
        return _connection(found[: args.get("first") or 50])

    def issue_create(self, input: Mapping[str, Any]) -> dict[str, Any]:
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
            self.refuse("issueCreate", [f"id {issue_id!r} is not a UUID v4"], dict(input))
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
