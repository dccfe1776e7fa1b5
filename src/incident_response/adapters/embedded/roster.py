"""The roster: people, teams, service owners and on-call rotations in one YAML file.

It is the embedded stand-in for WorkOS (Directory) and Grafana OnCall (OnCall), so a single
machine with no accounts can still page the right people. The file is re-read when it changes,
so an operator can edit it while `serve` runs; an edit that does not validate is refused and the
last good roster stays in force.

Rotations come in two shapes:

    rotations:
      payments:                   # a team or a service name, or `default`
        people: [alice@example.com, bob@example.com, carol@example.com]
        handover: monday 09:00    # weekday and hour (minutes allowed) in `timezone`
        timezone: Europe/London   # default UTC
        start: 2026-01-05         # people[0] is primary from the first handover on or after it
      default:
        primary: dana@example.com # a fixed pair
        secondary: alice@example.com

A weekly rotation hands over at `handover` each week: in week k after `start` the primary is
people[k mod n] and the secondary is the next person in the list.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from incident_response.adapters.embedded.roster_sample import SAMPLE_ROSTER as SAMPLE_ROSTER
from incident_response.adapters.embedded.roster_sample import (
    write_sample_roster as write_sample_roster,
)
from incident_response.domain.errors import IncidentResponseError
from incident_response.domain.people import OnCallShift, Person
from incident_response.domain.routing import Routing, RoutingRule, parse_routing

DEFAULT_ROTATION = "default"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HANDOVER = re.compile(r"^\s*([a-zA-Z]+)\s+(\d{1,2})(?::(\d{2}))?\s*$")


class RosterError(IncidentResponseError):
    """The roster file cannot be used; the message names the file, the place in it and why."""


def _email(value: str) -> str:
    value = value.strip().lower()
    if not EMAIL.match(value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown timezone {value!r} (use an IANA name like Europe/Paris)"
        ) from None
    return value


class RosterPerson(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    email: str
    chat_id: str = ""
    timezone: str = "UTC"

    check_email = field_validator("email")(_email)
    check_timezone = field_validator("timezone")(_timezone)

    def person(self) -> Person:
        return Person(
            email=self.email, name=self.name, chat_id=self.chat_id, timezone=self.timezone
        )


class Handover(BaseModel):
    """When a weekly rotation passes the pager on: a weekday and a wall-clock time."""

    model_config = ConfigDict(frozen=True)

    weekday: int = Field(ge=0, le=6)  # Monday is 0, as in datetime.weekday()
    at: time

    @classmethod
    def parse(cls, text: str) -> Handover:
        match = HANDOVER.match(text)
        if not match:
            raise ValueError(f"handover {text!r} should look like 'monday 09:00'")
        day, hour, minute = match.group(1).lower(), int(match.group(2)), int(match.group(3) or 0)
        if day not in WEEKDAYS:
            raise ValueError(f"handover day {day!r} is not one of {', '.join(WEEKDAYS)}")
        if hour > 23 or minute > 59:
            raise ValueError(f"handover time {hour:02d}:{minute:02d} is not a time of day")
        return cls(weekday=WEEKDAYS.index(day), at=time(hour, minute))


class Rotation(BaseModel):
    """Either a fixed `primary`/`secondary` pair or a weekly rotation over `people`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    primary: str | None = None
    secondary: str | None = None
    people: tuple[str, ...] = ()
    handover: Handover = Handover(weekday=0, at=time(9, 0))
    timezone: str = "UTC"
    start: date = date(2024, 1, 1)

    @field_validator("primary", "secondary")
    @classmethod
    def _optional_email(cls, value: str | None) -> str | None:
        return None if value is None else _email(value)

    @field_validator("people", mode="before")
    @classmethod
    def _people(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(_email(v) if isinstance(v, str) else v for v in value)
        return value

    @field_validator("handover", mode="before")
    @classmethod
    def _handover(cls, value: Any) -> Any:
        return Handover.parse(value) if isinstance(value, str) else value

    check_timezone = field_validator("timezone")(_timezone)

    @model_validator(mode="after")
    def _one_shape(self) -> Self:
        if self.people and (self.primary or self.secondary):
            raise ValueError("give either `people` (weekly rotation) or `primary`/`secondary`")
        if not self.people and not self.primary:
            raise ValueError("a rotation needs `people` or a `primary`")
        if len(set(self.people)) != len(self.people):
            raise ValueError("`people` lists someone twice")
        return self

    def first_handover(self) -> datetime:
        """The wall-clock time (naive, in `timezone`) when people[0] takes the pager."""
        days_ahead = (self.handover.weekday - self.start.weekday()) % 7
        return datetime.combine(self.start + timedelta(days=days_ahead), self.handover.at)

    def on_call(self, at: datetime) -> tuple[str | None, str | None]:
        """The primary and secondary e-mails at `at`.

        Weeks are counted on the wall clock of `timezone`, so a 09:00 handover stays at 09:00
        across daylight-saving changes.
        """
        if not self.people:
            return self.primary, self.secondary
        local = at.astimezone(ZoneInfo(self.timezone)).replace(tzinfo=None)
        week = (local - self.first_handover()) // timedelta(weeks=1)
        n = len(self.people)
        primary = self.people[week % n]
        secondary = self.people[(week + 1) % n] if n > 1 else None
        return primary, secondary


class RosterData(BaseModel):
    """The validated contents of the roster file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    people: tuple[RosterPerson, ...]
    teams: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    services: dict[str, str] = Field(default_factory=dict)
    rotations: dict[str, Rotation] = Field(default_factory=dict)
    approvers: tuple[str, ...] = ()
    announcements_channel: str = "incidents"
    # routing rules (docs/routing.md); None: the settings' or the shipped default
    routing: tuple[RoutingRule, ...] | None = None

    @field_validator("routing", mode="before")
    @classmethod
    def _routing_rules(cls, value: Any) -> Any:
        if value is None:
            return None
        return parse_routing(list(value) if isinstance(value, list | tuple) else value).rules

    @field_validator("people")
    @classmethod
    def _somebody(cls, value: tuple[RosterPerson, ...]) -> tuple[RosterPerson, ...]:
        if not value:
            raise ValueError("the roster lists nobody: add at least one person")
        return value

    @field_validator("teams", mode="before")
    @classmethod
    def _team_emails(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                team: [_email(m) if isinstance(m, str) else m for m in members]
                if isinstance(members, list)
                else members
                for team, members in value.items()
            }
        return value

    @field_validator("approvers", mode="before")
    @classmethod
    def _approver_emails(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_email(v) if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _references(self) -> Self:
        problems: list[str] = []
        known: set[str] = set()
        for i, p in enumerate(self.people):
            if p.email in known:
                problems.append(f"people[{i}].email: {p.email} is listed twice")
            known.add(p.email)
        chat_ids = [p.chat_id for p in self.people if p.chat_id]
        if len(set(chat_ids)) != len(chat_ids):
            problems.append("people: two people share a chat_id")

        def check(where: str, email: str | None) -> None:
            if email is not None and email not in known:
                problems.append(f"{where}: {email} is not listed under people")

        for team, members in self.teams.items():
            for i, email in enumerate(members):
                check(f"teams.{team}[{i}]", email)
        for service, team in self.services.items():
            if team not in self.teams:
                problems.append(f"services.{service}: team {team!r} is not listed under teams")
        for name, rotation in self.rotations.items():
            if name != DEFAULT_ROTATION and name not in self.teams and name not in self.services:
                problems.append(f"rotations.{name}: not a team, a service or `default`")
            check(f"rotations.{name}.primary", rotation.primary)
            check(f"rotations.{name}.secondary", rotation.secondary)
            for i, email in enumerate(rotation.people):
                check(f"rotations.{name}.people[{i}]", email)
        for i, email in enumerate(self.approvers):
            check(f"approvers[{i}]", email)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def person(self, email: str) -> Person | None:
        wanted = email.strip().lower()
        return next((p.person() for p in self.people if p.email == wanted), None)

    def person_by_chat_id(self, chat_id: str) -> Person | None:
        if not chat_id:
            return None
        return next((p.person() for p in self.people if p.chat_id == chat_id), None)

    def team_members(self, team: str) -> list[Person]:
        return [p for e in self.teams.get(team, ()) if (p := self.person(e)) is not None]

    def team_for_service(self, service: str) -> str | None:
        return self.services.get(service)

    def rotation_for(self, service: str) -> Rotation | None:
        """The service's own rotation, else its team's, else `default`."""
        if service in self.rotations:
            return self.rotations[service]
        team = self.services.get(service)
        if team is not None and team in self.rotations:
            return self.rotations[team]
        return self.rotations.get(DEFAULT_ROTATION)

    def shift(self, service: str, at: datetime) -> OnCallShift:
        rotation = self.rotation_for(service)
        if rotation is None:
            return OnCallShift()
        primary, secondary = rotation.on_call(at)
        return OnCallShift(
            primary=self.person(primary) if primary else None,
            secondary=self.person(secondary) if secondary else None,
        )


def parse_roster(text: str, *, source: str = "<roster>") -> RosterData:
    """Validate roster YAML; a RosterError names `source`, where in the file, and the problem."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RosterError(f"roster {source}: {where}not valid YAML ({problem})") from None
    if not isinstance(doc, dict):
        raise RosterError(
            f"roster {source}: expected a mapping with people, teams, services and rotations"
        )
    try:
        return RosterData.model_validate(doc)
    except ValidationError as exc:
        problems = [f"{_path(e['loc'])}{_message(e)}" for e in exc.errors()]
        raise RosterError(f"roster {source}: " + "; ".join(problems)) from None


def _path(loc: Sequence[int | str]) -> str:
    parts = ""
    for item in loc:
        if isinstance(item, int):
            parts += f"[{item}]"
        elif not str(item).startswith(("function-", "tagged-union")):
            parts += f".{item}" if parts else str(item)
    return f"{parts}: " if parts else ""


def _message(error: Any) -> str:
    msg = str(error["msg"])
    return msg.removeprefix("Value error, ")


class Roster:
    """The roster file, re-read whenever its modification time (or size, or inode) changes."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._data: RosterData | None = None
        self._stamp: tuple[int, int, int] | None = None
        self.last_error: RosterError | None = None

    @classmethod
    def load(cls, path: Path | str) -> Roster:
        """Open and validate now, so a bad roster stops start-up with a clear message."""
        roster = cls(path)
        roster.data()
        return roster

    def data(self) -> RosterData:
        """The current roster. A broken edit keeps the last good one and sets `last_error`."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            if self._data is not None:
                self.last_error = RosterError(f"roster {self.path}: file is missing")
                return self._data
            raise RosterError(f"roster {self.path}: file does not exist") from None
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if self._data is not None and stamp == self._stamp:
            return self._data
        try:
            data = parse_roster(self.path.read_text(encoding="utf-8"), source=str(self.path))
        except RosterError as exc:
            if self._data is None:
                raise
            self.last_error = exc
            self._stamp = stamp
            logging.getLogger(__name__).error(
                "roster edit refused, keeping the last good one: %s", exc
            )
            return self._data
        self._data, self._stamp, self.last_error = data, stamp, None
        return data

    @property
    def approvers(self) -> tuple[str, ...]:
        return self.data().approvers

    @property
    def announcements_channel(self) -> str:
        return self.data().announcements_channel

    def routing(self) -> Routing | None:
        """The roster's `routing:` rules, read live (None when it has none)."""
        rules = self.data().routing
        return None if rules is None else Routing(rules)


class RosterDirectory:
    """Directory over the roster file. `approvers` adds the settings' approvers
    (INCIDENT_RESPONSE_APPROVERS) to the roster's own, which are re-read with the file."""

    def __init__(self, roster: Roster, *, approvers: frozenset[str] = frozenset()) -> None:
        self._roster = roster
        self._configured = frozenset(a.strip().lower() for a in approvers if a.strip())

    async def person(self, email: str) -> Person | None:
        return self._roster.data().person(email)

    async def person_by_chat_id(self, chat_id: str) -> Person | None:
        return self._roster.data().person_by_chat_id(chat_id)

    async def team_members(self, team: str) -> list[Person]:
        return self._roster.data().team_members(team)

    async def team_for_service(self, service: str) -> str | None:
        return self._roster.data().team_for_service(service)

    async def people(self) -> list[Person]:
        return [p.person() for p in self._roster.data().people]

    async def approvers(self) -> frozenset[str]:
        return self._configured | frozenset(self._roster.data().approvers)


class RosterOnCall:
    """OnCall over the roster's rotations: the service's, else its team's, else `default`."""

    def __init__(self, roster: Roster) -> None:
        self._roster = roster

    async def shift(
        self, service: str, *, at: datetime, alert_group_id: str | None = None
    ) -> OnCallShift:
        return self._roster.data().shift(service, at.astimezone(UTC))

    async def acknowledge(self, alert_group_id: str) -> bool:
        """A roster pages nobody, so there is no alert group to acknowledge."""
        return False
