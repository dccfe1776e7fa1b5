"""Each LLM integration as the composition root builds it (integrations.FACTORIES): enabled by its
settings, drafting through its vendor's fake, falling back to the built-in drafter, and passing
the LLM port's conformance suite with the model answering (and with a model that leaks)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from incident_response import integrations
from incident_response.adapters.embedded.drafter import BuiltinDrafter
from incident_response.adapters.embedded.roster import Roster
from incident_response.adapters.llm.factory import ModelWithFallback
from incident_response.config import load_settings
from incident_response.http import OutboundHttp
from tests.contract.incident_samples import LABELS
from tests.contract.llm_suite import LLMContract, postmortem_context, status_context
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.llm_script import STATUS_TEXT, Prompt, plain_script
from tests.fakes.openai import FakeOpenAI
from tests.support.clock import ManualClock

BEDROCK_MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"
BEDROCK_CLASSIFIER = "us.anthropic.claude-haiku-4-5-20251001-v1:0"


@dataclass
class Provider:
    name: str
    fake: Any  # FakeAnthropic | FakeOpenAI | FakeBedrock
    environ: dict[str, str]
    model: str  # the drafting model the settings choose
    classifier_model: str  # the classifier the settings choose by default
    classifier_variable: str


@pytest.fixture(params=["anthropic", "openai-compatible", "bedrock"])
async def provider(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Provider]:
    name = request.param
    if name == "anthropic":
        async with FakeAnthropic(api_key="sk-ant-k") as anthropic:
            yield Provider(
                name,
                anthropic,
                {"ANTHROPIC_API_KEY": "sk-ant-k", "ANTHROPIC_BASE_URL": anthropic.url},
                "claude-sonnet-4-6",
                "claude-haiku-4-5",
                "ANTHROPIC_CLASSIFIER_MODEL",
            )
    elif name == "openai-compatible":
        async with FakeOpenAI(api_key=None) as ollama:
            yield Provider(
                name,
                ollama,
                {"OPENAI_MODEL": "llama3.1:8b", "OPENAI_BASE_URL": ollama.base_url},
                "llama3.1:8b",
                "llama3.1:8b",
                "OPENAI_CLASSIFIER_MODEL",
            )
    else:
        async with FakeBedrock() as bedrock:
            for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
                monkeypatch.delenv(variable, raising=False)
            monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
            monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
            monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
            monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
            monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
            monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", bedrock.url)
            yield Provider(
                name,
                bedrock,
                {"BEDROCK_MODEL_ID": BEDROCK_MODEL, "AWS_REGION": "us-east-1"},
                BEDROCK_MODEL,
                BEDROCK_MODEL,
                "BEDROCK_CLASSIFIER_MODEL_ID",
            )


@pytest.fixture
def build(provider: Provider, outbound: OutboundHttp, clock: ManualClock, tmp_path: Path) -> Any:
    async def built(**extra: str) -> integrations.Contribution:
        settings = load_settings({**provider.environ, **extra})
        roster = Roster(tmp_path / "roster.yaml")
        wiring = integrations.Wiring(
            settings=settings,
            http=outbound,
            clock=clock,
            directory=roster,
            oncall=roster,
            drafter=BuiltinDrafter(clock=clock),
        )
        contributions = await integrations.contributions(wiring)
        assert list(contributions) == [provider.name]
        return contributions[provider.name]

    return built


async def test_the_enabled_provider_drafts_through_its_model(
    provider: Provider, build: Any
) -> None:
    llm = (await build()).llm
    assert isinstance(llm, ModelWithFallback)

    assert await llm.draft_status_update(status_context()) == STATUS_TEXT

    assert llm.last_drafted_by == "primary"
    assert [p.model for p in provider.fake.prompts] == [provider.model]
    assert provider.fake.violations == []


async def test_classification_asks_the_classifier_model(provider: Provider, build: Any) -> None:
    provider.fake.script = lambda prompt: "yes"
    llm = (await build()).llm

    assert await llm.is_status_update("Told support and the status page: checkout is degraded.")
    assert provider.fake.prompts[-1].model == provider.classifier_model


async def test_the_classifier_model_setting_is_used(provider: Provider, build: Any) -> None:
    classifier = {
        "anthropic": "claude-opus-4-1",
        "openai-compatible": "gpt-4.1-mini",
        "bedrock": BEDROCK_CLASSIFIER,
    }[provider.name]
    llm = (await build(**{provider.classifier_variable: classifier})).llm

    assert not await llm.is_status_update("Looking at the pod logs now.")
    assert provider.fake.prompts[-1].model == classifier


async def test_a_vendor_outage_falls_back_to_the_built_in_drafter(
    provider: Provider, build: Any, clock: ManualClock
) -> None:
    provider.fake.fail_next(4, status=503)
    llm = (await build()).llm

    text = await llm.draft_status_update(status_context())

    assert text == await BuiltinDrafter(clock=clock).draft_status_update(status_context())
    assert llm.last_drafted_by == "fallback"


async def test_a_model_slower_than_the_llm_timeout_falls_back(
    provider: Provider, build: Any, clock: ManualClock
) -> None:
    provider.fake.latency = 1.0
    llm = (await build(INCIDENT_RESPONSE_LLM_TIMEOUT_SECONDS="0.2")).llm

    text = await llm.draft_postmortem(postmortem_context())

    assert text == await BuiltinDrafter(clock=clock).draft_postmortem(postmortem_context())
    assert llm.last_drafted_by == "fallback"


async def test_probe_checks_the_configured_model(provider: Provider, build: Any) -> None:
    found = await (await build()).llm.probe()

    assert provider.model in found


async def test_shutdown_closes_what_the_integration_opened(provider: Provider, build: Any) -> None:
    contribution = await build()
    for close in contribution.closers:
        await close()
    assert len(contribution.closers) == (1 if provider.name == "bedrock" else 0)


def _leaky(prompt: Prompt) -> str:
    """A model that repeats internal details it should not (and, for a postmortem, invents)."""
    return (
        f"Alice (alice@example.com) restarted {LABELS['pod']} on {LABELS['instance']}. "
        + plain_script(prompt)
    )


class TestEachModelAgainstTheLLMSuite(LLMContract):
    """The port's suite with the model answering: every draft is the model's."""

    @pytest.fixture
    async def llm(self, provider: Provider, build: Any) -> AsyncIterator[ModelWithFallback]:
        drafter = (await build()).llm
        yield drafter
        # "" when the test drafted nothing
        assert drafter.last_drafted_by in ("", "primary")
        assert bool(provider.fake.prompts) == (drafter.last_drafted_by == "primary")


class TestEachLeakyModelAgainstTheLLMSuite(LLMContract):
    """The port's suite with a model that names people and internal hosts: the checks refuse its
    drafts and the built-in drafter's are offered instead."""

    @pytest.fixture
    async def llm(self, provider: Provider, build: Any) -> AsyncIterator[ModelWithFallback]:
        provider.fake.script = _leaky
        drafter = (await build()).llm
        yield drafter
        assert drafter.last_drafted_by in ("", "fallback")
        assert bool(provider.fake.prompts) == (drafter.last_drafted_by == "fallback")
