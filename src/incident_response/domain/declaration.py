"""A declaration: a person opening an incident by hand, as every surface hands it in.

The Slack modal, the console form and the API all parse through `Declaration.parse`, so the
same input is refused with the same words everywhere, before anything is stored. Every problem
is reported at once, by field, so a form can show each beside its input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from incident_response.domain.alert import Severity
from incident_response.domain.errors import IncidentResponseError

MAX_TITLE_CHARS = 200
MAX_SERVICE_CHARS = 100
MAX_SUMMARY_CHARS = 4000
UNKNOWN_SERVICE = "unknown"  # what an alert without a service label is filed under, too

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


class InvalidDeclaration(IncidentResponseError):
    """The declaration cannot open an incident; `problems` maps each bad field to why (HTTP 422).
    Nothing was stored."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in problems.items()))


@dataclass(frozen=True)
class Declaration:
    """What the declarer said: a one-line title, a severity, the service (UNKNOWN_SERVICE when
    they did not say), a free-text summary, and the IC they chose (None: the declarer)."""

    title: str
    severity: Severity
    service: str = UNKNOWN_SERVICE
    summary: str = ""
    ic: str | None = None

    @classmethod
    def parse(
        cls,
        *,
        title: str,
        severity: str,
        service: str = "",
        summary: str = "",
        ic: str | None = None,
    ) -> Declaration:
        """The declaration, or InvalidDeclaration naming every bad field."""
        problems: dict[str, str] = {}
        one_line = _SPACES.sub(" ", _CONTROL.sub("", title)).strip()
        if not one_line:
            problems["title"] = "say in a few words what is wrong (the title is empty)"
        elif len(one_line) > MAX_TITLE_CHARS:
            problems["title"] = (
                f"{len(one_line)} characters; keep it under {MAX_TITLE_CHARS + 1} "
                "and put the rest in the summary"
            )
        chosen = _severity(severity)
        if chosen is None:
            names = ", ".join(s.value for s in Severity)
            problems["severity"] = (
                f"{severity.strip()!r} is not a severity: choose one of {names}"
                if severity.strip()
                else f"missing: choose one of {names}"
            )
        named = _SPACES.sub(" ", _CONTROL.sub("", service)).strip()
        if len(named) > MAX_SERVICE_CHARS:
            problems["service"] = f"{len(named)} characters; the limit is {MAX_SERVICE_CHARS}"
        text = _CONTROL.sub("", summary.replace("\r\n", "\n")).strip()
        if len(text) > MAX_SUMMARY_CHARS:
            problems["summary"] = f"{len(text)} characters; the limit is {MAX_SUMMARY_CHARS}"
        commander = (ic or "").strip() or None
        if commander is not None and "@" not in commander:
            problems["ic"] = f"{commander!r} is not an e-mail address"
        if problems or chosen is None:
            raise InvalidDeclaration(problems)
        return cls(
            title=one_line,
            severity=chosen,
            service=named or UNKNOWN_SERVICE,
            summary=text,
            ic=commander,
        )


@dataclass(frozen=True)
class DeclareText:
    """What `declare P1 checkout: Checkout is slow` says, each part as typed ("" when left
    out): the severity first, then `<service>:` (one word before a colon), then the title."""

    severity: str
    service: str
    title: str


def read_declare_text(text: str) -> DeclareText:
    words = text.strip()
    first, _, rest = words.partition(" ")
    severity = ""
    if _severity(first) is not None:
        severity, words = first, rest.strip()
    head, colon, tail = words.partition(":")
    if colon and head.strip() and " " not in head.strip() and tail.strip():
        return DeclareText(severity, head.strip(), tail.strip())
    return DeclareText(severity, "", words)


def _severity(value: str) -> Severity | None:
    wanted = value.strip().upper()
    return next((s for s in Severity if s.value == wanted), None)
