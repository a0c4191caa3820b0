"""Risk signals and sanctions in words, for reviewers, administrators and residents.

A record's `flag_notes` ({code: {"zh-CN", "en"}}) say what was measured for that record
("photo taken 3.2 km away"); when a signal has a note, the note is shown, else the
per-code wording here. The codes are the fraud domain's (`DEFAULT_WEIGHTS`).
"""

from __future__ import annotations

from collections.abc import Mapping

from civicpoints.fraud import DEFAULT_WEIGHTS, PolicySettings
from civicpoints.web.pages.kit import Page


def _(text: str) -> str:
    """Mark a string for the catalog; the page translates it where it is shown."""
    return text


# What each signal means, in words for staff (translated on the page).
SIGNALS = {
    "outside_geofence": _("Checked in outside the activity's area"),
    "outside_time_window": _("Checked in outside the activity's time"),
    "checkout_outside_geofence": _("Checked out outside the activity's area"),
    "checkout_outside_time_window": _("Checked out outside the activity's time"),
    "photo_far_from_site": _("The photo's own GPS position is far from the activity"),
    "photo_time_mismatch": _("The photo was taken at another time than the activity"),
    "photo_reused": _("The same photo was already used for another record"),
    "presence_too_short": _("Stayed a shorter time than the rules ask"),
    "photo_near_duplicate": _("The photo is a near copy of one used before (resized or edited)"),
    "photo_edited": _("The photo's data names editing software"),
    "impossible_travel": _("Two positions too far apart for the time between them"),
    "shared_coordinates": _("Several residents reported exactly the same position"),
    "implausible_accuracy": _("The phone reported an implausible position accuracy"),
    "overlapping_records": _("Another record of the resident at the same time"),
    "award_burst": _("Far more awards in a day than usual for the resident and their peers"),
    "shared_device": _("One phone or browser used by many accounts"),
    "venue_code_ok": _("Checked in with the venue's current code (strong sign of presence)"),
}
assert set(SIGNALS) == set(DEFAULT_WEIGHTS), "every signal needs its words"

Notes = Mapping[str, Mapping[str, str]] | None


def words(p: Page, code: str, notes: Notes = None) -> str:
    """A signal in the page's language: what it means, then the record's own note (what was
    measured) when it has one; a code without wording shows its note alone."""
    note = (notes or {}).get(code)
    said = (
        (note.get("en" if p.locale == "en" else "zh-CN") or note.get("zh-CN", "")) if note else ""
    )
    if code not in SIGNALS:
        return said or p._("Another signal (%(code)s)", code=code)
    meaning = p._(SIGNALS[code])
    return f"{meaning}{p._(': ')}{said}" if said else meaning


def weighed(
    p: Page, codes: list[str], notes: Notes, policy: PolicySettings
) -> list[tuple[str, int]]:
    """Each signal in words with the weight the policy gives it, heaviest first."""
    rows = [(words(p, c, notes), policy.weight(c)) for c in codes]
    return sorted(rows, key=lambda row: -row[1])


def sanction(p: Page, kind: str, until: str) -> str:
    """The sanction of a case in words (`until`: the suspension's end, already formatted)."""
    if kind == "warning":
        return p._("Warning")
    if kind == "suspension":
        return p._("Earning points suspended until %(date)s", date=until)
    if kind == "long_suspension":
        return p._("Longer suspension until %(date)s, entered in the credit record", date=until)
    return kind


def similarity(p: Page, bits: int) -> str:
    """How alike two photos are, in words, with the bits their perceptual hashes differ by."""
    if bits == 0:
        return p._("Identical (0 bits apart)")
    if bits == 1:
        return p._("Almost the same (1 bit apart)")
    if bits <= 4:
        return p._("Almost the same (%(n)s bits apart)", n=bits)
    return p._("Very similar (%(n)s bits apart)", n=bits)
