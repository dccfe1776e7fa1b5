"""An alert's annotations kept: its links (runbook, dashboard, panel) and its words (summary,
description), from Alertmanager's `annotations` and the fields Grafana-managed alerts add.

Annotations are where the people who wrote the alert rule left what a responder needs first.
A value that is a web address becomes a link (bookmarked in the room), any other a text shown in
the room's brief. Each text is one line of at most `ANNOTATION_CHARS`, so a long description
cannot flood the brief.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from incident_response.domain.text import clean_line, shortened

ANNOTATION_CHARS = 1000
# Grafana-managed alerts carry their dashboard and panel beside the annotations, not in them
GRAFANA_LINK_FIELDS: Mapping[str, str] = {"dashboardURL": "dashboard", "panelURL": "panel"}


def web_address(text: str) -> bool:
    """Whether `text` is one http(s) address a browser can open."""
    if not text or any(c.isspace() for c in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def split_annotations(
    annotations: Mapping[str, str], grafana_fields: Mapping[str, str | None] | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """(links, texts): web addresses by their annotation name (`runbook_url`) or Grafana's
    field name (`dashboard`), and the other annotations as one-line texts. Empty values go."""
    links: dict[str, str] = {}
    texts: dict[str, str] = {}
    for name, value in annotations.items():
        value = value.strip()
        if web_address(value):
            links[name] = value
        elif line := clean_line(value):
            texts[name] = shortened(line, ANNOTATION_CHARS)
    for field, name in GRAFANA_LINK_FIELDS.items():
        url = ((grafana_fields or {}).get(field) or "").strip()
        if web_address(url):
            links.setdefault(name, url)
    return links, texts
