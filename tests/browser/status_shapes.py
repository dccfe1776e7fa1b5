"""The public status JSON's shape: Statuspage's public API v2 documents (DESIGN.md), with each
incident, update and component also checked against the types, enums and date-times Statuspage
documents for those objects (tests/vendor/statuspage/public-shapes.yaml).

Returns a list of problems (empty when the document conforms), so a failing test names them all.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

import yaml

from tests.vendor import vendor_file

# the keys Statuspage's public v2 documents always carry (null when not applicable)
PAGE_KEYS = {"id", "name", "url", "time_zone", "updated_at"}
STATUS_KEYS = {"indicator", "description"}
INDICATORS = {"none", "minor", "major", "critical"}
INCIDENT_KEYS = {
    "id",
    "name",
    "status",
    "impact",
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "started_at",
    "shortlink",
    "page_id",
    "incident_updates",
    "components",
}
UPDATE_KEYS = {"id", "status", "body", "incident_id", "created_at", "updated_at", "display_at"}
COMPONENT_KEYS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "group_id",
    "page_id",
    "group",
    "only_show_if_degraded",
}
TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "number": (int, float),
}


@cache
def vendor_schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = yaml.safe_load(
        vendor_file("statuspage/public-shapes.yaml").read_text()
    )
    return schemas


def utc_time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    offset = parsed.utcoffset()
    return offset is not None and offset.total_seconds() == 0


def against_vendor(obj: dict[str, Any], schema_name: str, where: str) -> list[str]:
    """Each present, non-null property has the vendor schema's type, enum and format."""
    problems: list[str] = []
    properties = vendor_schemas()[schema_name]
    for key, value in obj.items():
        spec = properties.get(key)
        if spec is None or value is None:
            continue
        expected = TYPES.get(spec.get("type", ""), (object,))
        if spec.get("type") != "boolean" and isinstance(value, bool) and bool not in expected:
            problems.append(f"{where}.{key}: boolean where {spec['type']} is expected")
        elif not isinstance(value, expected):
            problems.append(f"{where}.{key}: {type(value).__name__}, not {spec.get('type')}")
        if "enum" in spec and value not in spec["enum"]:
            problems.append(f"{where}.{key}: {value!r} is not one of {spec['enum']}")
        if spec.get("format") == "date-time" and not utc_time(value):
            problems.append(f"{where}.{key}: {value!r} is not an ISO 8601 UTC time")
    return problems


def missing(obj: Any, keys: set[str], where: str) -> list[str]:
    if not isinstance(obj, dict):
        return [f"{where}: {type(obj).__name__}, not an object"]
    return [f"{where}: missing {key}" for key in sorted(keys - obj.keys())]


def page_problems(doc: dict[str, Any]) -> list[str]:
    problems = missing(doc.get("page"), PAGE_KEYS, "page")
    if not problems and not utc_time(doc["page"]["updated_at"]):
        problems.append("page.updated_at: not an ISO 8601 UTC time")
    return problems


def component_problems(component: Any, where: str) -> list[str]:
    return missing(component, COMPONENT_KEYS, where) or against_vendor(
        component, "Component", where
    )


def incident_problems(incident: Any, where: str) -> list[str]:
    problems = missing(incident, INCIDENT_KEYS, where)
    if problems:
        return problems
    problems += against_vendor(incident, "Incident", where)
    for i, update in enumerate(incident["incident_updates"]):
        at = f"{where}.incident_updates[{i}]"
        found = missing(update, UPDATE_KEYS, at) or against_vendor(update, "IncidentUpdate", at)
        problems += found
        if not found and update["incident_id"] != incident["id"]:
            problems.append(f"{at}.incident_id: {update['incident_id']} is not {incident['id']}")
    for i, component in enumerate(incident["components"]):
        problems += component_problems(component, f"{where}.components[{i}]")
    return problems


def summary_problems(doc: dict[str, Any]) -> list[str]:
    problems = page_problems(doc)
    problems += missing(doc.get("status"), STATUS_KEYS, "status")
    if isinstance(doc.get("status"), dict) and doc["status"].get("indicator") not in INDICATORS:
        problems.append(f"status.indicator: {doc['status'].get('indicator')!r}")
    for key in ("components", "incidents", "scheduled_maintenances"):
        if not isinstance(doc.get(key), list):
            problems.append(f"{key}: not a list")
    if problems:
        return problems
    for i, component in enumerate(doc["components"]):
        problems += component_problems(component, f"components[{i}]")
    for i, incident in enumerate(doc["incidents"]):
        problems += incident_problems(incident, f"incidents[{i}]")
    return problems


def incidents_problems(doc: dict[str, Any]) -> list[str]:
    problems = page_problems(doc)
    if not isinstance(doc.get("incidents"), list):
        return [*problems, "incidents: not a list"]
    for i, incident in enumerate(doc["incidents"]):
        problems += incident_problems(incident, f"incidents[{i}]")
    return problems
