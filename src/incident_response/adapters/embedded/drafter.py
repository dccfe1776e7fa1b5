"""The built-in drafter: status updates and postmortems from templates, with no model and no network.

A status update goes to customers, so it is built only from public facts: the service's name,
how bad it is (from the severity), the public status and times in UTC. Alert titles, labels,
hostnames, people and e-mail addresses never reach it. A postmortem is filed in the issue tracker
and read across the company (and stands in for a model's draft that failed), so it keeps the
facts (times, durations, service, severity, stages, the updates customers saw) but names people
by name or role, never by e-mail or chat id, and every outside text in it (alert title, audit
details, notes, checklist, change titles and authors) goes through `strip_personal_data`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from incident_response.domain.alert import Severity
from incident_response.domain.clock import Clock, SystemClock, utc
from incident_response.domain.context import Change, PublicStatus
from incident_response.domain.incident import Incident
from incident_response.domain.public import public_service_name
from incident_response.domain.responder_names import ResponderNames, known_name
from incident_response.domain.timeline import (
    CONTRIBUTING_FACTORS,
    LESSONS,
    Naming,
    incident_story,
    stage_path,
)
from incident_response.ports import PostmortemContext, StatusContext

NEXT_UPDATE = {
    PublicStatus.INVESTIGATING: timedelta(minutes=30),
    PublicStatus.IDENTIFIED: timedelta(minutes=30),
    PublicStatus.MONITORING: timedelta(minutes=60),
}
STORY_LIMIT = 400
ARROW = " \u2192 "


class Wording:
    """How an incident of one severity reads to customers, now and afterwards."""

    def __init__(self, noun: str, now: str, past: str) -> None:
        self.noun, self.now, self.past = noun, now, past


IMPACT = {
    Severity.P1: Wording(
        "a major outage",
        "Customers may be unable to use {subject}.",
        "customers may have been unable to use {subject}.",
    ),
    Severity.P2: Wording(
        "a partial outage",
        "Some customers may see errors when using {subject}.",
        "some customers may have seen errors when using {subject}.",
    ),
    Severity.P3: Wording(
        "degraded performance",
        "Some customers may see slower responses or occasional errors in {subject}.",
        "some customers may have seen slower responses or occasional errors in {subject}.",
    ),
    Severity.P4: Wording(
        "a minor issue",
        "A small number of customers may notice problems with {subject}.",
        "a small number of customers may have noticed problems with {subject}.",
    ),
}


def utc_time(at: datetime, *, with_date: bool = True) -> str:
    """`09:05 UTC on 26 November 2026` (or just `09:05 UTC`)."""
    at = utc(at)
    clock = f"{at:%H:%M} UTC"
    return f"{clock} on {at.day} {at:%B %Y}" if with_date else clock


def status_update_text(context: StatusContext, *, at: datetime) -> str:
    """A calm, factual customer-facing update for `context.public_status` as of `at`.

    It opens with the service, the time and the status ("Checkout: as of 09:07 UTC, we are
    investigating ..."), so two updates differ within their first 40 characters (for service
    names up to 13 characters), and each can be found on the page by its opening.
    """
    try:
        status = PublicStatus(context.public_status)
    except ValueError:
        allowed = ", ".join(s.value for s in PublicStatus)
        raise ValueError(
            f"public status {context.public_status!r} is not one of: {allowed}"
        ) from None
    incident = context.incident
    at = utc(at)
    name = public_service_name(incident.service)
    subject = name or "some of our services"
    impact = IMPACT[incident.severity]
    started = utc(incident.created_at)
    began = utc_time(started, with_date=started.date() != at.date())
    lead = f"{name or 'Update'}: as of {utc_time(at, with_date=False)}"
    if status is PublicStatus.RESOLVED:
        ended = utc(incident.resolved_at or incident.mitigated_at or at)
        window = (
            f"Between {utc_time(started, with_date=False).removesuffix(' UTC')} and "
            f"{utc_time(ended, with_date=False)}"
            if started.date() == ended.date()
            else f"Between {utc_time(started)} and {utc_time(ended)}"
        )
        closing = (
            f"{name} is operating normally." if name else "All services are operating normally."
        )
        return (
            f"{lead}, this incident has been resolved. "
            f"{window}, {impact.past.format(subject=subject)} "
            f"{closing} We apologise for the inconvenience."
        )
    problem = impact.noun if name else f"{impact.noun} affecting {subject}"
    problem += f" that began at {began}"
    if status is PublicStatus.INVESTIGATING:
        verb = "we are still investigating" if context.previous_updates else "we are investigating"
        opening = f"{lead}, {verb} {problem}."
    elif status is PublicStatus.IDENTIFIED:
        opening = f"{lead}, we have identified the cause of {problem}, and we are working on a fix."
    else:
        opening = f"{lead}, a fix has been applied for {problem}. We are monitoring the results."
    effect = impact.now.format(subject=subject)
    effect = effect[0].upper() + effect[1:]
    next_update = utc_time(at + NEXT_UPDATE[status], with_date=False)
    return f"{opening} {effect} We will post another update by {next_update}."


def postmortem_markdown(context: PostmortemContext) -> str:
    """A postmortem draft that starts from the incident's story: summary, impact, the timeline
    people made, the judgement sections as headed prompts for people to fill, and the
    follow-ups with their issues; then the facts around it (responders, changes, checklist)."""
    incident = context.incident
    names = ResponderNames.of(incident)
    factors, factors_prompt = CONTRIBUTING_FACTORS
    parts = [
        f"# Postmortem: {_inline(names.text(incident.title))}",
        _facts(incident, names),
        "## Summary",
        _summary(incident, names),
        "## Impact",
        _impact(incident, context, names),
        "## Timeline (UTC)",
        _story(context, names),
        f"## {factors}",
        f"_{factors_prompt}_",
        "## Lessons learned",
        "\n\n".join(f"### {heading}\n\n_{prompt}_" for heading, prompt in LESSONS),
        "## Follow-ups",
        _followups(incident, names),
        "## Responders",
        _responders(incident),
        "## Recent changes",
        _changes(context.changes, names),
        "## Checklist",
        _checklist(incident, names),
    ]
    return "\n\n".join(parts) + "\n"


def _facts(incident: Incident, names: ResponderNames) -> str:
    rows = [
        ("Incident", incident.id),
        ("Severity", incident.severity.value),
        ("Service", names.text(incident.service)),
        ("Status", incident.status.value),
        (
            "Source",
            f"declared by {names.who(incident.declared_by)}"
            if incident.declared_by
            else names.text(f"{incident.source.value} alert group {incident.alert_group_id}"),
        ),
        ("Incident commander", names.who(incident.ic) if incident.ic else "not recorded"),
        ("Opened", _when(incident.created_at)),
        ("War room assembled", _when(incident.assembled_at)),
        ("Mitigated", _when(incident.mitigated_at)),
        ("Resolved", _when(incident.resolved_at)),
        ("Duration", _duration(incident)),
    ]
    if incident.channel is not None:
        room = incident.channel
        # a link this service built from its own base URL: kept, it names nobody
        rows.append(("War room", Md(f"<{room.url}>") if room.url else f"#{names.text(room.name)}"))
    return _table(("Fact", "Value"), rows)


def _summary(incident: Incident, names: ResponderNames) -> str:
    opened = (
        f"declared by {names.who(incident.declared_by)}"
        if incident.declared_by
        else f"opened by the alert \u201c{_inline(names.text(incident.title))}\u201d"
    )
    text = (
        f"A {incident.severity.value} incident on {_code(names.text(incident.service))}, {opened} "
        f"at {_when(incident.created_at)}"
    )
    if incident.resolved_at is not None:
        text += f" and resolved at {_when(incident.resolved_at)} ({_duration(incident)})"
    text += "."
    if incident.summary.strip():
        return f"{text}\n\n{_inline(names.text(incident.summary.strip()))}"
    return text + "\n\n_What happened, in two or three sentences a customer could follow?_"


def _impact(incident: Incident, context: PostmortemContext, names: ResponderNames) -> str:
    impact = IMPACT[incident.severity]
    subject = _inline(public_service_name(incident.service) or names.text(incident.service))
    published = context.published_updates
    lines = [
        f"- Severity {incident.severity.value} ({impact.noun}): "
        f"{impact.past.format(subject=subject)}",
        f"- Duration: {_duration(incident)} (opened {_when(incident.created_at)}, resolved "
        f"{_when(incident.resolved_at)})",
        f"- Stages: {ARROW.join(stage_path(context.timeline))}",
        f"- Status updates published to customers: {len(published)}",
    ]
    return (
        "\n".join(lines)
        + "\n\n"
        + _published(published)
        + "\n\n_Who was affected, and how many? The error rates or lost requests, as measured._"
    )


def _story(context: PostmortemContext, names: ResponderNames) -> str:
    """The incident's story (domain/timeline.py), people named as in the rest of the draft."""
    entries = incident_story(
        context.incident, context.timeline, naming=Naming(person=names.who, outside=names.text)
    )
    rows = [
        (f"{utc(e.at):%Y-%m-%d %H:%M:%S}", names.who(e.who), _story_text(e.text)) for e in entries
    ]
    return _table(("Time (UTC)", "Who", "What happened"), rows)


def _story_text(text: str) -> str:
    return text if len(text) <= STORY_LIMIT else text[: STORY_LIMIT - 1] + "\u2026"


def _followups(incident: Incident, names: ResponderNames) -> str:
    """Each follow-up with its owner and the issue it was filed as (linked)."""
    if not incident.followups:
        return "_No follow-ups were recorded during the incident: add the action items here._"
    rows = [
        (
            names.text(f.text),
            names.who(f.owner) if f.owner else "unassigned",
            Md(f"[{_inline(f.issue.id)}](<{f.issue.url}>)")
            if f.issue is not None and f.issue.url
            else (f.issue.id if f.issue is not None else "not filed yet"),
        )
        for f in incident.followups
    ]
    return _table(("Follow-up", "Owner", "Issue"), rows)


def _published(updates: Iterable[str]) -> str:
    """Quoted as customers saw them: approved public text, not stripped (it would misquote)."""
    blocks = [
        f"{n}. Update {n}:\n\n"
        + "\n".join(f"   > {_inline(line)}" for line in body.strip().splitlines())
        for n, body in enumerate(updates, start=1)
    ]
    return "\n\n".join(blocks) if blocks else "_No status update was published._"


NO_NAME = "name not recorded"


def _responders(incident: Incident) -> str:
    """Who responded, by name and role: their e-mail and chat ids stay in the roster."""
    rows = [
        (known_name(r) or NO_NAME, "incident commander" if r.email == incident.ic else r.role)
        for r in incident.responders
    ]
    if incident.ic and all(r.email != incident.ic for r in incident.responders):
        rows.insert(0, (NO_NAME, "incident commander"))
    if not rows:
        return "_No responders were recorded._"
    return _table(("Name", "Role"), rows)


def _changes(changes: Iterable[Change], names: ResponderNames) -> str:
    rows = [
        (
            f"{utc(c.at):%Y-%m-%d %H:%M}",
            names.text(c.repo),
            # the code host's own link to the change (repository and commit, nobody's data)
            Md(f"[{_inline(names.text(c.title))}](<{c.url}>)") if c.url else names.text(c.title),
            names.text(c.author),
            c.sha[:10],
        )
        for c in sorted(changes, key=lambda c: utc(c.at))
    ]
    if not rows:
        return "_No recent changes found (no code host configured, or none in the window)._"
    return _table(("When (UTC)", "Repository", "Change", "Author", "Commit"), rows)


def _checklist(incident: Incident, names: ResponderNames) -> str:
    if not incident.checklist:
        return "_No checklist was recorded._"
    return "\n".join(
        f"- [{'x' if item.done else ' '}] {_inline(names.text(item.text))}"
        + (f" ({_inline(names.who(item.done_by))})" if item.done and item.done_by else "")
        for item in incident.checklist
    )


def _when(at: datetime | None) -> str:
    return f"{utc(at):%Y-%m-%d %H:%M:%S} UTC" if at is not None else "\u2014"


def _duration(incident: Incident) -> str:
    if incident.resolved_at is None:
        return "still open"
    minutes = int((utc(incident.resolved_at) - utc(incident.created_at)).total_seconds() // 60)
    hours, minutes = divmod(max(minutes, 0), 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


class Md(str):
    """Text that is already Markdown (a link this drafter built from a trusted URL), passed
    through as it is; every other string put into the document is made inert."""


# What Markdown renderers (CommonMark, GitHub's and Linear's extensions) would turn into a link:
# a scheme with a colon, `www.`, or an e-mail address. `|`, `<` and `>` end it (tables, autolinks).
URLISH = re.compile(
    r"(?:(?:https?|ftp|mailto|javascript|data|file|tel|vbscript):|www\.)[^\s`|<>]*"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    re.IGNORECASE,
)
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")


def _inline(text: str) -> str:
    """Untrusted text (alert titles, labels, people's words) as inert Markdown on one line:
    punctuation that would make a link, an image, emphasis or HTML is escaped, and anything a
    renderer would autolink is shown as code, so alert text never becomes a live link."""
    if isinstance(text, Md):
        return str(text)
    flat = " ".join(text.split())
    parts: list[str] = []
    last = 0
    for match in URLISH.finditer(flat):
        parts.append(MARKDOWN_SPECIAL.sub(r"\\\1", flat[last : match.start()]))
        parts.append(_code(match.group(0)))
        last = match.end()
    parts.append(MARKDOWN_SPECIAL.sub(r"\\\1", flat[last:]))
    return "".join(parts)


def _code(text: str) -> str:
    """A code span holding `text` exactly, whatever backticks it contains."""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(text: str) -> str:
    return _inline(text)


def _table(header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# A war-room message is a status update when it names an audience outside the room and says it
# was told, or announces itself as one. Transparent on purpose: the IC can predict the answer.
STATUS_UPDATE_OPENING = re.compile(
    r"^\W*(?:status|customer|stakeholder|public|external)\s+(?:update|comms|communication)\b",
    re.IGNORECASE,
)
AUDIENCE = re.compile(
    r"\b(?:status\s*page|statuspage|customers?|stakeholders?|users|support(?:\s+team)?|"
    r"leadership|execs?|account\s+managers?|public(?:ly)?|comms|twitter|x\.com)\b",
    re.IGNORECASE,
)
TOLD = re.compile(
    r"\b(?:told|posted|sent|published|informed|notified|updated|announced|emailed|e-mailed|"
    r"tweeted|shared|messaged|briefed|let\s+(?:\w+\s+){1,3}know)\b",
    re.IGNORECASE,
)


def looks_like_status_update(text: str) -> bool:
    """A message opening "Status update: ...", or saying an audience outside the room was told."""
    return bool(STATUS_UPDATE_OPENING.search(text)) or bool(
        AUDIENCE.search(text) and TOLD.search(text)
    )


class BuiltinDrafter:
    """LLM port from templates: always available, deterministic, never leaves the machine."""

    def __init__(self, *, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()

    async def draft_status_update(self, context: StatusContext) -> str:
        return status_update_text(context, at=self._clock.now())

    async def draft_postmortem(self, context: PostmortemContext) -> str:
        return postmortem_markdown(context)

    async def is_status_update(self, text: str) -> bool:
        return looks_like_status_update(text)
