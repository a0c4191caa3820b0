"""A resident's rights under PIPL: their data, consent withdrawal, deletion (docs/privacy.md)."""
