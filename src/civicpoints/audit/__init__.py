"""The append-only audit log: every staff action, every view of unmasked personal data."""

from civicpoints.audit.hook import AuditHook, request_facts
from civicpoints.audit.service import AuditEntry, AuditFacts, AuditService

__all__ = [
    "AuditEntry",
    "AuditFacts",
    "AuditHook",
    "AuditService",
    "request_facts",
]
