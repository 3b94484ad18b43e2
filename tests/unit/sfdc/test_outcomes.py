"""Salesforce's answers to an owner write, read into the worker's kinds in one place."""

from __future__ import annotations

import pytest

from worker.sfdc import mapping
from worker.sfdc.ids import is_user_id
from worker.sfdc.outcomes import KIND_BY_CODE, WriteKind, code_of, kind_of


def refused(code: str, message: str = "m") -> mapping.WriteResult:
    """A per-record sObject Collections refusal (errors carry ``statusCode``)."""
    errors = [{"statusCode": code, "message": message}]
    return mapping.write_result("00QA", {"success": False, "errors": errors})


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("UNABLE_TO_LOCK_ROW", WriteKind.LOCKED),
        ("INACTIVE_OWNER_OR_USER", WriteKind.OWNER_INACTIVE),
        ("CANNOT_UPDATE_CONVERTED_LEAD", WriteKind.CONVERTED),
        ("ENTITY_IS_DELETED", WriteKind.DELETED),
        ("FIELD_CUSTOM_VALIDATION_EXCEPTION", WriteKind.REJECTED),
    ],
)
def test_a_collections_refusal_is_read_into_its_kind(code: str, kind: WriteKind) -> None:
    assert refused(code).kind is kind


def test_a_written_record_is_written_and_a_412_is_an_owner_changed() -> None:
    assert mapping.write_result("00QA", {"success": True}).kind is WriteKind.WRITTEN
    entry = {"httpStatusCode": 412, "body": [{"errorCode": "X", "message": "modified"}]}
    assert mapping.subrequest_result("00QA", entry).kind is WriteKind.OWNER_CHANGED
    ok = mapping.subrequest_result("00QA", {"httpStatusCode": 204, "body": None})
    assert ok.kind is WriteKind.WRITTEN


def test_a_rejection_names_salesforces_code_and_message_for_the_journal() -> None:
    result = refused("FIELD_CUSTOM_VALIDATION_EXCEPTION", "Region is required")
    assert result.reason == "FIELD_CUSTOM_VALIDATION_EXCEPTION: Region is required"
    nameless = mapping.write_result("00QA", {"success": False, "errors": []})
    assert (nameless.kind, nameless.code) == (WriteKind.REJECTED, "UNKNOWN")


def test_every_kind_but_written_and_rejected_has_its_code() -> None:
    named = set(WriteKind) - {WriteKind.WRITTEN, WriteKind.REJECTED}
    assert set(KIND_BY_CODE.values()) == named
    assert all(kind_of(code_of(kind)) is kind for kind in named)


def test_a_user_id_is_told_from_a_queue_id() -> None:
    assert is_user_id("0055e000001XyZ1AAK")
    assert not is_user_id("00G5e000000QueUEAA") and not is_user_id("")
