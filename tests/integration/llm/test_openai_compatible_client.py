"""OpenAICompatibleCompletion against a fake Chat Completions API that refuses off-contract
requests (with a key, as OpenAI; without one, as Ollama or vLLM)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from incident_response.adapters.llm.completion import Completion, PromptRequest
from incident_response.adapters.llm.openai_compatible import (
    OpenAICompatibleCompletion,
    TokenField,
    headers,
    token_field_for,
)
from incident_response.http import BreakerPolicy, CallPolicy, CircuitOpen, OutboundHttp, VendorError
from tests.fakes.llm_script import Reply
from tests.fakes.openai import FakeOpenAI
from tests.integration.llm.conftest import RecordedSleeps

KEY = "sk-test-openai"
MODEL = "gpt-4.1-mini"
REQUEST = PromptRequest(
    task="status_update",
    version="status_update@1",
    system="You write customer-facing status updates. Be brief and factual.",
    user="Service: checkout. Symptom: elevated error rate. Public status: investigating.",
    max_tokens=300,
    temperature=0.2,
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(api_key=KEY) as server:
        yield server


def client(
    outbound: OutboundHttp,
    fake: FakeOpenAI,
    *,
    key: str | None = KEY,
    timeout: float = 5.0,
    attempts: int = 2,
    failures: int = 5,
    token_field: TokenField | None = None,
    probe_model: str | None = None,
) -> OpenAICompatibleCompletion:
    vendor = outbound.vendor(
        "openai-compatible",
        base_url=fake.base_url,
        headers=headers(key),
        policy=CallPolicy(timeout=timeout, attempts=attempts),
        breaker=BreakerPolicy(failures=failures),
    )
    return OpenAICompatibleCompletion(vendor, token_field=token_field, probe_model=probe_model)


async def test_the_request_follows_the_chat_completions_contract_and_the_text_comes_back(
    outbound: OutboundHttp, fake: FakeOpenAI
) -> None:
    fake.script = lambda prompt: f"  Answer from {prompt.model}.\n"
    completion = client(outbound, fake)
    assert isinstance(completion, Completion)

    assert await completion.complete(REQUEST, model=MODEL) == f"Answer from {MODEL}."

    assert fake.violations == []
    sent = fake.calls[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert sent.body["messages"] == [
        {"role": "system", "content": REQUEST.system},
        {"role": "user", "content": REQUEST.user},
    ]
    assert sent.body["max_tokens"] == 300
    assert sent.body["temperature"] == 0.2


async def test_a_self_hosted_endpoint_gets_no_authorization_header(
    outbound: OutboundHttp,
) -> None:
    async with FakeOpenAI(api_key=None) as ollama:
        text = await client(outbound, ollama, key=None).complete(REQUEST, model="llama3.1:8b")

    assert text
    assert "Authorization" not in ollama.calls[-1].headers
    assert ollama.violations == []


def test_openais_own_api_gets_max_completion_tokens_and_others_max_tokens() -> None:
    assert token_field_for("https://api.openai.com/v1") == "max_completion_tokens"
    assert token_field_for("http://localhost:11434/v1") == "max_tokens"
    assert token_field_for("http://vllm.internal:8000/v1") == "max_tokens"


async def test_the_stable_system_prompt_comes_first_so_the_prefix_cache_hits(
    outbound: OutboundHttp, fake: FakeOpenAI
) -> None:
    completion = client(outbound, fake)
    await completion.complete(REQUEST, model=MODEL)
    await completion.complete(
        PromptRequest(
            task="status_update", version="status_update@1", system=REQUEST.system, user="other"
        ),
        model=MODEL,
    )

    assert fake.usage[0]["prompt_tokens_details"]["cached_tokens"] == 0
    assert fake.usage[1]["prompt_tokens_details"]["cached_tokens"] > 0


async def test_a_model_that_refuses_max_tokens_and_temperature_still_answers(
    outbound: OutboundHttp, fake: FakeOpenAI
) -> None:
    completion = client(outbound, fake, token_field="max_tokens")

    assert await completion.complete(REQUEST, model="o4-mini")
    assert await completion.complete(REQUEST, model="o4-mini")

    last = fake.calls[-1].body
    assert last["max_completion_tokens"] == 300
    assert "max_tokens" not in last
    assert "temperature" not in last
    # learnt once: the second draft went straight through
    assert [c.status for c in fake.calls] == [400, 400, 200, 200]


async def test_a_429_waits_the_retry_after_asked_for(
    outbound: OutboundHttp, fake: FakeOpenAI, sleeps: RecordedSleeps
) -> None:
    fake.rate_limit_next(retry_after=3)

    assert await client(outbound, fake).complete(REQUEST, model=MODEL)
    assert sleeps == [3]
    assert [c.status for c in fake.calls] == [429, 200]


async def test_a_server_error_is_tried_again(outbound: OutboundHttp, fake: FakeOpenAI) -> None:
    fake.fail_next(status=503)

    assert await client(outbound, fake).complete(REQUEST, model=MODEL)
    assert [c.status for c in fake.calls] == [503, 200]


async def test_no_answer_within_the_timeout_is_a_transient_failure(
    outbound: OutboundHttp, fake: FakeOpenAI
) -> None:
    fake.stall_next(seconds=0.5)

    with pytest.raises(VendorError) as failed:
        await client(outbound, fake, timeout=0.05, attempts=1).complete(REQUEST, model=MODEL)
    assert failed.value.transient


async def test_after_repeated_failures_the_circuit_opens(
    outbound: OutboundHttp, fake: FakeOpenAI
) -> None:
    completion = client(outbound, fake, attempts=1, failures=2)
    fake.fail_next(2, status=502)
    for _ in range(2):
        with pytest.raises(VendorError):
            await completion.complete(REQUEST, model=MODEL)
    calls = len(fake.calls)

    with pytest.raises(CircuitOpen):
        await completion.complete(REQUEST, model=MODEL)
    assert len(fake.calls) == calls


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(""), "empty answer"),
        (Reply(" \n "), "empty answer"),
        (Reply("We are inves", stop="max_tokens"), "cut off"),
        (Reply("I can't help with that.", stop="refusal"), "refused"),
    ],
)
async def test_an_answer_that_is_not_a_whole_text_is_a_failure(
    outbound: OutboundHttp, fake: FakeOpenAI, reply: Reply, reason: str
) -> None:
    fake.script = lambda prompt: reply

    with pytest.raises(VendorError, match=reason):
        await client(outbound, fake).complete(REQUEST, model=MODEL)


async def test_a_wrong_key_is_a_refusal_that_is_not_retried(
    outbound: OutboundHttp, fake: FakeOpenAI
) -> None:
    with pytest.raises(VendorError, match="Incorrect API key") as failed:
        await client(outbound, fake, key="sk-wrong").complete(REQUEST, model=MODEL)
    assert not failed.value.transient
    assert len(fake.calls) == 1


async def test_a_base_url_without_the_version_path_says_so(
    outbound: OutboundHttp, fake: FakeOpenAI
) -> None:
    vendor = outbound.vendor("openai-compatible", base_url=fake.url, headers=headers(KEY))
    completion = OpenAICompatibleCompletion(vendor, probe_model=MODEL)

    with pytest.raises(VendorError, match="OPENAI_BASE_URL includes the version path"):
        await completion.complete(REQUEST, model=MODEL)
    with pytest.raises(VendorError, match="OPENAI_BASE_URL includes the version path"):
        await completion.probe()


async def test_a_model_the_endpoint_does_not_serve_names_the_setting(
    outbound: OutboundHttp, fake: FakeOpenAI
) -> None:
    with pytest.raises(VendorError, match="OPENAI_MODEL") as failed:
        await client(outbound, fake).complete(REQUEST, model="mistral:7b")
    assert not failed.value.transient


async def test_probe_finds_the_configured_model(outbound: OutboundHttp, fake: FakeOpenAI) -> None:
    assert await client(outbound, fake, probe_model=MODEL).probe() == f"model {MODEL} available"
    assert fake.calls[-1].path == "/v1/models"


async def test_probe_of_a_model_not_served_points_at_the_setting(
    outbound: OutboundHttp, fake: FakeOpenAI
) -> None:
    with pytest.raises(VendorError, match="OPENAI_MODEL"):
        await client(outbound, fake, probe_model="mistral:7b").probe()


async def test_the_fake_refuses_a_request_that_breaks_the_contract(
    outbound: OutboundHttp, fake: FakeOpenAI
) -> None:
    vendor = outbound.vendor("openai-drift", base_url=fake.base_url, headers=headers(KEY))
    with pytest.raises(VendorError, match="Unrecognized request argument supplied: prompt"):
        await vendor.request(
            "POST", "/chat/completions", json={"model": MODEL, "prompt": "hi", "messages": []}
        )
    with pytest.raises(VendorError, match="cannot both be set"):
        await vendor.request(
            "POST",
            "/chat/completions",
            json={
                "model": MODEL,
                "messages": [{"role": "user", "content": "hi"}],
                "max_tokens": 5,
                "max_completion_tokens": 5,
            },
        )
    assert len(fake.violations) == 2
