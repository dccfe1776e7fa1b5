"""The roster written on first start, so a fresh install has people to page and log in as."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

SAMPLE_ROSTER = """\
# incident-response roster: who works here, who owns which service, who is on call.
# Edit freely: the running server re-reads this file when it changes. An edit that does not
# validate is refused (the error is logged) and the previous roster stays in force.
#
# people:        name and email are required; chat_id is the person's id in chat (their Slack
#                member id, e.g. U012AB3CD, when Slack is configured); timezone is an IANA name.
# teams:         team name -> members' emails.
# services:      service (the alert's `service` label) -> owning team.
# rotations:     keyed by a team, a service or `default` (used when nothing else matches).
#                Weekly: `people` in order, `handover` as "weekday HH:MM" in `timezone`, and
#                `start`, a date from whose first handover people[0] is primary; the secondary is
#                the next person in the list. Fixed: `primary` and optional `secondary`.
# approvers:     emails that may approve customer-facing status updates besides the incident's
#                commander, e.g. the head of support. Empty means the commander only.
# announcements_channel: the chat channel where resolved incidents are announced.
# routing:       optional rules deciding which alerts open an incident, which only join an open
#                one of their service, and which are only recorded, first match wins, e.g.
#                  - {name: staging, labels: {env: "staging*"}, action: ignore}
#                Unset: P1-P3 open, `severity: warning` joins, P4 is recorded (docs/routing.md).
#                INCIDENT_RESPONSE_ROUTING, when set, is used instead.

people:
  - name: Alice Martin
    email: alice@example.com
    timezone: Europe/London
  - name: Bob Okafor
    email: bob@example.com
    timezone: Europe/Berlin
  - name: Carol Nguyen
    email: carol@example.com
    timezone: America/New_York
  - name: Dan Kowalski
    email: dan@example.com
    timezone: America/Los_Angeles
  - name: Erin Silva
    email: erin@example.com
    timezone: UTC

teams:
  payments:
    - alice@example.com
    - bob@example.com
    - erin@example.com
  platform:
    - carol@example.com
    - dan@example.com
    - erin@example.com

services:
  checkout: payments
  payments: payments
  api: platform

rotations:
  payments:
    people:
      - alice@example.com
      - bob@example.com
      - erin@example.com
    handover: monday 09:00
    timezone: Europe/London
    start: 2026-01-05
  platform:
    people:
      - carol@example.com
      - dan@example.com
    handover: wednesday 10:00
    timezone: America/New_York
    start: 2026-01-07
  default:
    primary: erin@example.com
    secondary: carol@example.com

approvers: []

announcements_channel: incidents
"""


def write_sample_roster(path: Path | str) -> bool:
    """Write the sample roster unless a file is already there; True when it was written.

    The file appears whole or not at all (written aside, then hard-linked into place), and an
    existing roster is never replaced, not even by a concurrent first start.
    """
    target = Path(path)
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(SAMPLE_ROSTER)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, target)
        except FileExistsError:
            return False
        except OSError:
            # a file system without hard links: the existence check above has to do
            os.replace(tmp, target)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
