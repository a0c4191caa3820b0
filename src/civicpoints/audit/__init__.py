"""The append-only audit log: every staff action, every view of unmasked personal data."""

from civicpoints.audit.service import AuditEntry, AuditFacts, AuditService

__all__ = ["AuditEntry", "AuditFacts", "AuditService"]
