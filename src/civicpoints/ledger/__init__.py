"""The points ledger's public surface: what other domains use (DESIGN.md §3, §5).

Other domains import from here, not from the ledger's modules: the services, the value types
they take and return, and the errors they raise. Tables, repositories and the verification
machinery stay inside."""

from civicpoints.ledger.accounts import (
    education_intake_of,
    education_of,
    pool_of,
    savings_of,
    team_pool_of,
    wallet_of,
)
from civicpoints.ledger.carry import CarriedLot, CarryRequest, CarryResult
from civicpoints.ledger.chain import account_id_for
from civicpoints.ledger.clawback import (
    ClawbackRequest,
    ClawbackResult,
    RestoreRequest,
    RestoreResult,
)
from civicpoints.ledger.coverage import CheckpointBehind, Coverage, checkpoint_coverage
from civicpoints.ledger.errors import (
    AlreadyRestored,
    AwardNotFound,
    ClawbackNotFound,
    ClawbackTooLarge,
    HoldNotPending,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidAmount,
    LedgerNotInitialized,
)
from civicpoints.ledger.feed import FlowRow, flows_between, flows_of, flows_recorded
from civicpoints.ledger.flows import MonthFlows
from civicpoints.ledger.holds import HoldRequest, HoldService, Resolution
from civicpoints.ledger.journal import Movement, Posting
from civicpoints.ledger.keys import (
    load_or_create_signer,
    load_verifier,
    log_signer,
    open_rotation,
    prepare_rotation,
    remember_retired,
    retired_verifiers,
    rotation_note_path,
    rotation_statement,
    switch_to_next,
)
from civicpoints.ledger.models import Entry, Hold, Lot, SigningKey
from civicpoints.ledger.note import Checkpoint, NoteError, Signer, Verifier, open_note, sign_note
from civicpoints.ledger.proofs import EntryNotFound, ProofService, entry_fields
from civicpoints.ledger.receipt import entry_to_json, verify_receipt
from civicpoints.ledger.sequencer import Backlog, note_body, sequencer_backlog
from civicpoints.ledger.service import CreditRequest, ExpiryReport, LedgerService
from civicpoints.ledger.tasks import record_rotation
from civicpoints.ledger.verify import VerifyReport, verify_ledger
from civicpoints.ledger.witness import cosign_latest

__all__ = [
    "AlreadyRestored",
    "AwardNotFound",
    "Backlog",
    "CarriedLot",
    "CarryRequest",
    "CarryResult",
    "Checkpoint",
    "CheckpointBehind",
    "ClawbackNotFound",
    "ClawbackRequest",
    "ClawbackResult",
    "ClawbackTooLarge",
    "Coverage",
    "CreditRequest",
    "Entry",
    "EntryNotFound",
    "ExpiryReport",
    "FlowRow",
    "Hold",
    "HoldNotPending",
    "HoldRequest",
    "HoldService",
    "IdempotencyConflict",
    "InsufficientPoints",
    "InvalidAmount",
    "LedgerNotInitialized",
    "LedgerService",
    "Lot",
    "MonthFlows",
    "Movement",
    "NoteError",
    "Posting",
    "ProofService",
    "Resolution",
    "RestoreRequest",
    "RestoreResult",
    "Signer",
    "SigningKey",
    "Verifier",
    "VerifyReport",
    "account_id_for",
    "checkpoint_coverage",
    "cosign_latest",
    "education_intake_of",
    "education_of",
    "entry_fields",
    "entry_to_json",
    "flows_between",
    "flows_of",
    "flows_recorded",
    "load_or_create_signer",
    "load_verifier",
    "log_signer",
    "note_body",
    "open_note",
    "open_rotation",
    "pool_of",
    "prepare_rotation",
    "record_rotation",
    "remember_retired",
    "retired_verifiers",
    "rotation_note_path",
    "rotation_statement",
    "savings_of",
    "sequencer_backlog",
    "sign_note",
    "switch_to_next",
    "team_pool_of",
    "verify_ledger",
    "verify_receipt",
    "wallet_of",
]
