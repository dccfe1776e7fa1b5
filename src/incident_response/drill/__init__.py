"""Drills from outside: `incident-response drill` times a synthetic alert's walk to an assembled
war room on a deployment and cleans up after itself; `incident-response observe` follows one
incident live. Both use only the deployment's webhook and JSON API, as an operator would."""

from incident_response.drill.api import DrillError, checked_base
from incident_response.drill.observe import observe
from incident_response.drill.run import STAGES, DrillResult, StageTime, run_drill

__all__ = [
    "STAGES",
    "DrillError",
    "DrillResult",
    "StageTime",
    "checked_base",
    "observe",
    "run_drill",
]
