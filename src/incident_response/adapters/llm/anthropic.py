"""Anthropic's Messages API as a Completion: `POST /v1/messages`.

The stable system prompt is sent as one text block marked `cache_control: ephemeral`, so
Anthropic caches it and later drafts pay the cached rate for it (prompts under the model's
minimum cacheable length are simply not cached; the marker is harmless then).

Retries: a completion publishes nothing and changes nothing on Anthropic's side, so a repeated
call costs tokens and nothing else; the call is marked idempotent and a 5xx or a timeout is
tried again under the vendor's CallPolicy. 429 waits out Anthropic's `retry-after`; 529
(`overloaded_error`) is retried like a 5xx by the policy itself.
"""

from __future__ import annotations

from typing import Any

from incident_response.adapters.llm.completion import PromptRequest
from incident_response.http import VendorClient, VendorError

API_VERSION = "2023-06-01"
# Why the model stopped, and whether the text is then a whole answer.
_COMPLETE_STOPS = frozenset({"end_turn", "stop_sequence"})


def headers(api_key: str) -> dict[str, str]:
    """The headers every Messages API call carries."""
    return {
        "x-api-key": api_key,
        "anthropic-version": API_VERSION,
        "content-type": "application/json",
    }


class AnthropicCompletion:
    """One Messages API endpoint (api.anthropic.com or ANTHROPIC_BASE_URL), through the
    outbound HTTP policy. Build the VendorClient with `headers(api_key)`. `probe_model` is the
    model `probe()` checks is available to the key."""

    name = "anthropic"

    def __init__(self, vendor: VendorClient, *, probe_model: str | None = None) -> None:
        self._vendor = vendor
        self._probe_model = probe_model

    async def complete(self, request: PromptRequest, *, model: str) -> str:
        body = {
            "model": model,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "system": [
                {"type": "text", "text": request.system, "cache_control": {"type": "ephemeral"}}
            ],
            "messages": [{"role": "user", "content": request.user}],
        }
        doc: Any = await self._post(body)
        return _answer(doc, model)

    async def _post(self, body: dict[str, Any]) -> Any:
        response = await self._vendor.request("POST", "/v1/messages", json=body, idempotent=True)
        try:
            return response.json()
        except ValueError:
            raise VendorError(
                self.name, "POST /v1/messages", "the answer is not JSON", status=200
            ) from None

    async def probe(self) -> str:
        """`GET /v1/models/{model}` (or the model list): proves the key and that the model
        this deployment uses is available to it."""
        if self._probe_model:
            path = f"/v1/models/{self._probe_model}"
            response = await self._vendor.request("GET", path, ok_statuses=frozenset({404}))
            if response.status_code == 404:
                raise VendorError(
                    self.name,
                    f"GET {path}",
                    f"model {self._probe_model!r} is not available to this key "
                    "(check ANTHROPIC_MODEL / ANTHROPIC_CLASSIFIER_MODEL)",
                    status=404,
                )
            found = response.json()
            return f"model {found.get('id', self._probe_model)} available"
        response = await self._vendor.request("GET", "/v1/models", params={"limit": 5})
        ids = [m.get("id", "?") for m in response.json().get("data", [])]
        return f"key accepted; models include {', '.join(ids) or 'none'}"


def _answer(doc: Any, model: str) -> str:
    """The text of a Messages answer; a VendorError when there is no whole answer in it."""
    what = "POST /v1/messages"
    if not isinstance(doc, dict):
        raise VendorError("anthropic", what, "the answer is not a JSON object", status=200)
    if doc.get("type") == "error":
        error = doc.get("error") or {}
        kind = str(error.get("type", "error"))
        raise VendorError(
            "anthropic",
            what,
            f"{kind}: {error.get('message', '')}",
            status=200,
            transient=kind in {"overloaded_error", "api_error", "rate_limit_error"},
        )
    stop = doc.get("stop_reason")
    if stop not in _COMPLETE_STOPS:
        reason = {
            "max_tokens": "the answer was cut off at max_tokens",
            "refusal": "the model refused to answer",
        }.get(str(stop), f"unexpected stop_reason {stop!r}")
        raise VendorError("anthropic", what, f"{model}: {reason}", status=200)
    blocks = doc.get("content")
    text = "".join(
        str(block.get("text", ""))
        for block in (blocks if isinstance(blocks, list) else [])
        if isinstance(block, dict) and block.get("type") == "text"
    ).strip()
    if not text:
        raise VendorError("anthropic", what, f"{model} gave an empty answer", status=200)
    return text
