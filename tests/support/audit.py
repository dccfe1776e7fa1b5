"""The audit key tests seal and verify with (serve reads it from the environment or data dir)."""

from __future__ import annotations

from incident_response.domain.audit import AuditKey

AUDIT_KEY = AuditKey(b"tests-audit-key-0123456789abcdef")
OTHER_KEY = AuditKey(b"someone-elses-key-0123456789abcd")
