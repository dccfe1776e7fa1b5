"""`insights [weeks N] [service NAME] [severity P1]`: MTTA, MTTR, time to first public update and
incidents by severity and service, week by week; works anywhere, for anyone in the roster.

The same figures as the console's metrics page and `GET /api/insights` (domain/insights.py
defines them), shortened for a chat: the last 4 weeks unless asked for more.
"""

from __future__ import annotations

from datetime import timedelta

from incident_response.commands.context import (
    CommandCall,
    CommandReply,
    CommandServices,
    duration_text,
)
from incident_response.domain.alert import Severity
from incident_response.domain.authority import Action
from incident_response.domain.insights import (
    MAX_WEEKS,
    Figures,
    InsightsFilter,
    Summary,
    Week,
    WeekRange,
)
from incident_response.services.insights import InsightsReader

CHAT_WEEKS = 4
USAGE = "insights [weeks N] [service NAME] [severity P1]"


class InsightsCommand:
    name = "insights"
    usage = USAGE
    summary = "MTTA, MTTR and time to first public update, week by week"
    needs_incident = False

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        return Action.READ

    async def run(self, call: CommandCall) -> CommandReply:
        asked = _parse(call.args)
        if isinstance(asked, str):
            return CommandReply(text=f"{asked}. Usage: `{USAGE}`.", ok=False)
        weeks, only = asked
        services = self._services
        reader = InsightsReader(store=services.store, audit=services.audit)
        report = await reader.read(WeekRange.ending(services.clock.now(), weeks), only)
        found = report.insights
        first, last = found.weeks[0].label, found.weeks[-1].label
        scope = ", ".join([*sorted(only.services), *sorted(s.value for s in only.severities)])
        lines = [
            f"Insights {first} to {last}"
            + (f" ({scope})" if scope else "")
            + ": "
            + _totals(found.overall),
            *(_week_line(w) for w in reversed(found.weeks)),
            "Incidents still open are counted but not in MTTR. The console's metrics page has "
            "the table, medians per week and a CSV download.",
        ]
        if report.truncated:
            lines.append("Too many incidents to read at once: these cover the oldest only.")
        overall = found.overall
        return CommandReply(
            text="\n".join(lines),
            data={
                "from": first,
                "to": last,
                "incidents": overall.incidents,
                "still_open": overall.still_open,
                "mtta_seconds": overall.acknowledge.mean_seconds,
                "mtta_median_seconds": overall.acknowledge.median_seconds,
                "mttr_seconds": overall.resolve.mean_seconds,
                "mttr_median_seconds": overall.resolve.median_seconds,
                "first_update_seconds": overall.first_update.mean_seconds,
                "first_update_median_seconds": overall.first_update.median_seconds,
            },
        )


def _parse(args: str) -> tuple[int, InsightsFilter] | str:
    """(weeks, filter), or what is wrong with the words."""
    words = args.split()
    weeks = CHAT_WEEKS
    services: set[str] = set()
    severities: set[Severity] = set()
    if len(words) % 2:
        return f"`{words[-1]}` needs a value after it"
    for key, value in zip(words[::2], words[1::2], strict=True):
        match key.lower():
            case "weeks":
                if not value.isdigit() or not 1 <= int(value) <= MAX_WEEKS:
                    return f"weeks must be a whole number from 1 to {MAX_WEEKS}, not `{value}`"
                weeks = int(value)
            case "service":
                services.add(value)
            case "severity":
                try:
                    severities.add(Severity(value.upper()))
                except ValueError:
                    names = ", ".join(s.value for s in Severity)
                    return f"severity must be one of {names}, not `{value}`"
            case _:
                return f"`{key}` is not something insights can filter by"
    return weeks, InsightsFilter(services=frozenset(services), severities=frozenset(severities))


def _mean_median(summary: Summary) -> str:
    if summary.mean_seconds is None or summary.median_seconds is None:
        return "no data"
    mean = duration_text(timedelta(seconds=summary.mean_seconds))
    middle = duration_text(timedelta(seconds=summary.median_seconds))
    return f"{mean} (median {middle}, {summary.count})"


def _totals(figures: Figures) -> str:
    return (
        f"{figures.incidents} incident{'' if figures.incidents == 1 else 's'}, "
        f"{figures.still_open} still open; "
        f"MTTA {_mean_median(figures.acknowledge)}; MTTR {_mean_median(figures.resolve)}; "
        f"first public update {_mean_median(figures.first_update)}"
    )


def _week_line(week: Week) -> str:
    if not week.figures.incidents:
        return f"- {week.label}: no incidents"
    severities = ", ".join(f"{s.value} {n}" for s, n in week.by_severity if n)
    services = ", ".join(f"{name} {n}" for name, n in week.by_service)
    return f"- {week.label}: {_totals(week.figures)}. {severities}; {services}"
