"""Turning raw webhook bytes into a validated model, with errors that name the bad field."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from incident_response.domain.errors import InvalidAlert

M = TypeVar("M", bound=BaseModel)


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or InvalidAlert("body", ...) saying where it went wrong."""
    if not body.strip():
        raise InvalidAlert("body", "empty")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidAlert("body", f"not UTF-8 text at byte {exc.start}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidAlert("body", f"invalid JSON at char {exc.pos} ({exc.msg})") from None
    if not isinstance(doc, dict):
        raise InvalidAlert("body", f"expected a JSON object, got {type(doc).__name__}")
    return doc


def validate(model: type[M], doc: Mapping[str, Any]) -> M:
    """Validate `doc`; the first error becomes InvalidAlert("a.b.0.c", "field required")."""
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        message = str(first["msg"])
        raise InvalidAlert(field, message[:1].lower() + message[1:]) from None


def text_labels(raw: Mapping[str, Any] | None) -> dict[str, str]:
    """Labels as strings; null values are dropped rather than becoming the text 'None'."""
    if not raw:
        return {}
    return {str(k): _text(v) for k, v in raw.items() if v is not None}


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
