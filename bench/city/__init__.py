"""A whole city's year on PostgreSQL (issue 13 item 7): `python -m bench.city --residents N`.

Residents, activities, participations with their hours, scoring decisions and the ledger's
award transfers, redemptions, expiries, gifts to the community pools and their allocation to
low-income residents, flagged records, fraud cases and clawbacks are written with COPY;
every decision comes from the real pure modules (`scoring.rules.compute_award` under the rule
set in force with the monthly cap tracked per resident-month, `kit.clock.expiry_instant`,
`rewards.rules.refusal`, `fraud.assess`, `ledger.debts.plan_take`, `identity.idcard`, the PII
cipher, `ledger.chain.entry_hash`). Then the REAL sequencer puts every entry in the Merkle
logs and the REAL insights rebuild fills the rollups. See bench/notes.md, "City-year
generator".
"""
