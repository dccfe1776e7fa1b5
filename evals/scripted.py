"""Scripted models for the evals: one that answers from the prompt like a careful model would,
and one that invents facts and leaks a planted e-mail, to show the scorer and the checks catch it.

Both implement `Completion`, so the runner treats them exactly like a vendor client. They read
the facts from the prompt's user part (the lines `prompts/*.md` write), never from the incident.
"""

from __future__ import annotations

import re

from incident_response.adapters.llm.completion import PromptRequest

AUDIENCE = re.compile(
    r"\b(status ?page|customers?|stakeholders?|support|leadership|execs?|public)\b", re.I
)
TOLD = re.compile(
    r"\b(told|posted|sent|published|informed|notified|updated|emailed|shared)\b", re.I
)


def facts(request: PromptRequest) -> dict[str, str]:
    """`Label: value` lines of the prompt's user part."""
    found: dict[str, str] = {}
    for line in request.user.splitlines():
        label, sep, value = line.partition(": ")
        if sep and not line.startswith("- ") and label not in found:
            found[label.strip()] = value.strip()
    return found


def clock(text: str) -> str:
    """`09:05 UTC on 26 November 2026` -> `09:05 UTC`."""
    return text.split(" on ", 1)[0]


def status_update(request: PromptRequest) -> str:
    given = facts(request)
    public = given.get("Public name of the affected service", "")
    name = "" if public.startswith("none") else public
    subject = name or "some of our services"
    noun, _, effect = given["Impact for customers"].partition(": ")
    effect = effect.replace("the service", subject)
    effect = effect[0].upper() + effect[1:] + "."
    lead = f"{name or 'Update'}: as of {clock(given['Current time'])}"
    started = clock(given["Started"])
    stage = given["Stage"]
    if stage == "resolved":
        ended = clock(given.get("Resolved", given["Current time"]))
        return (
            f"{lead}, this incident has been resolved. It began at {started} and ended at {ended}. "
            f"{subject[0].upper() + subject[1:]} is operating normally."
        )
    opening = {
        "investigating": f"we are investigating {noun} that began at {started}.",
        "identified": f"we have identified the cause of {noun} that began at {started}.",
        "monitoring": f"a fix has been applied for {noun} that began at {started}, and we are "
        "monitoring the results.",
    }[stage]
    text = f"{lead}, {opening} {effect}"
    if "Next update due by" in given:
        text += f" We will post another update by {given['Next update due by']}."
    return text


def postmortem(request: PromptRequest) -> str:
    given = facts(request)
    lines = request.user.splitlines()
    start = lines.index("Timeline (UTC, oldest first):") + 1
    timeline = []
    for line in lines[start:]:
        if not line.startswith("- "):
            break
        timeline.append(line)
    summary = (
        f"A {given['Severity'].split(' ', 1)[0]} incident on {given['Service']}, opened at "
        f"{given['Opened']}"
    )
    if "Resolved" in given:
        summary += f" and resolved at {given['Resolved']} ({given['Duration']})"
    return "\n\n".join(
        [
            f"# Postmortem: {given['Alert title']}",
            "## Summary",
            summary + ".",
            "## Impact",
            f"Severity {given['Severity']}.",
            "## Timeline (UTC)",
            "\n".join(timeline),
            "## Contributing factors",
            "_To fill in_",
            "## Lessons learned",
            "_To fill in_",
            "## Follow-ups",
            "_To fill in_",
        ]
    )


def classification(request: PromptRequest) -> str:
    text = request.user.partition("Message:")[2]
    told = AUDIENCE.search(text) and TOLD.search(text)
    return "yes" if told or text.strip().lower().startswith("status update") else "no"


class CarefulCompletion:
    """Answers only from the facts it was given, in the shape the prompt asks for."""

    name = "scripted-careful"

    async def complete(self, request: PromptRequest, *, model: str) -> str:
        if request.task == "status_update":
            return status_update(request)
        if request.task == "postmortem":
            return postmortem(request)
        return classification(request)


class HallucinatingCompletion(CarefulCompletion):
    """A careful answer plus an invented figure, an invented name and `leak` (a planted e-mail
    address the model should never have had): every one must be caught."""

    name = "scripted-hallucinating"

    def __init__(self, leak: str = "jane.doe@example.com") -> None:
        self.leak = leak

    async def complete(self, request: PromptRequest, *, model: str) -> str:
        answer = await super().complete(request, model=model)
        if request.task == "classify":
            return "maybe"
        extra = (
            f" About 37% of requests failed; Dave from Cloudflare is helping. Contact {self.leak}."
        )
        if request.task == "postmortem":
            return answer.replace("## Impact\n\n", f"## Impact\n\n{extra.strip()}\n\n", 1)
        return answer + extra
