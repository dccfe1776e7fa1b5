"""What the public may read about an incident: names fit for a status page.

Alert titles and service labels are written for engineers and can carry hostnames, pods or
addresses; anything customers see is derived here, conservatively, or comes from approved text.
"""

from __future__ import annotations

import re

from incident_response.domain.alert import Severity
from incident_response.domain.incident import Incident

ACRONYMS = frozenset({"api", "ui", "sso", "cdn", "dns", "sms", "ci", "id", "vpn"})
PLAIN_WORD = re.compile(r"^(?:[a-z]+|v\d+)$", re.IGNORECASE)

DISRUPTION = {
    Severity.P1: "Major outage",
    Severity.P2: "Partial outage",
    Severity.P3: "Degraded performance",
    Severity.P4: "Minor issue",
}


def public_service_name(service: str) -> str | None:
    """The service as customers may read it, or None when the name looks internal.

    `checkout` -> `Checkout`, `payments-api` -> `Payments API`; anything with dots, slashes,
    colons, `@` or digits (hostnames, pods, addresses) is withheld.
    """
    words = [w for w in re.split(r"[-_\s]+", service.strip()) if w]
    if not words or service.strip().lower() == "unknown":
        return None
    if not all(PLAIN_WORD.match(w) for w in words):
        return None
    return " ".join(w.upper() if w.lower() in ACRONYMS else w.capitalize() for w in words)


def public_incident_name(incident: Incident) -> str:
    """The public incident's name: the impact and the service, never the alert's title."""
    service = public_service_name(incident.service)
    impact = DISRUPTION[incident.severity]
    return f"{impact}: {service}" if service else impact


def public_components(incident: Incident) -> tuple[str, ...]:
    """The status-page components affected: the service under its public name, if it has one."""
    service = public_service_name(incident.service)
    return (service,) if service else ()
