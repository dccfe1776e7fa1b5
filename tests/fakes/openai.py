"""A fake of an OpenAI-compatible Chat Completions API (OpenAI's documented contract, which
Ollama and vLLM follow), written from the API reference.

- Routes under `/v1`: `POST /v1/chat/completions`, `GET /v1/models`. Point the client at
  `fake.base_url` (the URL with `/v1`, as OPENAI_BASE_URL is).
- Auth: `Authorization: Bearer <key>` when the fake has an `api_key` (401 `invalid_api_key`
  otherwise); with `api_key=None` (Ollama, vLLM) no header is needed.
- Refuses with 400 `invalid_request_error` what OpenAI refuses: unknown top-level parameters
  ("Unrecognized request argument supplied"), no `model`, `messages` empty or with a role not in
  system/developer/user/assistant or without content, both `max_tokens` and
  `max_completion_tokens`, temperature outside 0..2. A model in `reasoning_models` refuses
  `max_tokens` (`unsupported_parameter`) and a temperature other than 1 (`unsupported_value`),
  as OpenAI's o-series do. An unknown model is 404 `model_not_found`.
- The answer is the `chat.completion` shape; `usage.prompt_tokens_details.cached_tokens` counts
  the system prompt when the same one was seen before (OpenAI's automatic prefix caching).
- Errors: `{"error": {"message", "type", "param", "code"}}`; `rate_limit_next` answers 429 with
  `retry-after` in that shape.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any

from aiohttp import web

from tests.fakes.llm_script import Prompt, Script, as_reply, plain_script, tokens
from tests.fakes.vendor_server import FakeVendorServer

MODELS = ("gpt-4.1-mini", "llama3.1:8b", "o4-mini")
ROLES = frozenset({"system", "developer", "user", "assistant"})
PARAMETERS = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "n",
        "stream",
        "stop",
        "seed",
        "user",
        "presence_penalty",
        "frequency_penalty",
        "response_format",
        "logprobs",
        "top_logprobs",
        "prompt_cache_key",
        "reasoning_effort",
        "metadata",
        "store",
    }
)
FINISH = {"end": "stop", "max_tokens": "length", "refusal": "content_filter"}


def error_body(
    message: str,
    *,
    kind: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


class FakeOpenAI(FakeVendorServer):
    name = "openai"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        script: Script = plain_script,
        models: tuple[str, ...] = MODELS,
        reasoning_models: frozenset[str] = frozenset({"o4-mini"}),
        latency: float = 0.0,
    ) -> None:
        super().__init__(latency=latency)
        self.api_key = api_key
        self.script = script
        self.models = models
        self.reasoning_models = reasoning_models
        self.violations: list[str] = []
        self.prompts: list[Prompt] = []
        self.usage: list[dict[str, Any]] = []
        self._prefixes: set[str] = set()

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self.endpoint(self._completions))
        app.router.add_get("/v1/models", self.endpoint(self._models))

    def authorized(self, request: web.Request) -> bool:
        return True  # checked in the handlers, to answer in OpenAI's error shape

    def rate_limit_next(self, count: int = 1, *, retry_after: float = 3) -> None:
        self.fail_next(
            count,
            status=429,
            retry_after=retry_after,
            body=error_body(
                "Rate limit reached for requests", kind="requests", code="rate_limit_exceeded"
            ),
        )

    def _refuse(self, status: int, body: dict[str, Any]) -> web.Response:
        self.violations.append(body["error"]["message"])
        return web.json_response(body, status=status)

    def _auth_problem(self, request: web.Request) -> web.Response | None:
        if self.api_key is None:
            return None
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._refuse(
                401, error_body("Incorrect API key provided", code="invalid_api_key")
            )
        return None

    async def _models(self, request: web.Request) -> web.Response:
        refused = self._auth_problem(request)
        if refused is not None:
            return refused
        return web.json_response(
            {
                "object": "list",
                "data": [
                    {"id": m, "object": "model", "created": 1700000000, "owned_by": "system"}
                    for m in self.models
                ],
            }
        )

    async def _completions(self, request: web.Request) -> web.Response:
        refused = self._auth_problem(request)
        if refused is not None:
            return refused
        try:
            body = json.loads(await request.read())
        except ValueError:
            return self._refuse(400, error_body("We could not parse the JSON body"))
        problem = request_problem(body, self.reasoning_models)
        if problem is not None:
            return self._refuse(400, problem)
        model = body["model"]
        if model not in self.models:
            return web.json_response(
                error_body(
                    f"The model `{model}` does not exist or you do not have access to it.",
                    code="model_not_found",
                ),
                status=404,
            )
        messages = body["messages"]
        system = "\n".join(
            _text(m["content"]) for m in messages if m["role"] in ("system", "developer")
        )
        user = "\n".join(_text(m["content"]) for m in messages if m["role"] == "user")
        prompt = Prompt(model=model, system=system, user=user, body=body)
        self.prompts.append(prompt)
        reply = as_reply(self.script(prompt))
        prefix = hashlib.sha256(json.dumps(messages[:1]).encode()).hexdigest()
        cached = tokens(system) if prefix in self._prefixes else 0
        self._prefixes.add(prefix)
        usage = {
            "prompt_tokens": tokens(system) + tokens(user),
            "completion_tokens": tokens(reply.text),
            "total_tokens": tokens(system) + tokens(user) + tokens(reply.text),
            "prompt_tokens_details": {"cached_tokens": cached},
        }
        self.usage.append(usage)
        refused_text = reply.stop == "refusal"
        return web.json_response(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": None if refused_text else reply.text,
                            "refusal": reply.text if refused_text else None,
                        },
                        "finish_reason": FINISH[reply.stop],
                    }
                ],
                "usage": usage,
            }
        )


def request_problem(body: Any, reasoning_models: frozenset[str]) -> dict[str, Any] | None:
    """OpenAI's error for the first thing in a chat completion request that breaks the
    contract; None when it keeps it."""
    if not isinstance(body, dict):
        return error_body("The body must be a JSON object")
    for key in body:
        if key not in PARAMETERS:
            return error_body(f"Unrecognized request argument supplied: {key}", param=key)
    if not isinstance(body.get("model"), str) or not body["model"]:
        return error_body("you must provide a model parameter", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return error_body("'messages' must be a non-empty array", param="messages")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            return error_body(f"Invalid value for 'messages[{index}].role'", param="messages")
        content = message.get("content")
        if not (isinstance(content, str) and content) and not (
            isinstance(content, list) and content
        ):
            return error_body(
                f"'messages[{index}].content' must be a non-empty string or array",
                param="messages",
            )
    if "max_tokens" in body and "max_completion_tokens" in body:
        return error_body(
            "max_tokens and max_completion_tokens cannot both be set", param="max_tokens"
        )
    for key in ("max_tokens", "max_completion_tokens"):
        value = body.get(key)
        if value is not None and (not isinstance(value, int) or value < 1):
            return error_body(f"Invalid '{key}': an integer >= 1", param=key)
    temperature = body.get("temperature")
    if temperature is not None and not (
        isinstance(temperature, int | float) and 0 <= temperature <= 2
    ):
        return error_body("Invalid 'temperature': between 0 and 2", param="temperature")
    if body["model"] in reasoning_models:
        if "max_tokens" in body:
            return error_body(
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead.",
                param="max_tokens",
                code="unsupported_parameter",
            )
        if temperature is not None and temperature != 1:
            return error_body(
                f"Unsupported value: 'temperature' does not support {temperature} with this "
                "model. Only the default (1) value is supported.",
                param="temperature",
                code="unsupported_value",
            )
    return None


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))
