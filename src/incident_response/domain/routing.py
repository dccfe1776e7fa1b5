"""Routing rules: which alerts open an incident, which only join one, which are only recorded.

A rule matches an alert by its source, its labels (exact values or shell-style globs such as
`staging-*`) and a minimum severity (`P2` matches P1 and P2); every condition a rule names must
hold. The first matching rule decides; when none matches the alert opens an incident, as every
alert did before rules existed.

    open    open an incident (or join the storm's, or the alert group's, as before)
    attach  join an open incident of the same service; with none open, record it and stop
    ignore  record it (audited ALERT_IGNORED, with the rule) and do nothing else

Rules are data, parsed and checked at start-up: a bad rule stops `serve` with a message that
names it. Matching is pure, so the same alert always takes the same route.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from incident_response.domain.alert import Alert, AlertSource, Severity


class RouteAction(StrEnum):
    OPEN = "open"
    ATTACH = "attach"
    IGNORE = "ignore"


class RoutingError(ValueError):
    """A routing rule cannot be used; the message names the rule and says why."""


class RoutingRule(BaseModel):
    """One rule. `name` is how audit records and errors refer to it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = ""
    source: AlertSource | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    min_severity: Severity | None = None
    action: RouteAction

    def matches(self, alert: Alert) -> bool:
        if self.source is not None and alert.source is not self.source:
            return False
        if self.min_severity is not None and alert.severity.rank > self.min_severity.rank:
            return False
        for label, pattern in self.labels.items():
            value = alert.labels.get(label)
            if value is None or not fnmatchcase(value, pattern):
                return False
        return True


@dataclass(frozen=True)
class Route:
    """What the rules decided for one alert, and why (for the audit record)."""

    action: RouteAction
    rule: str | None  # the matching rule's name; None when no rule matched

    @property
    def why(self) -> str:
        if self.rule is None:
            return "no routing rule matched: the default is to open"
        return f"routing rule {self.rule!r} says {self.action.value}"


@dataclass(frozen=True)
class Routing:
    """An ordered list of rules; the first that matches an alert routes it."""

    rules: tuple[RoutingRule, ...] = ()

    def route(self, alert: Alert) -> Route:
        for rule in self.rules:
            if rule.matches(alert):
                return Route(rule.action, rule.name)
        return Route(RouteAction.OPEN, None)


# What ships: a page (P1, P2) opens a war room; an alert labelled `severity: warning` joins
# the incident already open for its service instead of opening a P3 room of its own; other
# P3 alerts (including alerts whose severity label is missing or unknown, which count as P3)
# still open one, so nothing an on-call tool escalated is lost; P4 (info, low) is recorded only.
DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    {"name": "warnings join", "labels": {"severity": "warning"}, "action": "attach"},
    {"name": "P1-P3 open", "min_severity": "P3", "action": "open"},
    {"name": "P4 recorded", "action": "ignore"},
)


def parse_routing(raw: str | Sequence[Any] | None) -> Routing:
    """Rules from JSON text (INCIDENT_RESPONSE_ROUTING) or an already-parsed list; None (not
    configured, or blank) is the shipped default, `[]` opens an incident for every alert. RoutingError
    names the first bad rule."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return parse_routing(list(DEFAULT_RULES))
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise RoutingError(f"routing rules are not valid JSON: {exc.msg}") from None
    if not isinstance(raw, list):
        raise RoutingError("routing rules must be a JSON list of rules, first match wins")
    rules: list[RoutingRule] = []
    seen: set[str] = set()
    for number, item in enumerate(raw, start=1):
        rule = _rule(number, item)
        if rule.name in seen:
            raise RoutingError(f"routing rule {number}: the name {rule.name!r} is used twice")
        seen.add(rule.name)
        rules.append(rule)
    return Routing(tuple(rules))


def _rule(number: int, item: Any) -> RoutingRule:
    label = f"routing rule {number}"
    if not isinstance(item, dict):
        raise RoutingError(f"{label}: a rule is an object such as {{'action': 'open'}}")
    if isinstance(item.get("name"), str) and item["name"]:
        label += f" ({item['name']!r})"
    try:
        rule = RoutingRule.model_validate(item)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'rule'}: {e['msg']}" for e in exc.errors()
        )
        raise RoutingError(f"{label}: {problems}") from None
    return rule if rule.name else rule.model_copy(update={"name": f"rule {number}"})
