"""The Statuspage adapter wired to a FakeStatuspage, with time the test controls."""

from __future__ import annotations

from dataclasses import dataclass, field

from incident_response.adapters.statuspage.api import VENDOR, StatuspageApi
from incident_response.adapters.statuspage.statuspage_io import PUBLISH_DEADLINE, StatuspageIo
from incident_response.http import BreakerPolicy, CallPolicy, OutboundHttp
from tests.fakes.statuspage import FakeStatuspage


@dataclass
class Sleeps:
    """A sleep that returns at once and remembers what it was asked to wait."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def statuspage_io(
    fake: FakeStatuspage,
    http: OutboundHttp,
    *,
    timeout: float = 2.0,
    attempts: int = 3,
    breaker: BreakerPolicy | None = None,
    per_second: float | None = 1.0,
    api_key: str | None = None,
    page_id: str | None = None,
    publish_deadline: float = PUBLISH_DEADLINE,
) -> StatuspageIo:
    """The adapter as the factory builds it (same vendor name, header and pacing)."""
    client = http.vendor(
        VENDOR,
        base_url=fake.url,
        headers={"Authorization": f"OAuth {api_key or fake.api_key}"},
        per_second=per_second,
        policy=CallPolicy(timeout=timeout, attempts=attempts),
        breaker=breaker,
    )
    return StatuspageIo(
        StatuspageApi(client, page_id=page_id or fake.page_id), publish_deadline=publish_deadline
    )


def statuspage_settings(fake: FakeStatuspage) -> dict[str, str]:
    """The variables that switch the Statuspage integration on, pointed at the fake."""
    return {
        "STATUSPAGE_API_KEY": fake.api_key,
        "STATUSPAGE_PAGE_ID": fake.page_id,
        "STATUSPAGE_API_URL": fake.url,
    }
