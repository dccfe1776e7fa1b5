"""GitHub as the code host, against the fake REST API: the CodeHost suite, then pagination,
rate limits, retries, timeouts, the circuit breaker, CODEOWNERS owners and the probe."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from incident_response.adapters.github.code_host import GitHubCodeHost, belongs_to
from incident_response.adapters.github.factory import headers, repo_names
from incident_response.config import load_settings
from incident_response.http import BreakerPolicy, CallPolicy, CircuitOpen, OutboundHttp, VendorError
from incident_response.integrations import Wiring, contributions
from tests.contract.codehost_suite import WINDOW, CodeHostContract
from tests.fakes.github import TOKEN, FakeGitHub, Repo, commit, pull
from tests.support.clock import ManualClock

SINCE, UNTIL = WINDOW
ORG = "acme"


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


IN = stamp(UNTIL - timedelta(hours=2))
IN_EARLY = stamp(SINCE + timedelta(minutes=5))
BEFORE = stamp(SINCE - timedelta(hours=1))
AFTER = stamp(UNTIL + timedelta(hours=1))


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def seed_checkout(repo: Repo) -> None:
    repo.commits += [
        commit("c1", "Raise the payment timeout\n\nBecause...", IN),
        commit("c2", "Retry card declines", IN_EARLY, login=None),
        commit("c0", "Old change", BEFORE),
        commit("c3", "Later change", AFTER),
        commit("m7", "Feature flag for 3DS (#7)", IN),  # the squash merge of pull 7
    ]
    repo.pulls += [
        pull(7, "Feature flag for 3DS", merged_at=IN, updated_at=IN, sha="m7"),
        pull(8, "Closed unmerged", merged_at=None, updated_at=IN, sha="x8"),
        pull(6, "Merged before", merged_at=BEFORE, updated_at=IN_EARLY, sha="m6"),
        pull(5, "Long ago", merged_at=BEFORE, updated_at=BEFORE, sha="m5"),
    ]
    repo.files[".github/CODEOWNERS"] = "# owners\n* @acme/payments\ndocs/ @acme/docs\n"


@pytest.fixture
async def fake() -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub() as server:
        seed_checkout(server.add_repo(ORG, "checkout-api"))
        platform = server.add_repo(ORG, "platform")
        platform.commits += [
            commit("p1", "checkout: new price rounding", IN, paths=("services/checkout/price.go",)),
            commit("p2", "search: reindex", IN, paths=("services/search/index.go",)),
        ]
        platform.files["CODEOWNERS"] = (
            "* @acme/platform\n"
            "/services/checkout/ @acme/checkout ann@example.com\n"
            "/services/checkout/docs/ @acme/docs\n"
        )
        yield server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def http(sleeps: Sleeps) -> AsyncIterator[OutboundHttp]:
    outbound = OutboundHttp(sleep=sleeps)
    yield outbound
    await outbound.aclose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(UNTIL)


def code_host(
    fake: FakeGitHub,
    http: OutboundHttp,
    clock: ManualClock,
    *,
    repos: tuple[str, ...] = ("checkout-api", "platform"),
    token: str = TOKEN,
    timeout: float = 5.0,
    attempts: int = 3,
    breaker: BreakerPolicy | None = None,
    max_pages: int = 5,
) -> GitHubCodeHost:
    client = http.vendor(
        "github",
        base_url=fake.api_url,
        headers=headers(token),
        policy=CallPolicy(timeout=timeout, attempts=attempts),
        breaker=breaker,
    )
    return GitHubCodeHost(client=client, org=ORG, repos=repos, clock=clock, max_pages=max_pages)


class TestGitHubCodeHost(CodeHostContract):
    @pytest.fixture
    def code_host(self, fake: FakeGitHub, http: OutboundHttp, clock: ManualClock) -> GitHubCodeHost:
        return code_host(fake, http, clock)


async def test_commits_and_merged_pulls_in_the_window_in_time_order(
    fake: FakeGitHub, http: OutboundHttp, clock: ManualClock
) -> None:
    changes = await code_host(fake, http, clock, repos=("checkout-api",)).recent_changes(
        service="checkout", since=SINCE, until=UNTIL
    )
    assert [(c.sha, c.title, c.author) for c in changes] == [
        ("c2", "Retry card declines", "Ann Author"),
        ("c1", "Raise the payment timeout", "ann"),
        ("m7", "#7 Feature flag for 3DS", "bob"),
    ]
    assert all(c.repo == "acme/checkout-api" for c in changes)
    assert changes[-1].url == "https://github.com/o/r/pull/7"
    (commits,) = fake.calls_to("GET", "/repos/acme/checkout-api/commits")
    assert commits.query["since"] == stamp(SINCE)
    assert commits.query["until"] == stamp(UNTIL)
    assert commits.headers["Authorization"] == f"Bearer {TOKEN}"
    assert commits.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert fake.violations == []


async def test_a_monorepo_lists_the_commits_touching_the_services_directory(
    fake: FakeGitHub, http: OutboundHttp, clock: ManualClock
) -> None:
    changes = await code_host(fake, http, clock, repos=("platform",)).recent_changes(
        service="checkout", since=SINCE, until=UNTIL
    )
    assert [c.sha for c in changes] == ["p1"]
    (call,) = fake.calls_to("GET", "/repos/acme/platform/commits")
    assert call.query["path"] == "services/checkout"


async def test_commits_follow_the_link_header_across_pages(
    fake: FakeGitHub, http: OutboundHttp, clock: ManualClock
) -> None:
    repo = fake.add_repo(ORG, "checkout")
    repo.commits += [
        commit(f"s{n:03}", f"change {n}", stamp(UNTIL - timedelta(minutes=n + 1)))
        for n in range(250)
    ]
    changes = await code_host(fake, http, clock, repos=("checkout",)).recent_changes(
        service="checkout", since=SINCE, until=UNTIL
    )
    assert len(changes) == 250
    pages = fake.calls_to("GET", "/repos/acme/checkout/commits")
    assert [c.query.get("page", "1") for c in pages] == ["1", "2", "3"]
    assert {c.query["per_page"] for c in pages} == {"100"}


async def test_pagination_is_capped(
    fake: FakeGitHub, http: OutboundHttp, clock: ManualClock
) -> None:
    repo = fake.add_repo(ORG, "checkout")
    repo.commits += [
        commit(f"s{n:03}", f"change {n}", stamp(UNTIL - timedelta(minutes=n + 1)))
        for n in range(250)
    ]
    host = code_host(fake, http, clock, repos=("checkout",), max_pages=2)
    changes = await host.recent_changes(service="checkout", since=SINCE, until=UNTIL)
    assert len(changes) == 200
    assert len(fake.calls_to("GET", "/repos/acme/checkout/commits")) == 2


async def test_pull_requests_stop_paging_once_older_than_the_window(
    fake: FakeGitHub, http: OutboundHttp, clock: ManualClock
) -> None:
    repo = fake.add_repo(ORG, "checkout")
    repo.pulls += [pull(1000, "Recent", merged_at=IN, updated_at=IN, sha="r1")]
    repo.pulls += [
        pull(n, "old", merged_at=BEFORE, updated_at=BEFORE, sha=f"o{n}") for n in range(300)
    ]
    changes = await code_host(fake, http, clock, repos=("checkout",)).recent_changes(
        service="checkout", since=SINCE, until=UNTIL
    )
    assert [c.sha for c in changes] == ["r1"]
    assert len(fake.calls_to("GET", "/repos/acme/checkout/pulls")) == 1


async def test_enterprise_server_paths_and_next_links_work(
    http: OutboundHttp, clock: ManualClock
) -> None:
    async with FakeGitHub(prefix="/api/v3") as ghes:
        repo = ghes.add_repo(ORG, "checkout")
        repo.commits += [
            commit(f"e{n:03}", "x", stamp(UNTIL - timedelta(minutes=n + 1))) for n in range(150)
        ]
        changes = await code_host(ghes, http, clock, repos=("checkout",)).recent_changes(
            service="checkout", since=SINCE, until=UNTIL
        )
        assert len(changes) == 150
        assert {c.path for c in ghes.calls} <= {
            "/api/v3/repos/acme/checkout/commits",
            "/api/v3/repos/acme/checkout/pulls",
        }


async def test_a_primary_rate_limit_403_is_transient_and_holds_calls_until_the_reset(
    fake: FakeGitHub, http: OutboundHttp, clock: ManualClock
) -> None:
    host = code_host(fake, http, clock, repos=("checkout-api",))
    reset = int(clock.now().timestamp()) + 600
    fake.exhaust_rate_limit(reset=reset)
    with pytest.raises(VendorError) as raised:
        await host.recent_changes(service="checkout", since=SINCE, until=UNTIL)
    assert raised.value.transient
    assert raised.value.retry_after == 600
    assert "rate limit exhausted until" in raised.value.reason
    calls = len(fake.calls)
    with pytest.raises(VendorError, match="rate limit exhausted"):
        await host.recent_changes(service="checkout", since=SINCE, until=UNTIL)
    assert len(fake.calls) == calls  # GitHub was not asked again before the reset
    clock.advance(seconds=601)
    fake.remaining = 5000
    assert await host.recent_changes(service="checkout", since=SINCE, until=UNTIL)


async def test_a_secondary_rate_limit_carries_its_retry_after(
    fake: FakeGitHub, http: OutboundHttp, clock: ManualClock
) -> None:
    fake.secondary_limit(retry_after=60)
    with pytest.raises(VendorError) as raised:
        await code_host(fake, http, clock, repos=("checkout-api",)).probe()
    assert "secondary rate limit" in str(raised.value)
    fake.secondary_limit(retry_after=60)
    host = code_host(fake, http, clock, repos=("checkout-api",))
    with pytest.raises(VendorError) as direct:
        await host.owners(service="checkout")
    assert "secondary rate limit" in str(direct.value)
    assert direct.value.transient


async def test_a_403_without_a_rate_limit_is_not_transient(
    fake: FakeGitHub, http: OutboundHttp, clock: ManualClock
) -> None:
    fake.fail_next(1, status=403, body={"message": "Resource not accessible by integration"})
    with pytest.raises(VendorError) as raised:
        await code_host(fake, http, clock, repos=("checkout-api",)).recent_changes(
            service="checkout", since=SINCE, until=UNTIL
        )
    assert not raised.value.transient
    assert "Resource not accessible by integration" in raised.value.reason


async def test_a_429_waits_the_retry_after_it_names(
    fake: FakeGitHub, http: OutboundHttp, clock: ManualClock, sleeps: Sleeps
) -> None:
    fake.fail_next(1, status=429, retry_after=3, only="/repos/acme/checkout-api/commits")
    changes = await code_host(fake, http, clock, repos=("checkout-api",)).recent_changes(
        service="checkout", since=SINCE, until=UNTIL
    )
    assert len(changes) == 3
    assert sleeps.waits == [3.0]


async def test_a_5xx_is_retried(fake: FakeGitHub, http: OutboundHttp, clock: ManualClock) -> None:
    fake.fail_next(2, status=502, only="/repos/acme/checkout-api/pulls")
    changes = await code_host(fake, http, clock, repos=("checkout-api",)).recent_changes(
        service="checkout", since=SINCE, until=UNTIL
    )
    assert "m7" in {c.sha for c in changes}
    assert len(fake.calls_to("GET", "/repos/acme/checkout-api/pulls")) == 3


async def test_a_timeout_is_a_transient_error(
    fake: FakeGitHub, http: OutboundHttp, clock: ManualClock
) -> None:
    fake.stall_next(1, seconds=1.0)
    host = code_host(fake, http, clock, repos=("checkout-api",), timeout=0.2, attempts=1)
    with pytest.raises(VendorError) as raised:
        await host.probe()
    assert "no answer within 0.2 s" in str(raised.value)


async def test_an_open_circuit_fails_fast_without_calling_github(
    fake: FakeGitHub, http: OutboundHttp, clock: ManualClock
) -> None:
    host = code_host(
        fake,
        http,
        clock,
        repos=("checkout-api",),
        attempts=1,
        breaker=BreakerPolicy(failures=1, reset_after=60),
    )
    fake.fail_next(2, status=500)
    with pytest.raises(VendorError):
        await host.recent_changes(service="checkout", since=SINCE, until=UNTIL)
    calls = len(fake.calls)
    with pytest.raises(CircuitOpen):
        await host.recent_changes(service="checkout", since=SINCE, until=UNTIL)
    assert len(fake.calls) == calls


async def test_wrong_credentials_are_a_clear_error(
    fake: FakeGitHub, http: OutboundHttp, clock: ManualClock
) -> None:
    with pytest.raises(VendorError, match="HTTP 401"):
        await code_host(fake, http, clock, token="nope").recent_changes(
            service="checkout", since=SINCE, until=UNTIL
        )


async def test_owners_come_from_each_repositorys_codeowners(
    fake: FakeGitHub, http: OutboundHttp, clock: ManualClock
) -> None:
    owners = await code_host(fake, http, clock).owners(service="checkout")
    assert owners == ["@acme/payments", "@acme/checkout", "ann@example.com"]
    looked = [c.path for c in fake.calls_to("GET", "/repos/acme/platform/contents/")]
    assert looked == [
        "/repos/acme/platform/contents/.github/CODEOWNERS",
        "/repos/acme/platform/contents/CODEOWNERS",
    ]
    assert await code_host(fake, http, clock).owners(service="billing") == []


async def test_an_unreadable_repository_does_not_hide_the_others_owners(
    fake: FakeGitHub, http: OutboundHttp, clock: ManualClock
) -> None:
    fake.fail_next(1, status=403, only="/repos/acme/checkout-api/")
    owners = await code_host(fake, http, clock).owners(service="checkout")
    assert owners == ["@acme/checkout", "ann@example.com"]


async def test_probe_reads_each_repository(
    fake: FakeGitHub, http: OutboundHttp, clock: ManualClock
) -> None:
    assert await code_host(fake, http, clock).probe() == "2 repositories readable in acme"
    with pytest.raises(VendorError, match="acme/gone: HTTP 404"):
        await code_host(fake, http, clock, repos=("checkout-api", "gone")).probe()


@pytest.mark.parametrize(
    ("repo", "service", "belongs"),
    [
        ("checkout", "checkout", True),
        ("checkout-api", "checkout", True),
        ("acme_checkout", "Checkout", True),
        ("checkouts", "checkout", False),
        ("platform", "checkout", False),
        ("checkout", "", False),
    ],
)
def test_a_repository_belongs_to_the_service_it_is_named_after(
    repo: str, service: str, belongs: bool
) -> None:
    assert belongs_to(repo, service) is belongs


def test_repo_names_accept_commas_spaces_and_owner_prefixes() -> None:
    assert repo_names("checkout-api, platform acme/web,,checkout-api") == [
        "checkout-api",
        "platform",
        "web",
    ]


async def test_the_registry_builds_it_from_settings(
    fake: FakeGitHub, http: OutboundHttp, tmp_path: Path
) -> None:
    settings = load_settings(
        {
            "INCIDENT_RESPONSE_DATA_DIR": str(tmp_path),
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_ORG_SLUG": ORG,
            "GITHUB_REPO_NAMES": "checkout-api, platform",
            "GITHUB_API_URL": fake.api_url,
        }
    )
    nothing: Any = None
    wiring = Wiring(
        settings=settings,
        http=http,
        clock=ManualClock(UNTIL),
        directory=nothing,
        oncall=nothing,
        drafter=nothing,
    )
    host = (await contributions(wiring))["github"].code_host
    assert isinstance(host, GitHubCodeHost)
    assert await host.probe() == "2 repositories readable in acme"
    assert await host.owners(service="checkout") == [
        "@acme/payments",
        "@acme/checkout",
        "ann@example.com",
    ]
