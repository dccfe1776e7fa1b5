"""Turning raw webhook bytes into a validated model, with errors that name the bad field."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from incident_response.domain.errors import InvalidAlert
from incident_response.domain.text import encodable

M = TypeVar("M", bound=BaseModel)

MAX_DEPTH = 64
"""Nesting deeper than any alert source sends; deeper documents are refused before anything
walks them recursively (validation, storage, logging)."""


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
    except RecursionError:
        raise InvalidAlert("body", f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # an integer past Python's digit limit for int conversion
        raise InvalidAlert("body", f"a number is too long ({exc})") from None
    if not isinstance(doc, dict):
        raise InvalidAlert("body", f"expected a JSON object, got {type(doc).__name__}")
    _check_values(doc)
    return doc


def _check_values(doc: Any) -> None:
    """Refuse what JSON allows but nothing downstream can keep: nesting past MAX_DEPTH and
    strings with lone surrogates (`\\ud800`), which cannot be stored or sent as UTF-8."""
    stack: list[tuple[Any, int, str]] = [(doc, 1, "")]
    while stack:
        value, depth, where = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidAlert(where or "body", f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                path = f"{where}.{key}" if where else str(key)
                if not encodable(key):
                    raise InvalidAlert(where or "body", "a key is not valid Unicode text")
                stack.append((item, depth + 1, path))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, f"{where}.{i}") for i, item in enumerate(value))
        elif isinstance(value, str) and not encodable(value):
            raise InvalidAlert(where, "not valid Unicode text (a lone surrogate)")


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
