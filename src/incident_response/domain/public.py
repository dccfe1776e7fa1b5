"""What the public may read about an incident: names fit for a status page.

Alert titles and service labels are written for engineers and can carry hostnames, pods or
addresses. What customers see comes from the approved draft: its text, name, stage, impact and
components. This module proposes a draft's public fields (the IC can change any of them before
approving) and checks edits to them; components come from the configured `ComponentMap`, never
from an internal service name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from incident_response.domain.context import (
    COMPONENT_STATUS_BY_IMPACT,
    ComponentStatus,
    Impact,
    PublicStatus,
)
from incident_response.domain.status_update import PublicComponent, StatusDraft
from incident_response.domain.text import encodable

ACRONYMS = frozenset({"api", "ui", "sso", "cdn", "dns", "sms", "ci", "id", "vpn"})
PLAIN_WORD = re.compile(r"^(?:[a-z]+|v\d+)$", re.IGNORECASE)

MAX_TITLE_CHARS = 120
MAX_COMPONENT_CHARS = 60
MAX_COMPONENTS = 10
DEFAULT_COMPONENT = "Platform"

# the words the public page shows for a stage and an impact
STAGE_LABELS: Mapping[PublicStatus, str] = {
    PublicStatus.INVESTIGATING: "Investigating",
    PublicStatus.IDENTIFIED: "Identified",
    PublicStatus.MONITORING: "Monitoring",
    PublicStatus.RESOLVED: "Resolved",
}
IMPACT_LABELS: Mapping[Impact, str] = {
    Impact.NONE: "No impact",
    Impact.MINOR: "Minor impact",
    Impact.MAJOR: "Major impact",
    Impact.CRITICAL: "Critical impact",
}
# the statuses the IC may choose for a component an update names, in the words the page shows
COMPONENT_STATUS_LABELS: Mapping[ComponentStatus, str] = {
    ComponentStatus.DEGRADED_PERFORMANCE: "Degraded performance",
    ComponentStatus.PARTIAL_OUTAGE: "Partial outage",
    ComponentStatus.MAJOR_OUTAGE: "Major outage",
    ComponentStatus.OPERATIONAL: "Operational",
}
# the impact as the first words of a proposed incident name
DISRUPTION: Mapping[Impact, str] = {
    Impact.CRITICAL: "Major outage",
    Impact.MAJOR: "Partial outage",
    Impact.MINOR: "Degraded performance",
    Impact.NONE: "Minor issue",
}


def public_service_name(service: str) -> str | None:
    """The service as customers may read it, or None when the name looks internal.

    `checkout` -> `Checkout`, `payments-api` -> `Payments API`; anything with dots, slashes,
    colons, `@` or digits (hostnames, pods, addresses) is withheld.
    """
    words = [w for w in re.split(r"[-_\s]+", service.strip()) if w]
    if not words or service.strip().lower() == "unknown":
        return None
    if not all(PLAIN_WORD.match(w) for w in words):
        return None
    return " ".join(w.upper() if w.lower() in ACRONYMS else w.capitalize() for w in words)


@dataclass(frozen=True)
class ComponentMap:
    """Internal service -> public status-page component, with one component for the rest."""

    by_service: Mapping[str, str] = field(default_factory=dict)
    default: str = DEFAULT_COMPONENT

    def component_for(self, service: str) -> PublicComponent:
        """The configured component of `service` (case-insensitive), else the default one."""
        wanted = service.strip().casefold()
        for name, component in self.by_service.items():
            if name.strip().casefold() == wanted:
                return PublicComponent(name=component)
        return PublicComponent(name=self.default)

    @property
    def names(self) -> tuple[str, ...]:
        """Every public component name, in order, once (for seeding a status page)."""
        return tuple(dict.fromkeys((*self.by_service.values(), self.default)))


def proposed_title(impact: Impact, components: Sequence[PublicComponent]) -> str:
    """`<impact wording>: <components>`, cut to the name limit."""
    title = f"{DISRUPTION[impact]}: {', '.join(c.name for c in components)}".rstrip(": ")
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1] + "\u2026"


def title_problems(title: str) -> tuple[str, ...]:
    if not title.strip():
        return ("the public incident name is empty",)
    if len(title) > MAX_TITLE_CHARS:
        return (
            f"the public incident name has {len(title)} characters; the limit is {MAX_TITLE_CHARS}",
        )
    if "\n" in title or "\r" in title:
        return ("the public incident name must be one line",)
    if not encodable(title):
        return ("the public incident name contains characters that are not valid Unicode",)
    return ()


def parse_stage(raw: str) -> PublicStatus | None:
    try:
        return PublicStatus(raw.strip().lower())
    except ValueError:
        return None


def parse_impact(raw: str) -> Impact | None:
    try:
        return Impact(raw.strip().lower())
    except ValueError:
        return None


def stage_problem(raw: str) -> str:
    return f"unknown stage {raw!r}: use one of {', '.join(s.value for s in PublicStatus)}"


def impact_problem(raw: str) -> str:
    return f"unknown impact {raw!r}: use one of {', '.join(i.value for i in Impact)}"


def component_problems(names: Sequence[str]) -> tuple[str, ...]:
    problems: list[str] = []
    if len(names) > MAX_COMPONENTS:
        problems.append(f"{len(names)} components are named; the limit is {MAX_COMPONENTS}")
    for name in names:
        if not name.strip():
            problems.append("a component name is empty")
        elif len(name) > MAX_COMPONENT_CHARS:
            problems.append(
                f"component name {name[:20]!r}... has {len(name)} characters; the limit is "
                f"{MAX_COMPONENT_CHARS}"
            )
        elif "\n" in name or "\r" in name or "," in name:
            problems.append(f"component name {name!r} must be one line without commas")
        elif not encodable(name):
            problems.append("a component name contains characters that are not valid Unicode")
    return tuple(problems)


def components_of(names: Sequence[str]) -> tuple[PublicComponent, ...]:
    """Trimmed, each once, in the order given."""
    return tuple(PublicComponent(name=n) for n in dict.fromkeys(n.strip() for n in names))


def parse_component_status(raw: str) -> ComponentStatus | None:
    """`partial_outage`, `partial-outage` or `Partial outage`; only the choosable ones."""
    wanted = re.sub(r"[\s-]+", "_", raw.strip().lower())
    try:
        status = ComponentStatus(wanted)
    except ValueError:
        return None
    return status if status in COMPONENT_STATUS_LABELS else None


def component_status_problem(name: str, raw: str) -> str:
    choices = ", ".join(s.value for s in COMPONENT_STATUS_LABELS)
    return f"unknown status {raw!r} for component {name!r}: use one of {choices}"


def effective_status(component: PublicComponent, impact: Impact) -> ComponentStatus:
    """The status the page will show for `component`: the IC's choice, else the impact's."""
    return component.status or COMPONENT_STATUS_BY_IMPACT[impact]


def with_statuses(
    components: Sequence[PublicComponent],
    statuses: Mapping[str, str],
) -> tuple[tuple[PublicComponent, ...], tuple[str, ...]]:
    """`components` with the statuses chosen by name (case-insensitive); the others keep
    theirs (None: the impact's, which the approval covers too). Refuses unknown statuses and
    names the update does not carry."""
    problems: list[str] = []
    chosen: dict[str, ComponentStatus] = {}
    by_fold = {c.name.casefold(): c.name for c in components}
    for name, raw in statuses.items():
        status = parse_component_status(raw)
        known = by_fold.get(name.strip().casefold())
        if known is None:
            problems.append(f"component {name!r} is not among this update's components")
        elif status is None:
            problems.append(component_status_problem(name, raw))
        else:
            chosen[known] = status
    updated = tuple(
        c.model_copy(update={"status": chosen.get(c.name, c.status)}) for c in components
    )
    return updated, tuple(problems)


def shown_as(draft: StatusDraft) -> dict[str, str]:
    """The draft's public fields in the words the public page will show them."""
    return {
        "name": draft.title,
        "stage": STAGE_LABELS[draft.stage],
        "impact": IMPACT_LABELS[draft.impact],
        "components": ", ".join(
            f"{c.name} ({COMPONENT_STATUS_LABELS.get(effective_status(c, draft.impact), '')})"
            for c in draft.components
        ),
    }
