"""AnthropicCompletion against a fake of the Messages API that refuses off-contract requests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from incident_response.adapters.llm.anthropic import AnthropicCompletion, headers
from incident_response.adapters.llm.completion import Completion, PromptRequest
from incident_response.http import BreakerPolicy, CallPolicy, CircuitOpen, OutboundHttp, VendorError
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.llm_script import Reply
from tests.integration.llm.conftest import RecordedSleeps

KEY = "sk-ant-test-key"
MODEL = "claude-sonnet-4-6"
REQUEST = PromptRequest(
    task="status_update",
    version="status_update@1",
    system="You write customer-facing status updates. Be brief and factual.",
    user="Service: checkout. Symptom: elevated error rate. Public status: investigating.",
    max_tokens=400,
    temperature=0.2,
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic(api_key=KEY) as server:
        yield server


def client(
    outbound: OutboundHttp,
    fake: FakeAnthropic,
    *,
    key: str = KEY,
    timeout: float = 5.0,
    attempts: int = 2,
    failures: int = 5,
    probe_model: str | None = None,
) -> AnthropicCompletion:
    vendor = outbound.vendor(
        "anthropic",
        base_url=fake.url,
        headers=headers(key),
        policy=CallPolicy(timeout=timeout, attempts=attempts),
        breaker=BreakerPolicy(failures=failures),
    )
    return AnthropicCompletion(vendor, probe_model=probe_model)


async def test_the_request_follows_the_messages_contract_and_the_text_comes_back(
    outbound: OutboundHttp, fake: FakeAnthropic
) -> None:
    fake.script = lambda prompt: f"Answer for {prompt.model}."
    completion = client(outbound, fake)
    assert isinstance(completion, Completion)

    text = await completion.complete(REQUEST, model=MODEL)

    assert text == f"Answer for {MODEL}."
    assert fake.violations == []
    sent = fake.calls[-1]
    assert sent.headers["x-api-key"] == KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.body["max_tokens"] == 400
    assert sent.body["messages"] == [{"role": "user", "content": REQUEST.user}]
    assert fake.prompts[-1].system == REQUEST.system


async def test_the_system_prompt_is_marked_for_caching_and_the_second_call_reads_the_cache(
    outbound: OutboundHttp, fake: FakeAnthropic
) -> None:
    completion = client(outbound, fake)
    await completion.complete(REQUEST, model=MODEL)
    await completion.complete(
        PromptRequest(
            task="status_update",
            version="status_update@1",
            system=REQUEST.system,
            user="other facts",
        ),
        model=MODEL,
    )

    assert fake.calls[0].body["system"] == [
        {"type": "text", "text": REQUEST.system, "cache_control": {"type": "ephemeral"}}
    ]
    assert fake.usage[0]["cache_creation_input_tokens"] > 0
    assert fake.usage[1]["cache_read_input_tokens"] > 0


async def test_a_429_waits_the_retry_after_anthropic_asked_for(
    outbound: OutboundHttp, fake: FakeAnthropic, sleeps: RecordedSleeps
) -> None:
    fake.rate_limit_next(retry_after=7)

    text = await client(outbound, fake).complete(REQUEST, model=MODEL)

    assert text
    assert sleeps == [7]
    assert [c.status for c in fake.calls] == [429, 200]


async def test_an_overloaded_529_is_tried_again(
    outbound: OutboundHttp, fake: FakeAnthropic
) -> None:
    fake.overload_next()

    text = await client(outbound, fake).complete(REQUEST, model=MODEL)

    assert text
    assert [c.status for c in fake.calls] == [529, 200]


async def test_overloaded_every_time_is_a_transient_failure(
    outbound: OutboundHttp, fake: FakeAnthropic
) -> None:
    fake.overload_next(5)

    with pytest.raises(VendorError) as failed:
        await client(outbound, fake, attempts=2).complete(REQUEST, model=MODEL)

    assert failed.value.transient
    assert failed.value.status == 529
    assert "Overloaded" in str(failed.value)
    assert len(fake.calls) == 2


async def test_a_server_error_is_tried_again(outbound: OutboundHttp, fake: FakeAnthropic) -> None:
    fake.fail_next(
        status=500, body={"type": "error", "error": {"type": "api_error", "message": "boom"}}
    )

    assert await client(outbound, fake).complete(REQUEST, model=MODEL)
    assert [c.status for c in fake.calls] == [500, 200]


async def test_no_answer_within_the_timeout_is_a_transient_failure(
    outbound: OutboundHttp, fake: FakeAnthropic
) -> None:
    fake.stall_next(seconds=0.5)

    with pytest.raises(VendorError) as failed:
        await client(outbound, fake, timeout=0.05, attempts=1).complete(REQUEST, model=MODEL)

    assert failed.value.transient
    assert "no answer within" in str(failed.value)


async def test_after_repeated_failures_the_circuit_opens_and_anthropic_is_not_called(
    outbound: OutboundHttp, fake: FakeAnthropic
) -> None:
    completion = client(outbound, fake, attempts=1, failures=2)
    fake.fail_next(2, status=500)
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
        (Reply("   "), "empty answer"),
        (Reply("We are investi", stop="max_tokens"), "cut off at max_tokens"),
        (Reply("I can't help with that.", stop="refusal"), "refused"),
    ],
)
async def test_an_answer_that_is_not_a_whole_text_is_a_failure(
    outbound: OutboundHttp, fake: FakeAnthropic, reply: Reply, reason: str
) -> None:
    fake.script = lambda prompt: reply

    with pytest.raises(VendorError, match=reason):
        await client(outbound, fake).complete(REQUEST, model=MODEL)


async def test_a_wrong_key_is_a_refusal_that_is_not_retried(
    outbound: OutboundHttp, fake: FakeAnthropic
) -> None:
    with pytest.raises(VendorError) as failed:
        await client(outbound, fake, key="sk-ant-wrong").complete(REQUEST, model=MODEL)

    assert failed.value.status == 401
    assert not failed.value.transient
    assert "invalid x-api-key" in str(failed.value)
    assert len(fake.calls) == 1


async def test_an_unknown_model_says_so(outbound: OutboundHttp, fake: FakeAnthropic) -> None:
    with pytest.raises(VendorError, match="claude-nonexistent"):
        await client(outbound, fake).complete(REQUEST, model="claude-nonexistent")


async def test_probe_names_the_configured_model(
    outbound: OutboundHttp, fake: FakeAnthropic
) -> None:
    assert await client(outbound, fake, probe_model=MODEL).probe() == f"model {MODEL} available"
    assert fake.calls[-1].path == f"/v1/models/{MODEL}"


async def test_probe_of_a_model_the_key_cannot_use_points_at_the_setting(
    outbound: OutboundHttp, fake: FakeAnthropic
) -> None:
    with pytest.raises(VendorError, match="ANTHROPIC_MODEL"):
        await client(outbound, fake, probe_model="claude-nonexistent").probe()


async def test_probe_with_a_wrong_key_fails(outbound: OutboundHttp, fake: FakeAnthropic) -> None:
    with pytest.raises(VendorError, match="401"):
        await client(outbound, fake, key="sk-ant-wrong", probe_model=MODEL).probe()


async def test_the_fake_refuses_a_request_that_breaks_the_contract(
    outbound: OutboundHttp, fake: FakeAnthropic
) -> None:
    vendor = outbound.vendor("anthropic-drift", base_url=fake.url, headers={"x-api-key": KEY})
    with pytest.raises(VendorError, match="anthropic-version"):
        await vendor.request("POST", "/v1/messages", json={"model": MODEL})
    versioned = outbound.vendor("anthropic-drift", base_url=fake.url, headers=headers(KEY))
    with pytest.raises(VendorError, match="max_tokens"):
        await versioned.request(
            "POST",
            "/v1/messages",
            json={"model": MODEL, "messages": [{"role": "assistant", "content": "hi"}]},
        )
    assert len(fake.violations) == 2
    assert "starting with user" in fake.violations[-1]
