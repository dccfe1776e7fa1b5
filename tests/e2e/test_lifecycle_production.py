"""The whole lifecycle through a real `serve` process with EVERY production integration enabled by
its settings and pointed at its vendor's fake (each running in this test process, in a thread):
Slack, Statuspage, Linear, WorkOS, Grafana OnCall, Grafana Cloud, GitHub and one LLM (each of
Anthropic, OpenAI-compatible and Bedrock in turn).

`config check --probe` first: an `ok` line for every integration. Then: alert (Grafana OnCall) ->
a private Slack room staffed from Grafana OnCall and WorkOS, briefed from Grafana Cloud and
CODEOWNERS, bookmarking the Statuspage page, alert group acknowledged -> the model's draft (API)
-> approval -> one Statuspage incident -> a note the model classifies -> a follow-up drafted and
approved from Slack -> resolve -> one Linear issue with the model's postmortem, GitHub asked for
the window's changes -> the resolution approved -> the Statuspage incident resolved -> the audit
log verifies. No fake saw a request that breaks its vendor's contract, no model prompt held an
e-mail address, and `serve` logged no error.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.github import TOKEN as GITHUB_TOKEN
from tests.fakes.github import FakeGitHub, commit, pull
from tests.fakes.grafana_cloud import ORG_ID as GRAFANA_ORG_ID
from tests.fakes.grafana_cloud import TOKEN as GRAFANA_CLOUD_TOKEN
from tests.fakes.grafana_cloud import FakeGrafanaCloud, Trace
from tests.fakes.grafana_oncall import FakeGrafanaOnCall
from tests.fakes.linear import DEFAULT_TEAM, FakeLinear
from tests.fakes.llm_script import POSTMORTEM_TEXT, Prompt, Reply
from tests.fakes.openai import FakeOpenAI
from tests.fakes.slack import FakeSlack
from tests.fakes.statuspage import FakeStatuspage
from tests.fakes.workos import FakeWorkOS
from tests.support.payloads import oncall_payload
from tests.support.server import SECRET, ServeProcess, clean_env, executable

pytestmark = pytest.mark.slow
T = TypeVar("T")

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
NS = 1_000_000_000
DIRECTORY = "directory_01HE2EPRODUCTION00000000000"
ONCALL_TOKEN = "oncall-e2e-token"
WORKOS_KEY = "sk_test_e2e"
LINEAR_KEY = "lin_api_e2e0123456789"
ANTHROPIC_KEY = "sk-ant-e2e"
OPENAI_KEY = "sk-openai-e2e"
BEDROCK_MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"

FRANK = {"name": "Frank Ito", "email": "frank@example.com", "slack": "U0FRANK"}
BOB = {"name": "Bob Okafor", "email": "bob@example.com", "slack": "U0BOB"}
CAROL = {"name": "Carol Nguyen", "email": "carol@example.com", "slack": "U0CAROL"}
PEOPLE = (FRANK, BOB, CAROL)
PORTS = (
    "Chat",
    "Directory",
    "OnCall",
    "Telemetry",
    "StatusPage",
    "IssueTracker",
    "CodeHost",
    "LLM",
)
INTEGRATIONS = (
    "slack",
    "statuspage",
    "linear",
    "workos",
    "grafana-oncall",
    "grafana-cloud",
    "github",
)  # and the LLM of the run
FRANK_LINEAR_ID = "3e6d1c2a-7b4f-4c8e-9a1d-5f2b8c7e6d03"

# the roster lists the people who act (tokens are issued for roster people only) and which team
# owns the service; the team's members come from WorkOS and who is on call from Grafana OnCall
ROSTER = """
people:
  - {name: Frank Ito, email: frank@example.com, chat_id: U0FRANK}
  - {name: Bob Okafor, email: bob@example.com}
  - {name: Carol Nguyen, email: carol@example.com}
teams:
  payments: []
services:
  checkout: payments
"""

# what "the model" writes: a status update per stage, a postmortem with every section
INVESTIGATING_TEXT = (
    "We are investigating errors affecting some customers using Checkout. "
    "We will post an update as soon as we know more."
)
FOLLOW_UP_TEXT = (
    "We are still investigating errors affecting some customers using Checkout. "
    "We will post another update soon."
)
RESOLVED_TEXT = "This incident has been resolved. Checkout is operating normally again."
SIGNING_SECRET = "e2e-slack-signing-secret-0123456789"


def script(prompt: Prompt) -> str | Reply:
    system = prompt.system.lower()
    if "yes or no" in system:
        return "no"
    if "postmortem" in system:
        return POSTMORTEM_TEXT
    if "Stage: resolved" in prompt.user:
        return RESOLVED_TEXT
    if "Updates already published" in prompt.user:
        return FOLLOW_UP_TEXT
    return INVESTIGATING_TEXT


def wait_for(check: Callable[[], T | None], what: str, timeout: float = 30) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout:g} s")


def texts(doc: Any) -> list[str]:
    """Every string in a JSON-like document (a Slack message's blocks, an API answer)."""
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        return [s for v in doc.values() for s in texts(v)]
    if isinstance(doc, list):
        return [s for v in doc for s in texts(v)]
    return []


@dataclass
class Vendors:
    slack: FakeSlack
    statuspage: FakeStatuspage
    linear: FakeLinear
    workos: FakeWorkOS
    oncall: FakeGrafanaOnCall
    cloud: FakeGrafanaCloud
    github: FakeGitHub
    llm: FakeAnthropic | FakeOpenAI | FakeBedrock
    alert_group: str
    announcements: str
    env: dict[str, str]

    def violations(self) -> dict[str, list[Any]]:
        fakes: dict[str, Any] = {
            "slack": self.slack,
            "statuspage": self.statuspage,
            "linear": self.linear,
            "workos": self.workos,
            "grafana-oncall": self.oncall,
            "grafana-cloud": self.cloud,
            "github": self.github,
            "llm": self.llm,
        }
        return {name: list(fake.violations) for name, fake in fakes.items() if fake.violations}


@dataclass
class People:
    """Where the people are: Slack (with its announcements channel), WorkOS (with the team's
    group) and Grafana OnCall (with the alert group whose escalation names who is on call)."""

    slack: FakeSlack
    announcements: str
    workos: FakeWorkOS
    team_group: str
    oncall: FakeGrafanaOnCall
    alert_group: str


def seed_people(stack: ExitStack) -> People:
    slack = stack.enter_context(
        FakeSlack.in_thread(
            users=[{"id": p["slack"], "email": p["email"], "name": p["name"]} for p in PEOPLE]
        )
    )
    announcements = slack.add_channel("incidents", is_private=False).id
    workos = stack.enter_context(FakeWorkOS.in_thread(api_key=WORKOS_KEY))
    payments = workos.add_group(DIRECTORY, "Payments")
    for person in PEOPLE:
        first, _, last = person["name"].partition(" ")
        member = [payments] if person is not FRANK else []
        workos.add_user(DIRECTORY, person["email"], first_name=first, last_name=last, groups=member)
    oncall = stack.enter_context(FakeGrafanaOnCall.in_thread(token=ONCALL_TOKEN))
    frank, bob = oncall.add_user(FRANK["email"]), oncall.add_user(BOB["email"])
    schedule = oncall.add_schedule("payments", fixed=[frank])
    chain = oncall.add_chain(
        {"type": "notify_on_call_from_schedule", "notify_on_call_from_schedule": schedule},
        {"type": "notify_persons", "persons_to_notify": [bob]},
    )
    group = oncall.add_alert_group(chain)
    return People(slack, announcements, workos, payments.id, oncall, group)


def seed_context(stack: ExitStack) -> tuple[FakeGrafanaCloud, FakeGitHub]:
    now = datetime.now(UTC)
    cloud = stack.enter_context(FakeGrafanaCloud.in_thread())
    now_ns = int(now.timestamp()) * NS
    cloud.seed(
        "checkout",
        error_rate=0.125,
        p95_seconds=2.4,
        logs=[(now_ns - 90 * NS, 'level=error msg="card gateway timeout"')],
    )
    start = int(now.timestamp())
    cloud.add_trace(Trace("a1b2c3d4e5f60718", "checkout", "POST /pay", 3100, start - 60))
    cloud.add_trace(Trace("ffee00112233aabb", "checkout", "GET /cart", 80, start - 30, error=True))
    github = stack.enter_context(FakeGitHub.in_thread())
    repo = github.add_repo("acme", "checkout")

    def stamp(at: datetime) -> str:
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")

    recent, old = stamp(now - timedelta(hours=1)), stamp(now - timedelta(days=3))
    repo.commits += [
        commit("c0ffee1", "Raise the card gateway timeout", recent),
        commit("01d0001", "An old change", old),
    ]
    repo.pulls += [pull(41, "Retry card declines", merged_at=recent, updated_at=recent, sha="m41")]
    repo.files[".github/CODEOWNERS"] = "# owners\n* @acme/payments\ndocs/ @acme/docs\n"
    return cloud, github


def start_llm(stack: ExitStack, provider: str) -> tuple[Any, dict[str, str]]:
    if provider == "anthropic":
        anthropic = stack.enter_context(
            FakeAnthropic.in_thread(api_key=ANTHROPIC_KEY, script=script)
        )
        return anthropic, {"ANTHROPIC_API_KEY": ANTHROPIC_KEY, "ANTHROPIC_BASE_URL": anthropic.url}
    if provider == "openai-compatible":
        openai = stack.enter_context(FakeOpenAI.in_thread(api_key=OPENAI_KEY, script=script))
        return openai, {
            "OPENAI_API_KEY": OPENAI_KEY,
            "OPENAI_MODEL": "gpt-4.1-mini",
            "OPENAI_BASE_URL": openai.base_url,
        }
    bedrock = stack.enter_context(FakeBedrock.in_thread(script=script))
    return bedrock, {
        "BEDROCK_MODEL_ID": BEDROCK_MODEL,
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock.url,
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/nonexistent/aws-config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    }


@pytest.fixture(params=["anthropic", "openai-compatible", "bedrock"])
def vendors(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Vendors]:
    with ExitStack() as stack:
        people = seed_people(stack)
        slack, workos, oncall = people.slack, people.workos, people.oncall
        cloud, github = seed_context(stack)
        statuspage = stack.enter_context(FakeStatuspage.in_thread())
        statuspage.rate_limited_at()
        linear = stack.enter_context(
            FakeLinear.in_thread(
                api_key=LINEAR_KEY,
                users=[
                    {"id": FRANK_LINEAR_ID, "name": FRANK["name"], "email": FRANK["email"]},
                    {
                        "id": "7d3c2b1a-5e4f-4a3b-9c2d-8e7f6a5b4c02",
                        "name": BOB["name"],
                        "email": BOB["email"],
                    },
                ],
            )
        )
        llm, llm_env = start_llm(stack, request.param)
        env = clean_env(
            tmp_path,
            COLUMNS="200",
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.api_url,
            INCIDENT_RESPONSE_ANNOUNCEMENTS_CHANNEL=people.announcements,
            STATUSPAGE_API_KEY=statuspage.api_key,
            STATUSPAGE_PAGE_ID=statuspage.page_id,
            STATUSPAGE_API_URL=statuspage.url,
            INCIDENT_RESPONSE_STATUS_PAGE_COMPONENTS="checkout=Checkout",
            LINEAR_API_KEY=LINEAR_KEY,
            LINEAR_TEAM_ID=DEFAULT_TEAM["id"],
            LINEAR_API_URL=linear.api_url,
            WORKOS_API_KEY=WORKOS_KEY,
            WORKOS_DIRECTORY_ID=DIRECTORY,
            WORKOS_TEAM_GROUP_MAP=f"payments={people.team_group}",
            WORKOS_API_URL=workos.url,
            GRAFANA_ONCALL_TOKEN=ONCALL_TOKEN,
            GRAFANA_ONCALL_API_URL=oncall.url,
            INCIDENT_RESPONSE_ONCALL_ACKNOWLEDGE="true",
            GRAFANA_CLOUD_TOKEN=GRAFANA_CLOUD_TOKEN,
            GRAFANA_CLOUD_ORG_ID=GRAFANA_ORG_ID,
            GRAFANA_CLOUD_PROMETHEUS_URL=cloud.prometheus_url,
            GRAFANA_CLOUD_LOKI_URL=cloud.loki_url,
            GRAFANA_CLOUD_TEMPO_URL=cloud.tempo_url,
            GITHUB_TOKEN=GITHUB_TOKEN,
            GITHUB_ORG_SLUG="acme",
            GITHUB_REPO_NAMES="checkout",
            GITHUB_API_URL=github.api_url,
            **llm_env,
        )
        (tmp_path / "roster.yaml").write_text(ROSTER, encoding="utf-8")
        yield Vendors(
            slack=slack,
            statuspage=statuspage,
            linear=linear,
            workos=workos,
            oncall=oncall,
            cloud=cloud,
            github=github,
            llm=llm,
            alert_group=people.alert_group,
            announcements=people.announcements,
            env=env,
        )


def test_the_lifecycle_with_every_production_integration(
    vendors: Vendors, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    provider = request.node.callspec.params["vendors"]
    probe_every_integration(vendors, provider)

    with ServeProcess(tmp_path, env=vendors.env) as server:
        try:
            walk(server, vendors, provider)
        except BaseException:
            print(server.log()[-6000:])
            raise
    verify = server.cli("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert vendors.violations() == {}
    failures = [
        line for line in server.log_path.read_text().splitlines() if '"level": "error"' in line
    ]
    assert failures == []


def probe_every_integration(vendors: Vendors, provider: str) -> None:
    """`incident-response config check --probe` with the same settings: one `ok` line each."""
    check = subprocess.run(
        [executable(), "config", "check", "--probe"],
        env=vendors.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    for integration in (*INTEGRATIONS, provider):
        line = rf"^ok\s+{re.escape(integration)}: "
        assert re.search(line, check.stdout, re.M), (integration, check.stdout, check.stderr)
    assert "failed" not in check.stdout + check.stderr
    assert "not in this build" not in check.stdout
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in check.stdout.splitlines()]
    adapters = {row[0]: row[1] for row in rows if len(row) == 3}
    assert {port: adapters[port] for port in PORTS} == {
        "Chat": "slack",
        "Directory": "workos",
        "OnCall": "grafana-oncall",
        "Telemetry": "grafana-cloud",
        "StatusPage": "statuspage",
        "IssueTracker": "linear",
        "CodeHost": "github",
        "LLM": provider,
    }


def walk(server: ServeProcess, vendors: Vendors, provider: str) -> None:
    frank = server.client(server.token(FRANK["email"]))
    bob = server.client(server.token(BOB["email"]))
    slack, statuspage, linear = vendors.slack, vendors.statuspage, vendors.linear

    alert = oncall_payload(group=vendors.alert_group, title="HighErrorRate checkout")
    posted = httpx.post(
        server.base + "/webhooks/grafana-oncall",
        content=json.dumps(alert),
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    assert posted.status_code == 202, posted.text

    def assembled() -> dict[str, Any] | None:
        for item in frank.get("/api/incidents").json()["incidents"]:
            if item["alert_group_id"] == vendors.alert_group and item["assembled_at"]:
                return item  # type: ignore[no-any-return]
        return None

    incident = wait_for(assembled, "the war room assembled")
    iid = incident["id"]

    # --- the war room: a private Slack channel staffed from Grafana OnCall and WorkOS ----------
    assert incident["ic"]["email"] == FRANK["email"]
    roles = {r["email"]: r["role"] for r in incident["responders"]}
    assert roles == {
        FRANK["email"]: "primary",
        BOB["email"]: "secondary",
        CAROL["email"]: "team",
    }
    channel = slack.channels[incident["channel"]["id"]]
    assert channel.is_private
    assert channel.name == incident["channel"]["name"]
    wait_for(
        lambda: {p["slack"] for p in PEOPLE} <= channel.members, "everyone invited to the channel"
    )
    messages = slack.messages[channel.id]
    pinned = [m for m in messages if m.ts in slack.pins[channel.id]]
    assert any("checklist" in " ".join([m.text, *texts(m.blocks)]).lower() for m in pinned)
    brief = html.unescape("\n".join(s for m in messages for s in [m.text, *texts(m.blocks)]))
    assert "Metrics (Mimir): error rate 12.5% (5 min), p95 2.4 s" in brief
    assert 'Logs (Loki): 1 error line, newest: level=error msg="card gateway timeout"' in brief
    assert "Traces (Tempo): 1 slow (>= 1s) (slowest 3.1 s POST /pay" in brief
    assert "Suggested owners (CODEOWNERS): @acme/payments" in brief
    # the room's bookmark is the page customers read (Statuspage), not the built-in one
    wait_for(lambda: slack.channels[channel.id].topic.value, "the room's topic set")
    assert "IC: Frank Ito" in channel.topic.value
    marks = wait_for(
        lambda: {b.title: b.link for b in slack.bookmarks[channel.id]}.get("Status page"),
        "the status page bookmarked",
    )
    assert marks == "https://status.acme.test"
    kinds = {e["type"] for e in incident["audit"]}
    assert {"WAR_ROOM_CREATED", "CONTEXT_SNAPSHOT_ATTACHED", "CHECKLIST_PINNED"} <= kinds
    # the escalation stops: the alert group is acknowledged once the room is assembled
    wait_for(
        lambda: vendors.oncall.alert_groups[vendors.alert_group].state == "acknowledged",
        "the alert group acknowledged in Grafana OnCall",
    )

    # --- the IC drafts: the model writes it; nothing public yet ---------------------------------
    reply = frank.post(f"/api/incidents/{iid}/commands", json={"text": "draft"})
    assert reply.status_code == 200, reply.text
    draft = frank.get(f"/api/incidents/{iid}").json()["drafts"][-1]
    assert draft["status"] == "draft"
    assert draft["body"] == INVESTIGATING_TEXT  # the model's, not the built-in drafter's
    assert vendors.llm.prompts, "the model was called"
    assert statuspage.incidents == {}
    assert not statuspage.calls_to("POST", "/v1/pages") + statuspage.calls_to("PATCH", "/v1/pages")
    # a draft made over the API is shown where the IC works: its card, with Approve, in Slack
    wait_for(
        lambda: any(card_of(m, INVESTIGATING_TEXT) for m in slack.messages[channel.id]),
        "the API draft's card in the Slack room",
    )

    approve = f"/api/incidents/{iid}/drafts/{draft['id']}/approve"
    assert bob.post(approve, json={"version": draft["version"]}).status_code == 403
    assert statuspage.incidents == {}
    published = frank.post(approve, json={"version": draft["version"]})
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"

    [page_incident] = statuspage.incidents.values()
    assert statuspage.bodies(page_incident["id"]) == [INVESTIGATING_TEXT]
    assert [c["name"] for c in page_incident["components"]] == ["Checkout"]
    assert statuspage.component_status("Checkout") == "major_outage"  # P1
    assert page_incident["status"] == "investigating"

    # --- a note naming people by e-mail: the model is asked whether it was a status update -------
    noted = frank.post(
        f"/api/incidents/{iid}/commands",
        json={"text": "note Carol (carol@example.com) told ops@customer.example we are on it"},
    )
    assert noted.status_code == 200, noted.text
    assert noted.json()["data"]["status_update"] is False  # the model said no
    assert [p for p in vendors.llm.prompts if "yes or no" in p.system.lower()]

    # --- a follow-up from Slack: the IC clicks the brief's button, then Approve on the card ------
    click(server, slack, channel.id, "draft.create")
    card = wait_for(
        lambda: next((m for m in slack.messages[channel.id] if card_of(m, FOLLOW_UP_TEXT)), None),
        "the follow-up draft's card in the room",
    )
    assert statuspage.bodies(page_incident["id"]) == [INVESTIGATING_TEXT]
    click(server, slack, channel.id, "draft.approve", message_ts=card.ts)
    wait_for(
        lambda: statuspage.bodies(page_incident["id"]) == [INVESTIGATING_TEXT, FOLLOW_UP_TEXT],
        "the follow-up approved in Slack on Statuspage",
    )
    assert len(statuspage.incidents) == 1

    # --- resolve: one Linear issue with the model's postmortem, GitHub asked for the window ----
    resolve = frank.post(f"/api/incidents/{iid}/commands", json={"text": "resolve"})
    assert resolve.status_code == 200, resolve.text

    def resolved() -> dict[str, Any] | None:
        body: dict[str, Any] = frank.get(f"/api/incidents/{iid}").json()
        return body if body["status"] == "resolved" and body["postmortem"] else None

    final = wait_for(resolved, "the incident resolved with its postmortem filed")
    assert final["status_page"]["url"] == page_incident["shortlink"]
    [issue] = linear.issues.values()
    assert len(linear.created()) == 1
    assert final["postmortem"]["url"] == issue["url"]
    assert POSTMORTEM_TEXT.strip() in issue["description"]  # the model's, not the skeleton
    assert issue["title"].startswith("Postmortem: P1 ")
    assert issue["priority"] == 1  # P1: urgent
    assert issue["assignee"]["id"] == FRANK_LINEAR_ID  # the IC
    asked = vendors.github.calls_to("GET", "/repos/acme/checkout/commits")
    assert asked, "GitHub was asked for the commits in the incident window"
    created = datetime.fromisoformat(final["created_at"])
    since = datetime.fromisoformat(asked[-1].query["since"].replace("Z", "+00:00"))
    until = datetime.fromisoformat(asked[-1].query["until"].replace("Z", "+00:00"))
    assert since < created <= until
    # the window's changes went to the model as the postmortem's deploy timeline
    [postmortem_prompt] = [p for p in vendors.llm.prompts if "postmortem" in p.system.lower()]
    assert "Raise the card gateway timeout" in postmortem_prompt.user
    assert "#41 Retry card declines" in postmortem_prompt.user
    assert "An old change" not in postmortem_prompt.user
    room = [m.text for m in slack.messages[channel.id]]
    assert f"Postmortem draft filed: {issue['url']}" in room
    wait_for(
        lambda: any(
            issue["url"] in m.text and iid in m.text for m in slack.messages[vendors.announcements]
        ),
        "the resolution announced with its postmortem",
    )
    # the filed text is readable by the id the incident records, as in the embedded build
    copy = frank.get(f"/api/postmortems/{final['postmortem']['id']}")
    assert copy.status_code == 200, copy.text
    assert f"Filed in Linear: {issue['url']}" in copy.text
    assert POSTMORTEM_TEXT.strip() in copy.text
    calls = len(vendors.llm.prompts)
    again = frank.get(f"/api/incidents/{iid}/postmortem-draft").json()
    assert again["source"] == "filed"
    assert again["markdown"] == copy.text
    assert len(vendors.llm.prompts) == calls  # the filed one, not a new draft
    wait_for(lambda: slack.channels[channel.id].is_archived, "the war room archived")

    # --- the final public text goes through the gate too -----------------------------------------
    resolved_draft = next(d for d in final["drafts"] if d["kind"] == "resolved")
    assert resolved_draft["status"] == "draft"
    assert resolved_draft["body"] == RESOLVED_TEXT
    assert page_incident["status"] != "resolved"
    done = frank.post(
        f"/api/incidents/{iid}/drafts/{resolved_draft['id']}/approve",
        json={"version": resolved_draft["version"]},
    )
    assert done.status_code == 200, done.text
    [page_incident] = statuspage.incidents.values()
    assert page_incident["status"] == "resolved"
    assert statuspage.bodies(page_incident["id"]) == [
        INVESTIGATING_TEXT,
        FOLLOW_UP_TEXT,
        RESOLVED_TEXT,
    ]
    assert statuspage.component_status("Checkout") == "operational"

    # --- the model never saw an e-mail address ----------------------------------------------------
    for prompt in vendors.llm.prompts:
        found = EMAIL.findall(json.dumps(prompt.body))
        assert found == [], (provider, found)


def card_of(message: Any, body: str) -> bool:
    """The card of the draft saying `body`."""
    return approves(message) and body in html.unescape(" ".join(texts(message.blocks)))


def approves(message: Any) -> bool:
    """A draft's card: a message with an Approve button."""
    return any(
        element.get("action_id") == "draft.approve"
        for block in message.blocks or []
        for element in block.get("elements", [])
    )


def click(
    server: ServeProcess,
    slack: FakeSlack,
    channel_id: str,
    action_id: str,
    *,
    message_ts: str | None = None,
) -> None:
    """Frank clicks a button in the room: Slack posts the signed interaction to `serve`."""

    async def deliver() -> Any:
        payload = slack.block_action_payload(
            user_id=FRANK["slack"],
            channel_id=channel_id,
            action_id=action_id,
            message_ts=message_ts,
        )
        return await slack.deliver_http(
            server.base + "/slack/interactivity", "interactive", payload, SIGNING_SECRET
        )

    delivery = slack.run(deliver())
    assert delivery.status == 200, delivery.text
