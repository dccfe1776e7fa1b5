"""The built-in drafter against the LLM suite."""

from __future__ import annotations

import pytest

from incident_response.adapters.embedded.drafter import BuiltinDrafter
from tests.contract.llm_suite import LLMContract
from tests.support.clock import ManualClock


class TestBuiltinDrafter(LLMContract):
    @pytest.fixture
    def llm(self, clock: ManualClock) -> BuiltinDrafter:
        return BuiltinDrafter(clock=clock)
