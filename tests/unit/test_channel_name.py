"""War-room channel names: readable, and always acceptable to Slack."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from incident_response.domain.alert import AlertSource, Severity
from incident_response.domain.incident import Incident
from incident_response.services.war_room import channel_name

SLACK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*[a-z0-9]$")


def incident(
    *,
    service: str = "checkout",
    incident_id: str = "inc-3f9a2c1b2d",
    severity: Severity = Severity.P1,
    created_at: datetime = datetime(2026, 11, 26, 9, 30, tzinfo=UTC),
) -> Incident:
    return Incident(
        id=incident_id,
        severity=severity,
        title="t",
        source=AlertSource.ALERTMANAGER,
        alert_group_id="g",
        alert_group_key="alertmanager:g",
        service=service,
        created_at=created_at,
        updated_at=created_at,
    )


def test_name_reads_severity_date_service_and_short_id() -> None:
    assert channel_name(incident()) == "inc-p1-20261126-checkout-3f9a2c"


def test_service_is_made_slack_safe() -> None:
    assert channel_name(incident(service="Checkout API (EU)")) == (
        "inc-p1-20261126-checkout-api-eu-3f9a2c"
    )
    assert channel_name(incident(service="Zahlungsdienst Österreich")) == (
        "inc-p1-20261126-zahlungsdienst-osterreich-3f9a2c"
    )


def test_a_service_with_nothing_usable_is_left_out() -> None:
    assert channel_name(incident(service="☃☃")) == "inc-p1-20261126-3f9a2c"


def test_the_date_is_the_utc_date() -> None:
    late_evening_in_new_york = datetime(2026, 11, 26, 22, 0, tzinfo=timezone(timedelta(hours=-5)))

    assert channel_name(incident(created_at=late_evening_in_new_york)).startswith(
        "inc-p1-20261127-"
    )


def test_incidents_on_one_service_and_day_get_different_names() -> None:
    assert channel_name(incident(incident_id="inc-aaaaaa0000")) != channel_name(
        incident(incident_id="inc-bbbbbb0000")
    )
    assert channel_name(incident(incident_id="incident one")) != channel_name(
        incident(incident_id="incident two")
    )


@given(
    service=st.text(max_size=300),
    incident_id=st.text(min_size=1, max_size=40),
    severity=st.sampled_from(list(Severity)),
    created_at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_any_service_name_gives_a_valid_slack_name(
    service: str, incident_id: str, severity: Severity, created_at: datetime
) -> None:
    name = channel_name(
        incident(service=service, incident_id=incident_id, severity=severity, created_at=created_at)
    )

    assert SLACK_NAME.match(name), name
    assert len(name) <= 80
    assert name.startswith(f"inc-{severity.value.lower()}-{created_at:%Y%m%d}-")
    assert "--" not in name
    assert name == channel_name(
        incident(service=service, incident_id=incident_id, severity=severity, created_at=created_at)
    )


@given(service=st.from_regex(r"[a-z0-9]{1,50}", fullmatch=True))
def test_a_plain_service_name_is_kept_whole(service: str) -> None:
    assert channel_name(incident(service=service)) == f"inc-p1-20261126-{service}-3f9a2c"


@given(service=st.from_regex(r"[a-z0-9]{58,200}", fullmatch=True))
def test_a_long_service_name_is_cut_to_fit(service: str) -> None:
    name = channel_name(incident(service=service))

    assert len(name) == 80
    assert name.endswith("-3f9a2c")
    assert service.startswith(name.removeprefix("inc-p1-20261126-").removesuffix("-3f9a2c"))
