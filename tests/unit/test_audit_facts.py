"""The pure parts of audit and of the data export: what a row names, how a page escapes."""

from __future__ import annotations

import uuid

from civicpoints.audit.facts import audited, clip, subject_of, target_ids
from civicpoints.privacy.export import to_html


def test_only_staff_writes_are_audited_by_the_hook() -> None:
    """Reads and residents' own acts are not staff actions."""
    assert audited("POST", "staff") and audited("delete", "staff") and audited("PATCH", "staff")
    assert not audited("GET", "staff") and not audited("HEAD", "staff")
    assert not audited("POST", "resident") and not audited("POST", None)


def test_targets_keep_ids_and_leave_out_codes() -> None:
    """A voucher code in the path is not written to the log; UUIDs are."""
    rid = uuid.uuid4()
    params = {"code": "ABCD-EFGH-JKMN-PQRS-TVWX", "redemption_id": str(rid)}
    assert target_ids(params) == (str(rid),)
    assert subject_of({"resident_id": str(rid)}) == rid
    assert subject_of({"resident_id": "nope"}) is None and subject_of({}) is None


def test_clip_drops_control_characters_and_cuts() -> None:
    """A user agent is the client's free text: printable, at most the limit."""
    assert clip("a\x00b\nc" + "x" * 200, 10) == "abc" + "x" * 7
    assert clip(None, 5) == ""


def test_export_page_escapes_every_value() -> None:
    """Markup in a value is shown as text, never run."""
    page = to_html({"profile": {"name": "<script>alert(1)</script>"}, "vouchers": []})
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "无 / none" in page and "个人资料 / Profile" in page
