"""The LLM integrations' factories (integrations.FACTORIES): one per provider.

Each builds its vendor client (a Completion) through the outbound HTTP policy, puts the
ModelDrafter over it (prompts, personal data stripped, checks) and the FallbackDrafter around
that, with the embedded built-in drafter as the fallback: the port the services get never fails
and never waits longer than INCIDENT_RESPONSE_LLM_TIMEOUT_SECONDS.

An LLM call is slow, so its per-attempt timeout is the LLM timeout itself, with two attempts (a
quick 5xx or an overloaded answer is worth one more try; a slow one runs into the fallback's
deadline first). Completions are marked idempotent: a repeated completion publishes nothing and
changes nothing at the vendor, it only costs tokens.
"""

from __future__ import annotations

import asyncio

from incident_response.adapters.llm import anthropic, bedrock, openai_compatible
from incident_response.adapters.llm.completion import Completion
from incident_response.adapters.llm.drafter import ModelDrafter
from incident_response.adapters.llm.fallback import FallbackDrafter
from incident_response.config import Settings
from incident_response.http import CallPolicy, VendorError
from incident_response.integrations import Contribution, Wiring
from incident_response.ports import LLM

ANTHROPIC_MODEL = "claude-sonnet-4-6"
ANTHROPIC_CLASSIFIER_MODEL = "claude-haiku-4-5"


class ModelWithFallback(FallbackDrafter):
    """The LLM port as a hosted model provides it: the model's checked draft in time, else the
    built-in drafter's. `probe()` checks the model endpoint (`config check --probe`)."""

    def __init__(
        self,
        completion: Completion,
        *,
        model: str,
        classifier_model: str,
        fallback: LLM,
        wiring: Wiring,
    ) -> None:
        primary = ModelDrafter(
            completion, model=model, classifier_model=classifier_model, clock=wiring.clock
        )
        super().__init__(
            primary,
            fallback,
            timeout_seconds=wiring.settings.incident_response_llm_timeout_seconds,
        )
        self.completion = completion
        self.model = model
        self.classifier_model = classifier_model

    async def probe(self) -> str:
        probe = getattr(self.completion, "probe", None)
        if probe is None:
            raise VendorError(self.completion.name, "probe", "this client cannot be probed")
        found: str = await probe()
        return found


def _setting(settings: Settings, variable: str) -> str:
    """A variable the integration is enabled by (so it is set when its factory runs)."""
    value = settings.value_of(variable)
    if value is None:
        raise ValueError(f"{variable} is not set")
    return value


def _policy(settings: Settings) -> CallPolicy:
    return CallPolicy(timeout=settings.incident_response_llm_timeout_seconds, attempts=2)


def _contribution(
    wiring: Wiring, completion: Completion, *, model: str, classifier_model: str
) -> Contribution:
    return Contribution(
        llm=ModelWithFallback(
            completion,
            model=model,
            classifier_model=classifier_model,
            fallback=wiring.drafter,
            wiring=wiring,
        )
    )


async def build_anthropic(wiring: Wiring) -> Contribution:
    settings = wiring.settings
    model = settings.anthropic_model or ANTHROPIC_MODEL
    vendor = wiring.http.vendor(
        "anthropic",
        base_url=settings.vendor_url("ANTHROPIC_BASE_URL"),
        headers=anthropic.headers(_setting(settings, "ANTHROPIC_API_KEY")),
        policy=_policy(settings),
    )
    return _contribution(
        wiring,
        anthropic.AnthropicCompletion(vendor, probe_model=model),
        model=model,
        classifier_model=settings.anthropic_classifier_model or ANTHROPIC_CLASSIFIER_MODEL,
    )


async def build_openai_compatible(wiring: Wiring) -> Contribution:
    settings = wiring.settings
    model = _setting(settings, "OPENAI_MODEL")
    vendor = wiring.http.vendor(
        "openai-compatible",
        base_url=settings.vendor_url("OPENAI_BASE_URL"),
        headers=openai_compatible.headers(settings.value_of("OPENAI_API_KEY")),
        policy=_policy(settings),
    )
    return _contribution(
        wiring,
        openai_compatible.OpenAICompatibleCompletion(vendor, probe_model=model),
        model=model,
        classifier_model=settings.openai_classifier_model or model,
    )


async def build_bedrock(wiring: Wiring) -> Contribution:
    settings = wiring.settings
    model = _setting(settings, "BEDROCK_MODEL_ID")
    region = _setting(settings, "AWS_REGION")
    timeout = settings.incident_response_llm_timeout_seconds
    runtime = await asyncio.to_thread(
        bedrock.runtime_client,
        region=region,
        connect_timeout=settings.incident_response_http_call_timeout_seconds,
        read_timeout=timeout,
    )
    vendor = wiring.http.vendor(
        "bedrock", base_url=f"bedrock-runtime.{region}", policy=_policy(settings)
    )
    contribution = _contribution(
        wiring,
        bedrock.BedrockCompletion(vendor, runtime, deadline=timeout, probe_model=model),
        model=model,
        classifier_model=settings.bedrock_classifier_model_id or model,
    )

    async def close() -> None:
        await asyncio.to_thread(runtime.close)

    contribution.closers.append(close)
    return contribution
