"""A resident's rights under PIPL: their data, consent withdrawal, deletion (docs/privacy.md)."""

from civicpoints.privacy.export import to_html
from civicpoints.privacy.service import PrivacyService

__all__ = ["PrivacyService", "to_html"]
