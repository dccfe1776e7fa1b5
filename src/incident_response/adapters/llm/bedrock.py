"""Amazon Bedrock's Converse API as a Completion, through boto3's `bedrock-runtime` client.

boto3 brings its own transport, so the blocking `converse` call runs in a worker thread under
the outbound policy's `VendorClient.guard` (the vendor's circuit breaker, a deadline and a span);
botocore's own retries are bounded (`total_max_attempts=2`, standard mode, which backs off on
throttling and 5xx). Region: AWS_REGION. Endpoint: botocore reads the standard
`AWS_ENDPOINT_URL_BEDROCK_RUNTIME` (or `AWS_ENDPOINT_URL`) itself. Credentials: the standard
chain (environment, IRSA web identity, instance or task role); the role needs
`bedrock:InvokeModel` on the model (Converse is authorised by that action).

Prompt caching: the stable system prompt is followed by a `cachePoint`, so Bedrock caches it on
the models that support prompt caching. A model that does not answers ValidationException; the
call is then made once more without the cache point, and this client stops sending it.

The boto3 client is created only here (`runtime_client`), in a thread, by the factory.
"""

from __future__ import annotations

import asyncio
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    ConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from incident_response.adapters.llm.completion import PromptRequest
from incident_response.http import VendorClient, VendorError
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

SERVICE = "bedrock-runtime"
# Bedrock's error codes that say "try again later"; every other code is a refusal of this
# request (ValidationException, AccessDeniedException, ResourceNotFoundException, ...).
TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "ServiceUnavailableException",
        "ModelTimeoutException",
        "ModelNotReadyException",
        "InternalServerException",
    }
)
_COMPLETE_STOPS = frozenset({"end_turn", "stop_sequence"})


def runtime_client(*, region: str, connect_timeout: float, read_timeout: float) -> Any:
    """A `bedrock-runtime` client of its own boto3 Session (the default session is shared,
    mutable state). Blocking (it loads the service model): call it in a thread."""
    config = Config(
        region_name=region,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"total_max_attempts": 2, "mode": "standard"},
    )
    return boto3.session.Session().client(SERVICE, config=config)


class BedrockCompletion:
    """Converse calls to one region's Bedrock runtime. `deadline` bounds one call, botocore's
    retries included; `probe_model` is the model `probe()` asks for one token."""

    name = "bedrock"

    def __init__(
        self,
        vendor: VendorClient,
        runtime: Any,
        *,
        deadline: float,
        probe_model: str | None = None,
    ) -> None:
        self._vendor = vendor
        self._runtime = runtime
        self._deadline = deadline
        self._probe_model = probe_model
        self._cache = True  # cleared when a model refuses cache points

    @property
    def endpoint(self) -> str:
        """Where the calls go (the region's, or AWS_ENDPOINT_URL_BEDROCK_RUNTIME's)."""
        return str(self._runtime.meta.endpoint_url)

    async def complete(self, request: PromptRequest, *, model: str) -> str:
        try:
            answer = await self._converse(self._arguments(request, model))
        except VendorError as exc:
            if not (self._cache and exc.status == 400 and "cach" in exc.reason.lower()):
                raise
            log.warning("llm.bedrock_cache_refused", model=model, reason=exc.reason)
            self._cache = False
            answer = await self._converse(self._arguments(request, model))
        return _answer(answer, model)

    def _arguments(self, request: PromptRequest, model: str) -> dict[str, Any]:
        system: list[dict[str, Any]] = [{"text": request.system}]
        if self._cache:
            system.append({"cachePoint": {"type": "default"}})
        return {
            "modelId": model,
            "system": system,
            "messages": [{"role": "user", "content": [{"text": request.user}]}],
            "inferenceConfig": {
                "maxTokens": request.max_tokens,
                "temperature": request.temperature,
            },
        }

    async def _converse(self, arguments: dict[str, Any]) -> Any:
        return await self._vendor.guard(
            "converse",
            lambda: asyncio.to_thread(self._blocking_converse, arguments),
            deadline=self._deadline,
        )

    def _blocking_converse(self, arguments: dict[str, Any]) -> Any:
        try:
            return self._runtime.converse(**arguments)
        except ClientError as exc:
            raise client_error(exc, model=str(arguments.get("modelId"))) from None
        except NoCredentialsError:
            raise VendorError(
                self.name,
                "converse",
                "no AWS credentials found (environment, web identity or instance role)",
            ) from None
        except (ReadTimeoutError, ConnectionError) as exc:
            raise VendorError(self.name, "converse", str(exc), transient=True) from None
        except BotoCoreError as exc:
            raise VendorError(self.name, "converse", str(exc)) from None

    async def probe(self) -> str:
        """A one-token Converse call to the configured model: the cheapest documented call that
        proves what drafting needs (credentials, region, `bedrock:InvokeModel` on this model,
        model access granted). The control plane's ListFoundationModels is another service with
        another permission, and would not show that this model may be invoked."""
        if not self._probe_model:
            raise VendorError(self.name, "converse", "no model to probe (BEDROCK_MODEL_ID)")
        answer = await self._converse(
            {
                "modelId": self._probe_model,
                "messages": [{"role": "user", "content": [{"text": "Reply with OK."}]}],
                "inferenceConfig": {"maxTokens": 1},
            }
        )
        stop = answer.get("stopReason", "?") if isinstance(answer, dict) else "?"
        return f"model {self._probe_model} answered (stop reason {stop})"


def client_error(error: ClientError, *, model: str) -> VendorError:
    """A botocore ClientError as a VendorError: Bedrock's code and message, its HTTP status, and
    whether trying again later could help."""
    details = error.response.get("Error", {})
    code = str(details.get("Code", "Unknown"))
    message = str(details.get("Message", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    hint = {
        "AccessDeniedException": " (the role needs bedrock:InvokeModel on this model, and the "
        "model access must be granted in the Bedrock console)",
        "ResourceNotFoundException": " (check BEDROCK_MODEL_ID and AWS_REGION)",
    }.get(code, "")
    return VendorError(
        "bedrock",
        "converse",
        f"{code}: {message}{hint} [{model}]",
        status=status,
        transient=code in TRANSIENT_CODES or status == 429 or status >= 500,
    )


def _answer(answer: Any, model: str) -> str:
    if not isinstance(answer, dict):
        raise VendorError("bedrock", "converse", "the answer is not a Converse response")
    stop = answer.get("stopReason")
    if stop not in _COMPLETE_STOPS:
        reason = {
            "max_tokens": "the answer was cut off at maxTokens",
            "guardrail_intervened": "a guardrail blocked the answer",
            "content_filtered": "the answer was filtered",
        }.get(str(stop), f"unexpected stopReason {stop!r}")
        raise VendorError("bedrock", "converse", f"{model}: {reason}")
    content = answer.get("output", {}).get("message", {}).get("content", [])
    text = "".join(
        str(block["text"]) for block in content if isinstance(block, dict) and "text" in block
    ).strip()
    if not text:
        raise VendorError("bedrock", "converse", f"{model} gave an empty answer")
    usage = answer.get("usage", {})
    log.debug(
        "llm.bedrock_usage",
        model=model,
        input_tokens=usage.get("inputTokens"),
        cache_read_tokens=usage.get("cacheReadInputTokens"),
        cache_write_tokens=usage.get("cacheWriteInputTokens"),
    )
    return text
