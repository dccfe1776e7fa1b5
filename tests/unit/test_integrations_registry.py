"""The registry builds each enabled integration once, the Directory first, and hands the
production directory to the integrations built after it."""

from __future__ import annotations

import pytest

from incident_response import integrations
from incident_response.adapters.embedded.drafter import BuiltinDrafter
from incident_response.config import load_settings
from incident_response.domain.clock import SystemClock
from incident_response.http import OutboundHttp
from incident_response.integrations import Contribution, Wiring


class Marker:
    def __init__(self, name: str) -> None:
        self.name = name


async def test_the_directory_is_built_first_and_handed_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, object] = {}
    production_directory = Marker("workos")

    async def oncall(wiring: Wiring) -> Contribution:
        seen["oncall got"] = wiring.directory
        return Contribution()

    async def workos(wiring: Wiring) -> Contribution:
        seen["workos got"] = wiring.directory
        return Contribution(directory=production_directory)  # type: ignore[arg-type]

    monkeypatch.setattr(integrations, "factory", {"grafana-oncall": oncall, "workos": workos}.get)
    monkeypatch.setattr(integrations, "FACTORIES", {"grafana-oncall": "x:y", "workos": "x:y"})
    settings = load_settings(
        {
            "GRAFANA_ONCALL_TOKEN": "t",
            "WORKOS_API_KEY": "k",
            "WORKOS_DIRECTORY_ID": "directory_01",
            "WORKOS_TEAM_GROUP_MAP": '{"payments": "directory_group_01"}',
        }
    )
    roster = Marker("roster")
    http = OutboundHttp()
    wiring = Wiring(
        settings=settings,
        http=http,
        clock=SystemClock(),
        directory=roster,  # type: ignore[arg-type]
        oncall=Marker("roster on-call"),  # type: ignore[arg-type]
        drafter=BuiltinDrafter(clock=SystemClock()),
    )
    try:
        built = await integrations.contributions(wiring)
    finally:
        await http.aclose()

    assert set(built) == {"grafana-oncall", "workos"}
    assert seen == {"workos got": roster, "oncall got": production_directory}


def test_every_registered_factory_names_a_known_integration() -> None:
    from incident_response.config import INTEGRATIONS

    names = {i.name for i in INTEGRATIONS}
    assert set(integrations.FACTORIES) <= names
    for name in integrations.FACTORIES:
        assert callable(integrations.factory(name))


AWS_QUEUE_AND_SCHEDULER = {
    "AWS_REGION": "eu-west-1",
    "INCIDENT_EVENTS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/e.fifo",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::1:role/s",
}


def wiring_for(values: dict[str, str], http: OutboundHttp) -> Wiring:
    return Wiring(
        settings=load_settings(values),
        http=http,
        clock=SystemClock(),
        directory=Marker("roster"),  # type: ignore[arg-type]
        oncall=Marker("roster on-call"),  # type: ignore[arg-type]
        drafter=BuiltinDrafter(clock=SystemClock()),
    )


async def test_the_queue_is_built_before_the_scheduler_that_fires_into_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queue = Marker("sqs")
    seen: dict[str, object] = {}

    async def scheduler(wiring: Wiring) -> Contribution:
        seen["scheduler got"] = wiring.queue
        return Contribution()

    async def sqs(wiring: Wiring) -> Contribution:
        return Contribution(queue=queue)  # type: ignore[arg-type]

    factories = {"eventbridge-scheduler": scheduler, "sqs": sqs}
    monkeypatch.setattr(integrations, "factory", factories.get)
    monkeypatch.setattr(integrations, "FACTORIES", dict.fromkeys(factories, "x:y"))
    http = OutboundHttp()
    try:
        await integrations.contributions(wiring_for(AWS_QUEUE_AND_SCHEDULER, http))
    finally:
        await http.aclose()

    assert seen == {"scheduler got": queue}


async def test_a_failing_factory_closes_what_was_built_before_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed: list[str] = []

    async def close_sqs() -> None:
        closed.append("sqs")

    async def sqs(wiring: Wiring) -> Contribution:
        return Contribution(closers=[close_sqs])

    async def scheduler(wiring: Wiring) -> Contribution:
        raise RuntimeError("the schedule group is not there")

    factories = {"eventbridge-scheduler": scheduler, "sqs": sqs}
    monkeypatch.setattr(integrations, "factory", factories.get)
    monkeypatch.setattr(integrations, "FACTORIES", dict.fromkeys(factories, "x:y"))
    http = OutboundHttp()
    try:
        with pytest.raises(RuntimeError, match="schedule group"):
            await integrations.contributions(wiring_for(AWS_QUEUE_AND_SCHEDULER, http))
    finally:
        await http.aclose()

    assert closed == ["sqs"]
