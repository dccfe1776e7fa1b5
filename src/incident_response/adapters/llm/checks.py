"""Is a model's draft fit to show the IC? Checked against the facts the model was given.

A model can write fluently about things that did not happen. A draft is refused when it holds
anything the input does not: a number, a time or date, an e-mail address, a URL, or a
capitalised name-like word (a person, a vendor, a system) that is neither in the input nor in a
small allow-list (section headings, weekdays and months, words that commonly open a sentence).
It is also refused when it holds personal data (the stripper would change it), when a status
update is empty, too long, Markdown-formatted or carries a placeholder such as `[host]`, and
when a postmortem lacks its sections.

Each check returns the problems it found, in words an operator can act on; an empty list means
the draft may be offered. The checks are deliberately strict: a refused draft costs nothing
(the built-in drafter's takes its place), an invented fact in front of customers costs trust.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from incident_response.domain.privacy import PLACEHOLDERS, found_personal_data

STATUS_MAX_CHARS = 600
POSTMORTEM_MIN_CHARS = 200
POSTMORTEM_MAX_CHARS = 20_000
POSTMORTEM_SECTIONS = (
    "Summary",
    "Impact",
    "Timeline",
    "Contributing factors",
    "Lessons learned",
    "Follow-ups",
)

# a number: digits, with decimal or clock separators ("12.5", "09:05:00"); a number glued to
# letters before it is part of a name ("P1", "v2", "p99") and is compared as a word instead
NUMBER = re.compile(r"(?<![A-Za-z0-9_])\d+(?:[.:,]\d+)*")
CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b")
EMAIL = re.compile(r"\b[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"\bhttps?://[^\s<>()\"'`]+", re.IGNORECASE)
WORD = re.compile(r"[A-Za-z][A-Za-z0-9'_-]*")
HEADING = re.compile(r"^\s{0,3}#{1,6}\s", re.MULTILINE)
MARKDOWN = re.compile(r"^\s{0,3}(?:[-*+]\s|\d+\.\s|>)|\*\*|__|`|\[[^\]]+\]\(", re.MULTILINE)
# where a sentence (or a list item, table cell or heading) begins
SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n\s*(?:[-*+>#|]+\s*|\d+\.\s+)?|\|\s*)$")

# Capitalised words a draft may use without finding them in the input: weekdays, months, time
# zones, the stages, the postmortem's headings and words that commonly open a sentence.
_ALLOWED = """
    monday tuesday wednesday thursday friday saturday sunday january february march april may june
    july august september october november december utc gmt
    investigating identified monitoring resolved update updates status incident incidents
    postmortem summary impact timeline root cause action actions items item lessons learned owner
    contributing factors factor follow-ups follow-up stages stage
    due tracking what went well badly where got lucky fill severity responders responder checklist
    recent changes change published questions question open unknown none the a an this that these
    those there their they them it its we our us you your i he she if when while after before
    during since until at as on in of for from to by with without between within about around
    some most many all any each every several few no not yes customers customer users user
    service services system systems team teams engineers engineer people some our we'll we're
    we've it's there's errors error requests request latency outage degraded performance
    partial major minor issue issues problem problems fix fixes cause causes mitigation mitigated
    monitor next further more further additional thank thanks apologies sorry please note also
    however meanwhile currently now then later earlier today yesterday tomorrow once again still
    first second third last final finally initially afterwards later subsequently overall
    an approximately around roughly who why how which whose whom was were is are be been being
    has have had do does did will would can could should may might must shall api http https
    dns cdn sso ui ci id url alert alerts page war room commander incident-commander
    response responded recovered recovery restored restore restart restarted rollback rolled
    deploy deployed deployment investigation investigated identify confirmed confirm
    services' customers' other both either neither one two three four five
    see visit check contact read follow subscribe expect use try retry learn continue
    working work works affected affecting impacted unable able normal normally operating
    operational available unavailable slow slower elevated increased intermittent
    engineering teams' investigate delays delay delayed timeouts failures failed
    failing succeeded success recovering recovered stable stabilised stabilized good
    fact facts value values source time times event events details detail name names e-mail
    role roles repository commit commits author opened duration assembled customer-facing
    unfortunately fortunately additionally importantly separately specifically consequently
    therefore thus hence instead rather likely unlikely possibly potentially temporarily
    partially fully completely intermittently immediately shortly soon here
    tbd todo n/a
    """
ALLOWED_WORDS = frozenset(_ALLOWED.split())


def _numbers(text: str) -> set[str]:
    """The numbers in `text`, leading zeros dropped per part ("09:05" -> "9:5"), with each clock
    time's hour:minute too, so "09:05" matches an input that says "09:05:00"."""
    found: set[str] = set()
    for match in NUMBER.finditer(text):
        raw = match.group(0).rstrip(".,:")
        parts = re.split(r"([.:,])", raw)
        norm = "".join(p if p in ".:," else str(int(p)) if p.isdigit() else p for p in parts)
        found.add(norm)
        found.update(str(int(p)) for p in re.split(r"[.:,]", raw) if p.isdigit() and ":" in raw)
        found.update(
            f"{int(h)}:{int(m)}" for h, m in re.findall(r"(\d{1,2}):(\d{2})(?::\d{2})?", raw)
        )
    return found


def _starts_sentence(text: str, at: int) -> bool:
    return SENTENCE_START.search(text[max(0, at - 12) : at]) is not None or at == 0


def invented(output: str, facts: str) -> list[str]:
    """What `output` states that `facts` (the stripped input) does not: each a short reason."""
    problems: list[str] = []
    known_numbers = _numbers(facts)
    for number in sorted(_numbers(output) - known_numbers):
        problems.append(f"the number or time {number!r} is not in the input")
    lowered = facts.lower()
    for kind, pattern in (("e-mail address", EMAIL), ("URL", URL)):
        for match in pattern.finditer(output):
            if match.group(0).rstrip(".,;:").lower() not in lowered:
                problems.append(f"the {kind} {match.group(0)!r} is not in the input")
    known_words = _words(facts)
    strange: dict[str, None] = {}
    for match in WORD.finditer(output):
        word = match.group(0)
        if not (word[0].isupper() or any(c.isdigit() for c in word)):
            continue
        key = word.lower().removesuffix("'s")
        if key in known_words or key in ALLOWED_WORDS or _placeholder_at(output, match):
            continue
        # a common word capitalised because it opens a sentence is fine; a name is not
        opening = _starts_sentence(output, match.start()) and word[1:].islower()
        if opening and key.isalpha() and _common(key):
            continue
        strange[word] = None
    problems.extend(f"the name {word!r} is not in the input" for word in strange)
    return problems


def _words(text: str) -> set[str]:
    """Every word of `text`, lowercased, and each part of a hyphenated or snake_case word, so
    "checkout-api" in the input lets "Checkout" and "API" appear in the output."""
    words: set[str] = set()
    for word in WORD.findall(text):
        words.add(word.lower())
        words.update(p.lower() for p in re.split(r"[-_']", word) if p)
    return words


def _placeholder_at(text: str, match: re.Match[str]) -> bool:
    start, end = match.span()
    return text[max(0, start - 1) : end + 1] in PLACEHOLDERS


def _common(word: str) -> bool:
    """A lowercase English word in the allow-list, or an inflection of one."""
    for suffix in ("", "s", "es", "ed", "d", "ing", "ly"):
        if suffix and word.endswith(suffix) and word[: -len(suffix)] in ALLOWED_WORDS:
            return True
    return word in ALLOWED_WORDS


def personal_data(output: str) -> list[str]:
    kinds = found_personal_data(output)
    return [f"the draft contains personal data ({', '.join(kinds)})"] if kinds else []


def status_update_problems(output: str, facts: str) -> list[str]:
    """Problems with a customer-facing status update drafted from `facts`."""
    text = output.strip()
    problems: list[str] = []
    if not text:
        return ["the status update is empty"]
    if len(text) > STATUS_MAX_CHARS:
        problems.append(f"the status update has {len(text)} characters; at most {STATUS_MAX_CHARS}")
    if HEADING.search(text):
        problems.append("the status update has a Markdown heading")
    elif MARKDOWN.search(text):
        problems.append("the status update uses Markdown formatting; customers see plain text")
    leaked = [p for p in PLACEHOLDERS if p in text]
    if leaked:
        problems.append(f"the status update shows placeholders to customers: {', '.join(leaked)}")
    return problems + personal_data(text) + invented(text, facts)


def postmortem_problems(output: str, facts: str) -> list[str]:
    """Problems with a postmortem draft written from `facts`."""
    text = output.strip()
    problems: list[str] = []
    if len(text) < POSTMORTEM_MIN_CHARS:
        problems.append(
            f"the postmortem has {len(text)} characters; at least {POSTMORTEM_MIN_CHARS}"
        )
    if len(text) > POSTMORTEM_MAX_CHARS:
        problems.append(
            f"the postmortem has {len(text)} characters; at most {POSTMORTEM_MAX_CHARS}"
        )
    missing = missing_sections(text, POSTMORTEM_SECTIONS)
    if missing:
        problems.append(f"the postmortem lacks the sections: {', '.join(missing)}")
    return problems + personal_data(text) + invented(text, facts)


def missing_sections(text: str, sections: Iterable[str]) -> list[str]:
    headings = [
        line.lstrip("#").strip().lower()
        for line in text.splitlines()
        if re.match(r"^\s{0,3}#{1,3}\s", line)
    ]
    return [s for s in sections if not any(h.startswith(s.lower()) for h in headings)]
