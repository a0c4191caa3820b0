"""The append-only audit log: every staff action, every view of unmasked personal data."""

from civicpoints.audit.hook import AuditHook, request_facts
from civicpoints.audit.service import AuditEntry, AuditFacts, AuditQuery, AuditService

__all__ = [
    "AuditEntry",
    "AuditFacts",
    "AuditHook",
    "AuditQuery",
    "AuditService",
    "request_facts",
]
