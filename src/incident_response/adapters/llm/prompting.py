"""Prompts for a hosted model: the versioned prompt files, filled with facts stripped of personal data.

Each prompt lives in `prompts/<task>.md`: YAML front matter (`version`, `max_tokens`,
`temperature`), the system text, a `<!-- user -->` line, and a Jinja2 template for the user
part. The system text is the same for every incident, so a vendor's prompt cache can keep it;
only the user part changes. Every fact put into the user part (titles, labels, notes, updates,
timeline details) goes through `strip_personal_data` first, and people appear by their role in
the incident ("the incident commander", "responder 2"), never by name, e-mail or chat id.

A request's `version` ("status_update@1") names the file and its version, so a change of wording
can be traced to the drafts it produced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any, cast

import yaml
from jinja2 import Environment, StrictUndefined, Template

from incident_response.adapters.llm.completion import PromptRequest, Task
from incident_response.domain.alert import Severity
from incident_response.domain.clock import utc
from incident_response.domain.context import Change, PublicStatus
from incident_response.domain.incident import FollowUp, Incident
from incident_response.domain.privacy import replace_people, strip_personal_data
from incident_response.domain.public import public_service_name
from incident_response.domain.status_update import DraftStatus
from incident_response.domain.timeline import Naming, incident_story, stage_path
from incident_response.ports import PostmortemContext, StatusContext

USER_MARKER = "<!-- user -->"
FRONT_MATTER = re.compile(r"\A---\n(?P<meta>.*?)\n---\n(?P<body>.*)\Z", re.DOTALL)
DETAIL_CHARS = 200
NOTE_CHARS = 2000

IC_ROLE = "the incident commander"
SYSTEM_ROLE = "the system"

# how an incident of each severity reads to customers (the built-in drafter's wording)
IMPACT: Mapping[Severity, str] = {
    Severity.P1: "a major outage: customers may be unable to use the service",
    Severity.P2: "a partial outage: some customers may see errors when using the service",
    Severity.P3: "degraded performance: some customers may see slower responses or occasional "
    "errors",
    Severity.P4: "a minor issue: a small number of customers may notice problems",
}
NEXT_UPDATE: Mapping[PublicStatus, timedelta] = {
    PublicStatus.INVESTIGATING: timedelta(minutes=30),
    PublicStatus.IDENTIFIED: timedelta(minutes=30),
    PublicStatus.MONITORING: timedelta(minutes=60),
}


class PromptFileError(ValueError):
    """A prompt file in the package is malformed (a packaging or editing mistake)."""


@dataclass(frozen=True)
class Prompt:
    """One prompt file, parsed."""

    task: Task
    version: int
    system: str
    template: Template
    max_tokens: int
    temperature: float

    @property
    def name(self) -> str:
        return f"{self.task}@{self.version}"

    def request(self, **facts: Any) -> PromptRequest:
        return PromptRequest(
            task=self.task,
            version=self.name,
            system=self.system,
            user=self.template.render(**facts).strip() + "\n",
            max_tokens=self.max_tokens,
            temperature=self.temperature,
        )


def parse_prompt(task: Task, text: str) -> Prompt:
    """A prompt file's front matter, system text and user template; malformed files are refused
    with the reason, so a bad edit fails the tests rather than a draft during an incident."""
    found = FRONT_MATTER.match(text.replace("\r\n", "\n"))
    if found is None:
        raise PromptFileError(f"prompt {task}: no front matter between '---' lines")
    meta = yaml.safe_load(found.group("meta"))
    if not isinstance(meta, dict) or not isinstance(meta.get("version"), int):
        raise PromptFileError(f"prompt {task}: the front matter needs an integer 'version'")
    if meta.get("task", task) != task:
        raise PromptFileError(f"prompt {task}: the front matter names task {meta['task']!r}")
    system, marker, user = found.group("body").partition(USER_MARKER)
    if not marker or not system.strip() or not user.strip():
        raise PromptFileError(f"prompt {task}: needs system text, {USER_MARKER!r}, a template")
    environment = Environment(
        undefined=StrictUndefined, autoescape=False, trim_blocks=True, keep_trailing_newline=True
    )
    return Prompt(
        task=task,
        version=meta["version"],
        system=system.strip(),
        template=environment.from_string(user.lstrip("\n")),
        max_tokens=int(meta.get("max_tokens", 800)),
        temperature=float(meta.get("temperature", 0.2)),
    )


@cache
def load_prompt(task: Task) -> Prompt:
    """The packaged prompt for `task` (read once per process)."""
    text = resources.files(__package__).joinpath("prompts", f"{task}.md").read_text("utf-8")
    return parse_prompt(task, text)


def when(at: datetime | None, *, with_date: bool = True) -> str:
    """`09:05 UTC on 26 November 2026`: one way of writing times, so the checks can find them."""
    if at is None:
        return ""
    at = utc(at)
    return f"{at:%H:%M} UTC on {at.day} {at:%B %Y}" if with_date else f"{at:%H:%M} UTC"


def people_of(incident: Incident) -> dict[str, str]:
    """Everything that names a person of the incident -> the role that stands in for it."""
    people: dict[str, str] = {}
    for number, responder in enumerate(incident.responders, start=1):
        role = IC_ROLE if responder.email == incident.ic else f"responder {number}"
        for handle in (responder.email, responder.name, responder.chat_id):
            if handle:
                people[handle] = role
    if incident.ic:
        people[incident.ic] = IC_ROLE
    return people


def private(text: str, people: Mapping[str, str] | None = None) -> str:
    """A fact as the model may see it: known people by role, then everything personal stripped."""
    return strip_personal_data(replace_people(text, people or {}))


def status_update_request(context: StatusContext, *, now: datetime | None = None) -> PromptRequest:
    """The prompt for a customer-facing update: public facts only, all of them stripped."""
    incident = context.incident
    stage = PublicStatus(context.public_status)
    now = utc(now or datetime.now(UTC))
    people = people_of(incident)
    next_due = NEXT_UPDATE.get(stage)
    latest = next(
        (d for d in reversed(incident.drafts) if d.status is not DraftStatus.REJECTED), None
    )
    return load_prompt("status_update").request(
        public_name=public_service_name(incident.service),
        stage=stage.value,
        impact=IMPACT[incident.severity],
        started=when(incident.created_at),
        now=when(now),
        resolved_at=when(incident.resolved_at or incident.mitigated_at)
        if stage is PublicStatus.RESOLVED
        else "",
        next_update=when(now + next_due, with_date=False) if next_due else "",
        components=[private(c.name) for c in latest.components] if latest else [],
        title=private(incident.title, people),
        previous_updates=[private(u, people) for u in context.previous_updates],
    )


def postmortem_request(context: PostmortemContext) -> PromptRequest:
    """The prompt for an internal postmortem draft: the record, with people as roles."""
    incident = context.incident
    people = people_of(incident)
    return load_prompt("postmortem").request(
        incident_id=incident.id,
        severity=incident.severity.value,
        impact=IMPACT[incident.severity],
        service=private(incident.service),
        title=private(incident.title, people),
        opened=when(incident.created_at),
        # to the second, as the postmortem's facts table states it (the story leaves it out)
        assembled=_second(incident.assembled_at),
        mitigated=when(incident.mitigated_at),
        resolved=when(incident.resolved_at),
        duration=duration(incident),
        labels=[private(f"{k}={v}", people) for k, v in sorted(incident.labels.items())],
        people=_roles(incident),
        timeline=_story(context, people),
        stages=stage_path(context.timeline),
        followups=[_followup(f, people) for f in incident.followups],
        summary=private(incident.summary, people) if incident.summary.strip() else "",
        changes=[_change(c, people) for c in sorted(context.changes, key=lambda c: utc(c.at))],
        checklist=[
            f"[{'x' if item.done else ' '}] {private(item.text, people)}"
            for item in incident.checklist
        ],
        published_updates=[private(u, people) for u in context.published_updates],
    )


def classify_request(text: str) -> PromptRequest:
    """The prompt asking whether a war-room message is a status update (answer: yes or no)."""
    return load_prompt("classify").request(text=private(text[:NOTE_CHARS]))


YES = frozenset({"yes", "y", "true"})
NO = frozenset({"no", "n", "false"})


def parse_classification(answer: str) -> bool:
    """The model's yes or no; anything else raises ValueError (the caller falls back)."""
    words = re.findall(r"[a-z]+", answer.strip().lower())
    if words and words[0] in YES:
        return True
    if words and words[0] in NO:
        return False
    raise ValueError(f"the classifier answered {answer.strip()[:40]!r}, not yes or no")


def duration(incident: Incident) -> str:
    if incident.resolved_at is None:
        return "still open"
    minutes = int((utc(incident.resolved_at) - utc(incident.created_at)).total_seconds() // 60)
    hours, minutes = divmod(max(minutes, 0), 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _roles(incident: Incident) -> list[str]:
    roles = [IC_ROLE + (" (assigned)" if incident.ic else " (not recorded)")]
    roles += [
        f"responder {n}: {r.role}"
        for n, r in enumerate(incident.responders, start=1)
        if r.email != incident.ic
    ]
    return roles


def _second(at: datetime | None) -> str:
    return f"{utc(at):%Y-%m-%d %H:%M:%S} UTC" if at is not None else ""


def _story(context: PostmortemContext, people: Mapping[str, str]) -> list[str]:
    """The incident's story (domain/timeline.py), not its audit rows: key moments, people as
    roles, everything personal stripped; published updates as customers read them."""

    def role(handle: str) -> str:
        if handle in {"", "system"}:
            return SYSTEM_ROLE
        return people.get(handle) or private(handle, people)

    naming = Naming(person=role, outside=lambda text: private(text, people))
    lines = []
    for entry in incident_story(context.incident, context.timeline, naming=naming):
        text = entry.text
        if len(text) > DETAIL_CHARS:
            text = text[: DETAIL_CHARS - 1] + "\u2026"
        lines.append(f"{utc(entry.at):%Y-%m-%d %H:%M:%S} {text} (by {role(entry.who)})")
    return lines


def _followup(item: FollowUp, people: Mapping[str, str]) -> str:
    line = private(item.text, people)
    if item.owner:
        line += f" (owner: {people.get(item.owner) or 'a team member'})"
    if item.issue is not None:
        line += f", filed as {item.issue.id}" + (f" {item.issue.url}" if item.issue.url else "")
    return line


def _change(change: Change, people: Mapping[str, str]) -> str:
    return (
        f"{utc(change.at):%Y-%m-%d %H:%M} {private(change.repo)} {change.sha[:10]} "
        f"{private(change.title, people)} (by an engineer)"
    )


def _flat(value: object) -> str:
    if isinstance(value, Mapping):
        items = cast(Mapping[str, object], value)
        return ", ".join(f"{k}: {_flat(v)}" for k, v in items.items() if v not in (None, ""))
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "[" + ", ".join(_flat(v) for v in cast(Iterable[object], value)) + "]"
    return str(value)
