"""BedrockCompletion (boto3's bedrock-runtime client, unchanged) against a fake Converse API
that validates requests against AWS's service model. The endpoint comes from the standard
AWS_ENDPOINT_URL_BEDROCK_RUNTIME variable, read by botocore itself.

Bedrock sends no Retry-After: botocore's standard retry mode backs off on throttling itself
(one retry here), so the "429 honoured" case is a ThrottlingException retried by botocore."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from incident_response.adapters.llm.bedrock import BedrockCompletion, runtime_client
from incident_response.adapters.llm.completion import Completion, PromptRequest
from incident_response.http import BreakerPolicy, CallPolicy, CircuitOpen, OutboundHttp, VendorError
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.llm_script import Reply

MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"
PROFILE = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
LLAMA = "meta.llama3-70b-instruct-v1:0"
REQUEST = PromptRequest(
    task="status_update",
    version="status_update@1",
    system="You write customer-facing status updates. Be brief and factual.",
    user="Service: checkout. Symptom: elevated error rate. Public status: investigating.",
    max_tokens=300,
    temperature=0.2,
)


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeBedrock]:
    async with FakeBedrock() as server:
        for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN"):
            monkeypatch.delenv(variable, raising=False)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.url)
        yield server


async def client(
    outbound: OutboundHttp,
    *,
    deadline: float = 10.0,
    read_timeout: float = 10.0,
    failures: int = 5,
    probe_model: str | None = None,
) -> BedrockCompletion:
    runtime = await asyncio.to_thread(
        runtime_client, region="us-east-1", connect_timeout=2, read_timeout=read_timeout
    )
    vendor = outbound.vendor(
        "bedrock",
        base_url="bedrock-runtime",
        policy=CallPolicy(timeout=deadline, attempts=1),
        breaker=BreakerPolicy(failures=failures),
    )
    return BedrockCompletion(vendor, runtime, deadline=deadline, probe_model=probe_model)


async def test_the_converse_request_follows_the_service_model_and_the_text_comes_back(
    outbound: OutboundHttp, fake: FakeBedrock
) -> None:
    fake.script = lambda prompt: f"Answer from {prompt.model}."
    completion = await client(outbound)
    assert isinstance(completion, Completion)

    assert await completion.complete(REQUEST, model=MODEL) == f"Answer from {MODEL}."

    assert fake.violations == []
    sent = fake.calls[-1]
    assert (
        sent.path == f"/model/{MODEL}/converse"
    )  # reached through AWS_ENDPOINT_URL_BEDROCK_RUNTIME
    assert sent.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert sent.body["messages"] == [{"role": "user", "content": [{"text": REQUEST.user}]}]
    assert sent.body["inferenceConfig"] == {"maxTokens": 300, "temperature": 0.2}


async def test_the_endpoint_is_the_standard_aws_endpoint_url_bedrock_runtime(
    outbound: OutboundHttp, fake: FakeBedrock
) -> None:
    completion = await client(outbound)
    await completion.complete(REQUEST, model=MODEL)

    assert completion.endpoint == fake.url
    assert len(fake.calls) == 1


async def test_the_system_prompt_is_followed_by_a_cache_point_and_the_second_call_reads_it(
    outbound: OutboundHttp, fake: FakeBedrock
) -> None:
    completion = await client(outbound)
    await completion.complete(REQUEST, model=PROFILE)
    await completion.complete(
        PromptRequest(
            task="status_update", version="status_update@1", system=REQUEST.system, user="other"
        ),
        model=PROFILE,
    )

    assert fake.calls[0].body["system"] == [
        {"text": REQUEST.system},
        {"cachePoint": {"type": "default"}},
    ]
    assert fake.usage[0]["cacheWriteInputTokens"] > 0
    assert fake.usage[1]["cacheReadInputTokens"] > 0


async def test_a_model_without_prompt_caching_still_answers_and_is_not_sent_cache_points_again(
    outbound: OutboundHttp, fake: FakeBedrock
) -> None:
    completion = await client(outbound)

    assert await completion.complete(REQUEST, model=LLAMA)
    assert await completion.complete(REQUEST, model=LLAMA)

    assert [c.status for c in fake.calls] == [400, 200, 200]
    assert fake.calls[-1].body["system"] == [{"text": REQUEST.system}]


async def test_a_throttled_call_is_retried_by_botocore(
    outbound: OutboundHttp, fake: FakeBedrock
) -> None:
    fake.error_next("ThrottlingException")

    assert await (await client(outbound)).complete(REQUEST, model=MODEL)
    assert [c.status for c in fake.calls] == [429, 200]


@pytest.mark.parametrize(
    ("code", "transient"),
    [
        ("ThrottlingException", True),
        ("ServiceUnavailableException", True),
        ("ModelTimeoutException", True),
        ("ValidationException", False),
        ("AccessDeniedException", False),
    ],
)
async def test_bedrock_errors_say_whether_trying_later_could_help(
    outbound: OutboundHttp, fake: FakeBedrock, code: str, transient: bool
) -> None:
    fake.error_next(code, 2)

    with pytest.raises(VendorError, match=code) as failed:
        await (await client(outbound)).complete(REQUEST, model=MODEL)
    assert failed.value.transient is transient


async def test_access_denied_says_what_the_role_needs(
    outbound: OutboundHttp, fake: FakeBedrock
) -> None:
    fake.error_next("AccessDeniedException", message="You don't have access to the model.")

    with pytest.raises(VendorError, match="bedrock:InvokeModel"):
        await (await client(outbound)).complete(REQUEST, model=MODEL)


async def test_an_unknown_model_says_which_settings_to_check(
    outbound: OutboundHttp, fake: FakeBedrock
) -> None:
    with pytest.raises(VendorError, match="BEDROCK_MODEL_ID"):
        await (await client(outbound)).complete(REQUEST, model="amazon.nonexistent-v1:0")


async def test_no_answer_within_the_read_timeout_is_a_transient_failure(
    outbound: OutboundHttp, fake: FakeBedrock
) -> None:
    fake.stall_next(2, seconds=0.4)

    with pytest.raises(VendorError) as failed:
        await (await client(outbound, read_timeout=0.1)).complete(REQUEST, model=MODEL)
    assert failed.value.transient


async def test_no_answer_within_the_deadline_is_a_transient_failure(
    outbound: OutboundHttp, fake: FakeBedrock
) -> None:
    fake.stall_next(seconds=0.5)

    with pytest.raises(VendorError, match="no answer within") as failed:
        await (await client(outbound, deadline=0.1)).complete(REQUEST, model=MODEL)
    assert failed.value.transient


async def test_after_repeated_failures_the_circuit_opens_and_bedrock_is_not_called(
    outbound: OutboundHttp, fake: FakeBedrock
) -> None:
    completion = await client(outbound, failures=2)
    fake.error_next("ModelTimeoutException", 2)
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
        (Reply("  "), "empty answer"),
        (Reply("We are inv", stop="max_tokens"), "cut off"),
        (Reply("No.", stop="refusal"), "filtered"),
    ],
)
async def test_an_answer_that_is_not_a_whole_text_is_a_failure(
    outbound: OutboundHttp, fake: FakeBedrock, reply: Reply, reason: str
) -> None:
    fake.script = lambda prompt: reply

    with pytest.raises(VendorError, match=reason):
        await (await client(outbound)).complete(REQUEST, model=MODEL)


async def test_probe_asks_the_model_for_one_token(
    outbound: OutboundHttp, fake: FakeBedrock
) -> None:
    found = await (await client(outbound, probe_model=MODEL)).probe()

    assert found.startswith(f"model {MODEL} answered")
    assert fake.calls[-1].body["inferenceConfig"] == {"maxTokens": 1}
    assert fake.violations == []


async def test_probe_without_access_fails_clearly(
    outbound: OutboundHttp, fake: FakeBedrock
) -> None:
    fake.error_next("AccessDeniedException")

    with pytest.raises(VendorError, match="AccessDeniedException"):
        await (await client(outbound, probe_model=MODEL)).probe()


async def test_the_fake_refuses_a_body_that_breaks_the_service_model(
    outbound: OutboundHttp, fake: FakeBedrock
) -> None:
    # an unsigned request, then a signed one whose body breaks the Converse input shape
    drift = outbound.vendor("bedrock-drift", base_url=fake.url)
    with pytest.raises(VendorError, match="403"):
        await drift.request("POST", f"/model/{MODEL}/converse", json={"messages": []})
    signed = outbound.vendor(
        "bedrock-drift",
        base_url=fake.url,
        headers={
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1/bedrock/"
            "aws4_request, SignedHeaders=host, Signature=abc",
            "X-Amz-Date": "20261201T000000Z",
        },
    )
    with pytest.raises(VendorError, match="400"):
        await signed.request(
            "POST",
            f"/model/{MODEL}/converse",
            json={"messages": [{"role": "robot", "content": [{"text": "hi"}]}], "prompt": "x"},
        )
    assert "the request is not SigV4-signed for bedrock" in fake.violations
    assert "unknown member" in fake.violations[-1]
    assert "'robot' is not one of" in fake.violations[-1]
