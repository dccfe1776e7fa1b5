"""Whatever a sender posts, a parser returns alerts or raises InvalidAlert: never anything else."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident_response.domain.alert import DEFAULT_SEVERITY_MAP, Alert
from incident_response.domain.errors import InvalidAlert
from incident_response.intake.registry import PARSERS
from tests.unit.intake.examples import alertmanager_body, oncall_body

RECEIVED = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
BASES = {"grafana-oncall": oncall_body(), "alertmanager": alertmanager_body()}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += paths(value, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, source: str) -> bytes:
    doc = copy.deepcopy(BASES[source])
    for _ in range(draw(st.integers(1, 4))):
        candidates = paths(doc)
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return json.dumps(doc).encode()


def outcome(source: str, body: bytes) -> list[Alert] | InvalidAlert:
    """The parser's alerts, or the InvalidAlert it raised; any other exception fails the test."""
    try:
        return PARSERS[source](body, received_at=RECEIVED, severity_map=DEFAULT_SEVERITY_MAP)
    except InvalidAlert as exc:
        return exc


@pytest.mark.parametrize("source", sorted(BASES))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_mutated_body_is_parsed_or_refused_with_a_named_field(
    source: str, data: st.DataObject
) -> None:
    result = outcome(source, data.draw(mutated(source)))

    if isinstance(result, InvalidAlert):
        assert result.field
        assert result.problem
    else:
        assert len(result) == 1


@given(st.binary(max_size=200))
def test_arbitrary_bytes_are_parsed_or_refused_with_a_named_field(raw: bytes) -> None:
    for source in PARSERS:
        result = outcome(source, raw)
        assert not isinstance(result, InvalidAlert) or result.field
