"""Any OpenAI-compatible Chat Completions endpoint as a Completion: `POST {base}/chat/completions`.

OPENAI_BASE_URL includes the version path (`https://api.openai.com/v1`, Ollama's
`http://localhost:11434/v1`, vLLM's `http://host:8000/v1`). The bearer key is sent only when one
is set: self-hosted servers usually take none.

Prompt caching: OpenAI caches a prompt's longest previously seen prefix by itself (prompts from
1024 tokens), and vLLM's automatic prefix caching does the same; neither takes a marker. What
they need is a stable prefix, so the system prompt (the same for every incident) always goes
first and the incident's facts after it.

The output limit is `max_completion_tokens` on OpenAI's own API (where `max_tokens` is
deprecated and refused by reasoning models) and `max_tokens` elsewhere (what Ollama, vLLM and
most compatible servers document). If the endpoint refuses a parameter by name (OpenAI's
`unsupported_parameter` / `unsupported_value`, e.g. a model that takes no `temperature`), the
call is made once more without it, and this client remembers that for its later calls.

Retries: a completion changes nothing on the server, so a repeat costs tokens only; the call
is marked idempotent, so a 5xx or a timeout is tried again under the vendor's CallPolicy.
"""

from __future__ import annotations

import json
from typing import Any, Literal
from urllib.parse import urlsplit

from incident_response.adapters.llm.completion import PromptRequest
from incident_response.http import VendorClient, VendorError

TokenField = Literal["max_tokens", "max_completion_tokens"]
OPENAI_HOST = "api.openai.com"
_PATH = "/chat/completions"
# the parameters a model may refuse by name that the call can do without (or spell otherwise)
_ADAPTABLE = ("max_tokens", "temperature")


def token_field_for(base_url: str) -> TokenField:
    """The output-limit parameter the endpoint at `base_url` expects."""
    return "max_completion_tokens" if urlsplit(base_url).hostname == OPENAI_HOST else "max_tokens"


def headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


class OpenAICompatibleCompletion:
    """One Chat Completions endpoint through the outbound HTTP policy. Build the VendorClient
    with `headers(api_key)`; `probe_model` is the model `probe()` looks for."""

    name = "openai-compatible"

    def __init__(
        self,
        vendor: VendorClient,
        *,
        token_field: TokenField | None = None,
        probe_model: str | None = None,
    ) -> None:
        self._vendor = vendor
        self._token_field: TokenField = token_field or token_field_for(vendor.base_url)
        self._probe_model = probe_model
        self._refused: set[str] = set()  # parameters this endpoint refused by name

    async def complete(self, request: PromptRequest, *, model: str) -> str:
        # at most one more call per parameter the endpoint may refuse by name
        for _ in range(len(_ADAPTABLE)):
            try:
                return _answer(await self._post(request, model), model)
            except VendorError as exc:
                if not self._adapt(_refused_parameter(exc)):
                    raise
        return _answer(await self._post(request, model), model)

    def _adapt(self, param: str | None) -> bool:
        """Stop sending what the endpoint refused; False when there is nothing to change."""
        if param in ("max_tokens", "max_completion_tokens") and self._token_field == param:
            self._token_field = "max_completion_tokens" if param == "max_tokens" else "max_tokens"
            return True
        if param == "temperature" and param not in self._refused:
            self._refused.add(param)
            return True
        return False

    def _body(self, request: PromptRequest, model: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": model,
            "messages": [
                {"role": "system", "content": request.system},
                {"role": "user", "content": request.user},
            ],
            self._token_field: request.max_tokens,
        }
        if "temperature" not in self._refused:
            body["temperature"] = request.temperature
        return body

    async def _post(self, request: PromptRequest, model: str) -> Any:
        try:
            response = await self._vendor.request(
                "POST", _PATH, json=self._body(request, model), idempotent=True
            )
        except VendorError as exc:
            raise _with_hint(exc, model) from None
        try:
            return response.json()
        except ValueError:
            raise VendorError(
                self.name, f"POST {_PATH}", "the answer is not JSON", status=200
            ) from None

    async def probe(self) -> str:
        """`GET {base}/models`: proves the endpoint answers (and the key, when one is set) and
        that it serves the configured model."""
        try:
            response = await self._vendor.request("GET", "/models")
        except VendorError as exc:
            raise _with_hint(exc, self._probe_model) from None
        try:
            ids = [str(m.get("id")) for m in response.json().get("data", [])]
        except (ValueError, AttributeError):
            raise VendorError(self.name, "GET /models", "the model list is not JSON") from None
        if self._probe_model is None:
            return f"endpoint reachable; models: {', '.join(ids[:5]) or 'none'}"
        if self._probe_model not in ids:
            raise VendorError(
                self.name,
                "GET /models",
                f"model {self._probe_model!r} is not served here (check OPENAI_MODEL / "
                f"OPENAI_CLASSIFIER_MODEL; served: {', '.join(ids[:10]) or 'none'})",
            )
        return f"model {self._probe_model} available"


def _with_hint(error: VendorError, model: str | None) -> VendorError:
    """A 404 names the setting to check: the model, when the endpoint says it has no such
    model, else the base URL (most often missing its version path, such as `/v1`)."""
    if error.status != 404:
        return error
    try:
        code = (json.loads(error.body).get("error") or {}).get("code")
    except (ValueError, AttributeError):
        code = None
    hint = (
        f"model {model!r} not found (check OPENAI_MODEL / OPENAI_CLASSIFIER_MODEL)"
        if code == "model_not_found"
        else "not found: check that OPENAI_BASE_URL includes the version path, such as /v1"
    )
    return VendorError(
        error.vendor, error.what, f"{error.reason}; {hint}", status=404, body=error.body
    )


def _refused_parameter(error: VendorError) -> str | None:
    """The request parameter a 400 names as unsupported, if it names one."""
    if error.status != 400:
        return None
    try:
        detail = json.loads(error.body).get("error") or {}
    except (ValueError, AttributeError):
        return None
    if not isinstance(detail, dict):
        return None
    if detail.get("code") not in ("unsupported_parameter", "unsupported_value"):
        return None
    param = detail.get("param")
    return param if isinstance(param, str) else None


def _answer(doc: Any, model: str) -> str:
    what = f"POST {_PATH}"
    choices = doc.get("choices") if isinstance(doc, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise VendorError(
            "openai-compatible", what, f"{model}: no choices in the answer", status=200
        )
    choice = choices[0]
    message = choice.get("message") or {}
    finish = choice.get("finish_reason")
    if finish == "length":
        raise VendorError(
            "openai-compatible",
            what,
            f"{model}: the answer was cut off at the token limit",
            status=200,
        )
    if finish == "content_filter" or message.get("refusal"):
        raise VendorError(
            "openai-compatible", what, f"{model}: the model refused to answer", status=200
        )
    content = message.get("content")
    text = content.strip() if isinstance(content, str) else ""
    if not text:
        raise VendorError("openai-compatible", what, f"{model} gave an empty answer", status=200)
    return text
