"""The checks behind `civicpoints ledger verify` (entry point: `civicpoints.ledger.verify`)."""
