"""Authority: the live facts about a person, put to the one policy in `domain.authority`.

Every surface asks this (the CommandRegistry, the StatusUpdateGate, the console) instead of
deciding by itself. The facts are read from the Directory on each call, so adding or removing
someone (or an approver) in the roster takes effect as soon as the roster is reloaded.
"""

from __future__ import annotations

from collections.abc import Sequence

from incident_response.domain.authority import (
    Action,
    Actor,
    AuthorityDecision,
    decide,
    normalised,
)
from incident_response.domain.errors import IncidentResponseError
from incident_response.domain.incident import Incident
from incident_response.ports import Directory


class NotPermitted(IncidentResponseError):
    """The person may not do this; `reasons` say who may (HTTP 403). Nothing was changed."""

    def __init__(self, reasons: Sequence[str], *, prefix: str = "not permitted") -> None:
        self.reasons = tuple(reasons)
        super().__init__(f"{prefix}: " + "; ".join(self.reasons))


class Authority:
    def __init__(self, *, directory: Directory) -> None:
        self._directory = directory

    async def approvers(self) -> frozenset[str]:
        return await self._directory.approvers()

    async def actor(self, email: str) -> Actor:
        """Who `email` is right now: in the roster or not, an approver or not."""
        if not normalised(email):
            return Actor(email=email, in_roster=False)
        person = await self._directory.person(email)
        approvers = await self._directory.approvers()
        return Actor(
            email=email,
            in_roster=person is not None,
            approver=normalised(email) in {normalised(a) for a in approvers},
        )

    async def decide(
        self, action: Action, incident: Incident | None, email: str, *, target: str | None = None
    ) -> AuthorityDecision:
        return decide(action, incident, await self.actor(email), target=target)

    async def allowed(self, incident: Incident | None, email: str) -> dict[str, bool]:
        """Every action by name (`may.resolve`, ...) -> whether `email` may take it: what a page
        offers. Names are the Action members in lower case."""
        actor = await self.actor(email)
        return {a.name.lower(): decide(a, incident, actor).allowed for a in Action}

    async def require(
        self, action: Action, incident: Incident | None, email: str, *, target: str | None = None
    ) -> None:
        """Raise NotPermitted with the policy's reasons unless `email` may take `action`."""
        decision = await self.decide(action, incident, email, target=target)
        if not decision.allowed:
            raise NotPermitted(decision.reasons)
