"""A fake of Anthropic's Messages API (the documented contract, written from the API reference).

- `POST /v1/messages`: needs `x-api-key` (401 `authentication_error` otherwise) and
  `anthropic-version: 2023-06-01`; refuses with 400 `invalid_request_error` a body that breaks
  the contract: `model` and `max_tokens` required, unknown top-level fields, `messages`
  non-empty with roles alternating from `user`, content a string or text blocks, `system` a
  string or text blocks with an optional `cache_control: {"type": "ephemeral"}`, temperature
  within 0..1. An unknown model is 404 `not_found_error`. The answer is the Messages shape, with
  `usage` counting `cache_creation_input_tokens` the first time a cached system prompt is seen
  and `cache_read_input_tokens` on later calls with the same one.
- `GET /v1/models`, `GET /v1/models/{model_id}`.
- Errors in Anthropic's shape: `{"type": "error", "error": {"type", "message"}}`; `overload_next`
  (529 `overloaded_error`) and `rate_limit_next` (429 `rate_limit_error` with `retry-after`).

Every refused request is recorded in `violations`, so a client that drifts fails its tests.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from aiohttp import web

from tests.fakes.llm_script import Prompt, Script, as_reply, plain_script, tokens
from tests.fakes.vendor_server import FakeVendorServer

API_VERSION = "2023-06-01"
MODELS = ("claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-1")
TOP_LEVEL = frozenset(
    {
        "model",
        "max_tokens",
        "messages",
        "system",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "stream",
        "metadata",
        "tools",
        "tool_choice",
        "thinking",
        "service_tier",
    }
)
STOPS = {"end": "end_turn", "max_tokens": "max_tokens", "refusal": "refusal"}


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


class FakeAnthropic(FakeVendorServer):
    name = "anthropic"

    def __init__(
        self,
        *,
        api_key: str = "sk-ant-test",
        script: Script = plain_script,
        models: tuple[str, ...] = MODELS,
        latency: float = 0.0,
    ) -> None:
        super().__init__(latency=latency)
        self.api_key = api_key
        self.script = script
        self.models = models
        self.violations: list[str] = []
        self.prompts: list[Prompt] = []
        self.usage: list[dict[str, int]] = []  # each answer's usage, in order
        self._cached: set[str] = set()

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self.endpoint(self._messages))
        app.router.add_get("/v1/models", self.endpoint(self._models))
        app.router.add_get("/v1/models/{model_id}", self.endpoint(self._model))

    def authorized(self, request: web.Request) -> bool:
        return True  # checked in the handlers, to answer in Anthropic's error shape

    # -- injection -------------------------------------------------------------------------------

    def overload_next(self, count: int = 1) -> None:
        self.fail_next(count, status=529, body=error_body("overloaded_error", "Overloaded"))

    def rate_limit_next(self, count: int = 1, *, retry_after: float = 7) -> None:
        self.fail_next(
            count,
            status=429,
            retry_after=retry_after,
            body=error_body(
                "rate_limit_error", "Number of request tokens has exceeded your rate limit"
            ),
        )

    # -- handlers --------------------------------------------------------------------------------

    def _refuse(self, status: int, kind: str, message: str) -> web.Response:
        self.violations.append(message)
        return web.json_response(error_body(kind, message), status=status)

    def _headers_problem(self, request: web.Request) -> web.Response | None:
        if request.headers.get("x-api-key") != self.api_key:
            return self._refuse(401, "authentication_error", "invalid x-api-key")
        version = request.headers.get("anthropic-version")
        if version != API_VERSION:
            return self._refuse(
                400, "invalid_request_error", f"anthropic-version: {version!r} is not supported"
            )
        return None

    async def _models(self, request: web.Request) -> web.Response:
        refused = self._headers_problem(request)
        if refused is not None:
            return refused
        limit = int(request.query.get("limit", "20"))
        data = [self._model_doc(m) for m in self.models[:limit]]
        return web.json_response(
            {
                "data": data,
                "has_more": len(self.models) > limit,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            }
        )

    async def _model(self, request: web.Request) -> web.Response:
        refused = self._headers_problem(request)
        if refused is not None:
            return refused
        model = request.match_info["model_id"]
        if model not in self.models:
            return web.json_response(error_body("not_found_error", f"model: {model}"), status=404)
        return web.json_response(self._model_doc(model))

    @staticmethod
    def _model_doc(model: str) -> dict[str, Any]:
        return {
            "type": "model",
            "id": model,
            "display_name": model.replace("-", " ").title(),
            "created_at": "2025-09-29T00:00:00Z",
        }

    async def _messages(self, request: web.Request) -> web.Response:
        refused = self._headers_problem(request)
        if refused is not None:
            return refused
        if request.content_type != "application/json":
            return self._refuse(400, "invalid_request_error", "content-type must be JSON")
        body = json.loads(await request.read() or b"null")
        problems = body_problems(body)
        if problems:
            return self._refuse(400, "invalid_request_error", "; ".join(problems))
        if body["model"] not in self.models:
            return web.json_response(
                error_body("not_found_error", f"model: {body['model']}"), status=404
            )
        system_text, cache_key = _system(body.get("system"))
        user_text = "\n".join(_text(m["content"]) for m in body["messages"] if m["role"] == "user")
        prompt = Prompt(model=body["model"], system=system_text, user=user_text, body=body)
        self.prompts.append(prompt)
        reply = as_reply(self.script(prompt))
        cache_write = cache_read = 0
        if cache_key is not None:
            if cache_key in self._cached:
                cache_read = tokens(system_text)
            else:
                cache_write = tokens(system_text)
                self._cached.add(cache_key)
        uncached = tokens(user_text) + (0 if cache_key else tokens(system_text))
        usage = {
            "input_tokens": uncached,
            "cache_creation_input_tokens": cache_write,
            "cache_read_input_tokens": cache_read,
            "output_tokens": tokens(reply.text),
        }
        self.usage.append(usage)
        return web.json_response(
            {
                "id": f"msg_{uuid.uuid4().hex[:24]}",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [{"type": "text", "text": reply.text}] if reply.text else [],
                "stop_reason": STOPS[reply.stop],
                "stop_sequence": None,
                "usage": usage,
            }
        )


def body_problems(body: Any) -> list[str]:
    """What in a Messages request breaks the documented contract."""
    if not isinstance(body, dict):
        return ["the body must be a JSON object"]
    problems = [f"{key}: Extra inputs are not permitted" for key in body if key not in TOP_LEVEL]
    if not isinstance(body.get("model"), str) or not body.get("model"):
        problems.append("model: Field required")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        problems.append("max_tokens: Field required (an integer >= 1)")
    temperature = body.get("temperature")
    if temperature is not None and not (
        isinstance(temperature, int | float) and 0 <= temperature <= 1
    ):
        problems.append("temperature: must be a number between 0 and 1")
    problems += _messages_problems(body.get("messages"))
    if "system" in body:
        problems += _system_problems(body["system"])
    return problems


def _messages_problems(messages: Any) -> list[str]:
    if not isinstance(messages, list) or not messages:
        return ["messages: Field required (a non-empty list)"]
    problems = []
    for index, message in enumerate(messages):
        expected = "user" if index % 2 == 0 else "assistant"
        if not isinstance(message, dict) or message.get("role") != expected:
            problems.append(
                f"messages.{index}.role: roles must alternate between user and assistant, "
                "starting with user"
            )
            continue
        content = message.get("content")
        if isinstance(content, str):
            if not content:
                problems.append(f"messages.{index}.content: must not be empty")
        elif isinstance(content, list) and content:
            problems += [
                f"messages.{index}.content.{i}: {problem}"
                for i, block in enumerate(content)
                for problem in _text_block_problems(block)
            ]
        else:
            problems.append(f"messages.{index}.content: a string or a list of content blocks")
    return problems


def _system_problems(system: Any) -> list[str]:
    if isinstance(system, str):
        return []
    if not isinstance(system, list):
        return ["system: a string or a list of text blocks"]
    return [
        f"system.{i}: {problem}"
        for i, block in enumerate(system)
        for problem in _text_block_problems(block)
    ]


def _text_block_problems(block: Any) -> list[str]:
    if not isinstance(block, dict) or block.get("type") != "text":
        return ["only text blocks are accepted here"]
    problems = []
    if not isinstance(block.get("text"), str) or not block["text"]:
        problems.append("text: a non-empty string")
    extra = set(block) - {"type", "text", "cache_control", "citations"}
    if extra:
        problems.append(f"{', '.join(sorted(extra))}: Extra inputs are not permitted")
    cache = block.get("cache_control")
    if cache is not None and (
        not isinstance(cache, dict)
        or cache.get("type") != "ephemeral"
        or cache.get("ttl", "5m") not in ("5m", "1h")
        or set(cache) - {"type", "ttl"}
    ):
        problems.append('cache_control: must be {"type": "ephemeral"} (ttl "5m" or "1h")')
    return problems


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content)


def _system(system: Any) -> tuple[str, str | None]:
    """The system text, and a cache key when a block of it is marked for caching (the cached
    prefix runs up to and including the marked block)."""
    if system is None:
        return "", None
    if isinstance(system, str):
        return system, None
    text = "".join(block["text"] for block in system)
    marked = [i for i, block in enumerate(system) if block.get("cache_control")]
    if not marked:
        return text, None
    prefix = "".join(block["text"] for block in system[: marked[-1] + 1])
    return text, hashlib.sha256(prefix.encode()).hexdigest()
