"""Checks each request against Slack's published Web API description, loaded at run time.

The description is `tests/vendor/slack/slack_web_openapi_v2_without_examples.json` (Swagger 2.0,
2021, MIT; see tests/vendor/README.md), read when a fake starts. A request
that names a parameter the method does not have, omits a required one, or sends a value of the
wrong kind is a client bug; the fake answers `invalid_arguments` and records it, so the test fails
where the real Slack would have refused the call.

Checks are loose where Slack is: form values are strings, so booleans may be "true"/"1", numbers
may be numeric strings, and JSON bodies may carry structured Block Kit values (blocks, attachments,
view, metadata) where the 2021 description says "string".

Written by hand, because the 2021 description lacks them (documented here, checked the same way):
- The bookmarks methods are missing, from Slack's current method reference: `bookmarks.add`
  takes channel_id, title, type (required); link, emoji, entity_id, parent_id, access_level
  (optional). `bookmarks.edit` takes bookmark_id, channel_id (required); title, link, emoji
  (optional). `bookmarks.list` takes channel_id (required).
- `apps.connections.open` is missing: it takes no parameter besides the app-level token.
- Parameters Slack added after 2021 that the adapter may send: `metadata` on chat.postMessage and
  chat.update (2022), `force` on conversations.invite.
- `team_id` is accepted on every method: Slack takes it from org-wide (Enterprise Grid) apps, and
  slack_bolt's per-request client sends the workspace's team_id with every call a listener makes.
- `views.open` is only a stub (trigger_id, view): the view's content is checked by the fake's
  views.open itself (type, title, blocks, sizes) and reported as a violation in the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tests.vendor import vendor_file

SPEC_RELATIVE = "slack/slack_web_openapi_v2_without_examples.json"

JSON_VALUED = frozenset({"blocks", "attachments", "view", "metadata"})
"""Parameters whose value is JSON: a string in a form body, structured in a JSON body."""

_HAND_WRITTEN: dict[str, dict[str, tuple[str, bool]]] = {
    "bookmarks.add": {
        "channel_id": ("string", True),
        "title": ("string", True),
        "type": ("string", True),
        "link": ("string", False),
        "emoji": ("string", False),
        "entity_id": ("string", False),
        "parent_id": ("string", False),
        "access_level": ("string", False),
    },
    "bookmarks.edit": {
        "bookmark_id": ("string", True),
        "channel_id": ("string", True),
        "title": ("string", False),
        "link": ("string", False),
        "emoji": ("string", False),
    },
    "bookmarks.list": {"channel_id": ("string", True)},
    "apps.connections.open": {},
}

_NEWER_PARAMS: dict[str, dict[str, tuple[str, bool]]] = {
    "chat.postMessage": {"metadata": ("object", False)},
    "chat.update": {"metadata": ("object", False)},
    "conversations.invite": {"force": ("boolean", False)},
}

_EVERY_METHOD: dict[str, tuple[str, bool]] = {"team_id": ("string", False)}

_INTEGER = re.compile(r"-?\d+")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    required: bool


@dataclass(frozen=True)
class Contract:
    """What one method accepts, and whether it came from the published description."""

    method: str
    params: Mapping[str, Param]
    published: bool


class WebApiContract:
    """The Web API methods as published, plus the documented hand-written additions."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self._contracts: dict[str, Contract] = {}
        for path, operations in spec["paths"].items():
            method = path.lstrip("/")
            params: dict[str, Param] = {}
            for operation in operations.values():
                for raw in operation.get("parameters", []):
                    if raw["name"] == "token":
                        continue
                    params[raw["name"]] = Param(
                        raw["name"], raw.get("type", "string"), bool(raw.get("required"))
                    )
            newer = {**_EVERY_METHOD, **_NEWER_PARAMS.get(method, {})}
            for name, (kind, required) in newer.items():
                params[name] = Param(name, kind, required)
            self._contracts[method] = Contract(method, params, published=True)
        for method, extra in _HAND_WRITTEN.items():
            params = {
                name: Param(name, kind, req)
                for name, (kind, req) in {**_EVERY_METHOD, **extra}.items()
            }
            self._contracts[method] = Contract(method, params, published=False)

    @classmethod
    def load(cls, path: Path | None = None) -> WebApiContract:
        return _load(path or vendor_file(SPEC_RELATIVE))

    def contract(self, method: str) -> Contract | None:
        return self._contracts.get(method)

    def problems(self, method: str, params: Mapping[str, Any], *, json_body: bool) -> list[str]:
        """Every way `params` breaks the contract of `method` (empty when the call is fine)."""
        contract = self._contracts.get(method)
        if contract is None:
            return [f"{method} is not a published Web API method"]
        found: list[str] = []
        for name, value in params.items():
            if name == "token":
                continue
            param = contract.params.get(name)
            if param is None:
                found.append(f"unknown parameter {name!r}")
            elif value is not None and not _fits(param, value, json_body=json_body):
                found.append(f"{name!r} should be {param.type}, got {value!r:.80}")
        for param in contract.params.values():
            if param.required and params.get(param.name) in (None, ""):
                found.append(f"missing required parameter {param.name!r}")
        return found


@cache
def _load(path: Path) -> WebApiContract:
    with path.open(encoding="utf-8") as handle:
        return WebApiContract(json.load(handle))


def _fits(param: Param, value: Any, *, json_body: bool) -> bool:
    kind = param.type
    if kind == "boolean":
        if isinstance(value, bool):
            return True
        if isinstance(value, int):
            return value in (0, 1)
        return isinstance(value, str) and value.lower() in {"true", "false", "1", "0"}
    if kind == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (
            isinstance(value, str) and bool(_INTEGER.fullmatch(value))
        )
    if kind == "number":
        if isinstance(value, bool):
            return False
        if isinstance(value, int | float):
            return True
        return isinstance(value, str) and _is_float(value)
    if kind == "object":
        if isinstance(value, dict):
            return True
        return isinstance(value, str) and isinstance(_json_or_none(value), dict)
    if isinstance(value, list | dict):
        return json_body and param.name in JSON_VALUED
    return isinstance(value, str | int | float | bool)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
