"""A fake of Amazon Bedrock's runtime Converse API over REST (`POST /model/{modelId}/converse`).

The contract is AWS's own published service model for `bedrock-runtime` (the JSON model botocore
ships, Apache-2.0), read here at run time rather than copied: the request body is validated
against the Converse operation's input shape (unknown members, types, enums, unions with exactly
one member, list minimums), and every error is answered as AWS does, with the status the model
gives the error, `x-amzn-ErrorType: <Code>:...` and `{"message": ...}`.

- Every call must be SigV4-signed (an `Authorization: AWS4-HMAC-SHA256 Credential=.../bedrock/
  aws4_request, ...` header and `X-Amz-Date`); the signature itself is not checked.
- An unknown model is ResourceNotFoundException; a model not in `cache_models` refuses a
  `cachePoint` with ValidationException, as models without prompt caching do.
- The answer: `{"output": {"message": {"role": "assistant", "content": [{"text"}]}},
  "stopReason", "usage": {..., "cacheReadInputTokens", "cacheWriteInputTokens"}, "metrics"}`;
  a system prompt followed by a cachePoint is written to the cache the first time and read later.
- `error_next(code)` answers the next calls with that Bedrock error (ThrottlingException is 429).
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from typing import Any

import botocore.session
from aiohttp import web

from tests.fakes.llm_script import Prompt, Script, as_reply, plain_script, tokens
from tests.fakes.vendor_server import FakeVendorServer

MODELS = (
    "anthropic.claude-sonnet-4-5-20250929-v1:0",
    "us.anthropic.claude-haiku-4-5-20251001-v1:0",
    "meta.llama3-70b-instruct-v1:0",
)
CACHE_MODELS = frozenset(MODELS[:2])
STOPS = {"end": "end_turn", "max_tokens": "max_tokens", "refusal": "content_filtered"}
ERROR_NAMESPACE = "http://internal.amazon.com/coral/com.amazon.bedrock/"


def _converse_model() -> Any:
    service = botocore.session.get_session().get_service_model("bedrock-runtime")
    return service.operation_model("Converse")


class FakeBedrock(FakeVendorServer):
    name = "bedrock"

    def __init__(
        self,
        *,
        script: Script = plain_script,
        models: tuple[str, ...] = MODELS,
        cache_models: frozenset[str] = CACHE_MODELS,
        latency: float = 0.0,
    ) -> None:
        super().__init__(latency=latency)
        self.script = script
        self.models = models
        self.cache_models = cache_models
        self.violations: list[str] = []
        self.prompts: list[Prompt] = []
        self.usage: list[dict[str, int]] = []
        self._operation = _converse_model()
        self._statuses = {
            shape.name: shape.metadata["error"]["httpStatusCode"]
            for shape in self._operation.error_shapes
        }
        self._errors: deque[tuple[str, str]] = deque()
        self._cached: set[str] = set()

    def routes(self, app: web.Application) -> None:
        app.router.add_post(r"/model/{model_id:.+}/converse", self.endpoint(self._converse))

    def error_next(self, code: str, count: int = 1, *, message: str | None = None) -> None:
        """The next `count` Converse calls fail with Bedrock's `code`, no effect."""
        if code not in self._statuses:
            raise ValueError(f"{code} is not an error of Converse")
        for _ in range(count):
            self._errors.append((code, message or f"injected {code}"))

    def _error(self, code: str, message: str, *, status: int | None = None) -> web.Response:
        return web.json_response(
            {"message": message},
            status=status or self._statuses.get(code, 400),
            headers={"x-amzn-ErrorType": f"{code}:{ERROR_NAMESPACE}"},
        )

    def _refuse(self, message: str) -> web.Response:
        self.violations.append(message)
        return self._error("ValidationException", message)

    async def _converse(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization", "")
        if not (
            authorization.startswith("AWS4-HMAC-SHA256 Credential=")
            and "/bedrock/aws4_request" in authorization
            and "Signature=" in authorization
            and request.headers.get("X-Amz-Date")
        ):
            self.violations.append("the request is not SigV4-signed for bedrock")
            return self._error(
                "MissingAuthenticationTokenException", "Missing Authentication Token", status=403
            )
        if self._errors:
            code, message = self._errors.popleft()
            return self._error(code, message)
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError:
            return self._refuse("the body is not JSON")
        problems = shape_problems(self._operation.input_shape, body, "", body_only=True)
        if problems:
            return self._refuse("; ".join(problems))
        model = request.match_info["model_id"]
        if model not in self.models:
            return self._error("ResourceNotFoundException", f"Model {model} not found.")
        system = body.get("system", [])
        if any("cachePoint" in block for block in system) and model not in self.cache_models:
            return self._error(
                "ValidationException",
                "You invoked an unsupported model or your request did not allow prompt caching. "
                "See the documentation for more information.",
            )
        if not body.get("messages"):
            return self._refuse("messages: at least one message is required")
        system_text = "".join(block.get("text", "") for block in system)
        user_text = "\n".join(
            block.get("text", "")
            for message in body["messages"]
            if message["role"] == "user"
            for block in message["content"]
        )
        prompt = Prompt(model=model, system=system_text, user=user_text, body=body)
        self.prompts.append(prompt)
        reply = as_reply(self.script(prompt))
        text = reply.text
        max_tokens = body.get("inferenceConfig", {}).get("maxTokens")
        stop = STOPS[reply.stop]
        if max_tokens is not None and tokens(text) > max_tokens:
            text, stop = text[: max_tokens * 4], "max_tokens"
        usage = self._usage(system, system_text, user_text, text)
        self.usage.append(usage)
        return web.json_response(
            {
                "output": {
                    "message": {
                        "role": "assistant",
                        "content": [{"text": text}] if text else [],
                    }
                },
                "stopReason": stop,
                "usage": usage,
                "metrics": {"latencyMs": int(self.latency * 1000)},
            }
        )

    def _usage(
        self, system: list[dict[str, Any]], system_text: str, user_text: str, text: str
    ) -> dict[str, int]:
        read = write = 0
        marked = [i for i, block in enumerate(system) if "cachePoint" in block]
        if marked:
            prefix = json.dumps(system[: marked[-1]]).encode()
            key = hashlib.sha256(prefix).hexdigest()
            if key in self._cached:
                read = tokens(system_text)
            else:
                write = tokens(system_text)
                self._cached.add(key)
        uncached = tokens(user_text) + (0 if marked else tokens(system_text))
        return {
            "inputTokens": uncached,
            "outputTokens": tokens(text),
            "totalTokens": uncached + read + write + tokens(text),
            "cacheReadInputTokens": read,
            "cacheWriteInputTokens": write,
        }


def shape_problems(shape: Any, value: Any, path: str, *, body_only: bool = False) -> list[str]:
    """Where `value` breaks botocore's `shape` (the service model's type of it)."""
    where = path or "body"
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{where}: expected an object"]
        members = {
            name: member
            for name, member in shape.members.items()
            if not (body_only and member.serialization.get("location"))
        }
        problems = [f"{where}.{key}: unknown member" for key in value if key not in members]
        problems += [
            f"{where}.{name}: required"
            for name in shape.required_members
            if name in members and name not in value
        ]
        if shape.metadata.get("union") and len([k for k in value if k in members]) != 1:
            problems.append(f"{where}: a union takes exactly one member")
        for key, item in value.items():
            if key in members:
                problems += shape_problems(members[key], item, f"{path}.{key}".lstrip("."))
        return problems
    if kind == "list":
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        problems = []
        if len(value) < shape.metadata.get("min", 0):
            problems.append(f"{where}: at least {shape.metadata['min']} items")
        for index, item in enumerate(value):
            problems += shape_problems(shape.member, item, f"{where}[{index}]")
        return problems
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{where}: expected an object"]
        return [p for k, v in value.items() for p in shape_problems(shape.value, v, f"{where}.{k}")]
    if kind == "string":
        if not isinstance(value, str):
            return [f"{where}: expected a string"]
        if shape.enum and value not in shape.enum:
            return [f"{where}: {value!r} is not one of {', '.join(shape.enum)}"]
        if len(value) < shape.metadata.get("min", 0):
            return [f"{where}: at least {shape.metadata['min']} characters"]
        return []
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{where}: expected an integer"]
        if value < shape.metadata.get("min", value):
            return [f"{where}: at least {shape.metadata['min']}"]
        return []
    if kind in ("float", "double"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            return [f"{where}: expected a number"]
        return []
    if kind == "boolean" and not isinstance(value, bool):
        return [f"{where}: expected a boolean"]
    return []
