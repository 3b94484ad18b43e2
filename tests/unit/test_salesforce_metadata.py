"""config/salesforce/ is a deployable sfdx project whose permission set grants exactly
what the worker reads and writes: checked against the worker's own field lists, so a field
the worker starts reading without a grant fails here, not in a customer's org."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from worker.config_source import load_config_file
from worker.jobs.fields import lead_fields
from worker.sfdc import soql

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "config" / "salesforce"
PERMSET = (
    PROJECT / "force-app/main/default/permissionsets/Leadrouter_Integration.permissionset-meta.xml"
)
NS = {"md": "http://soap.sforce.com/2006/04/metadata"}

# fields Salesforce gives no field-level security (required or system fields): a
# fieldPermissions entry for one of them fails the deploy; object access covers them
NO_FLS = {
    "Lead": {"Id", "OwnerId", "Status", "IsConverted", "CreatedDate", "SystemModstamp",
             "LastActivityDate", "FirstName", "LastName", "Company", "Name"},
    "Account": {"Id", "Name", "OwnerId", "LastActivityDate", "SystemModstamp"},
    "Contact": {"Id", "OwnerId", "LastName", "Name"},
}  # fmt: skip
# address parts are granted through their compound address field
LEAD_ADDRESS = ("Street", "City", "State", "StateCode", "PostalCode", "Country", "CountryCode")
COMPOUND = {
    "Lead": dict.fromkeys(LEAD_ADDRESS, "Address"),
    "Account": {f"Billing{f}": "BillingAddress" for f in LEAD_ADDRESS if "Code" not in f},
}


def permset() -> ET.Element:
    return ET.parse(PERMSET).getroot()  # noqa: S314 - our own file


def objects() -> dict[str, dict[str, bool]]:
    return {
        op.findtext("md:object", namespaces=NS) or "": {
            child.tag.split("}")[1]: child.text == "true" for child in op if child.tag != "object"
        }
        for op in permset().findall("md:objectPermissions", NS)
    }


def fields() -> dict[str, tuple[bool, bool]]:
    """``Object.Field`` -> (readable, editable)."""
    return {
        fp.findtext("md:field", namespaces=NS) or "": (
            fp.findtext("md:readable", namespaces=NS) == "true",
            fp.findtext("md:editable", namespaces=NS) == "true",
        )
        for fp in permset().findall("md:fieldPermissions", NS)
    }


def user_permissions() -> set[str]:
    return {
        up.findtext("md:name", namespaces=NS) or ""
        for up in permset().findall("md:userPermissions", NS)
        if up.findtext("md:enabled", namespaces=NS) == "true"
    }


def grant_for(obj: str, field: str) -> str | None:
    """The fieldPermissions entry that makes ``obj.field`` readable (None: needs none)."""
    if field in NO_FLS.get(obj, set()) or "." in field:  # Owner.IsActive: a relationship
        return None
    return f"{obj}.{COMPOUND.get(obj, {}).get(field, field)}"


def test_the_project_is_sfdx_source_format_with_the_permission_set_in_its_package() -> None:
    project = json.loads((PROJECT / "sfdx-project.json").read_text())
    (package,) = project["packageDirectories"]
    assert PERMSET.is_relative_to(PROJECT / package["path"])
    assert PERMSET.parent.name == "permissionsets"
    assert float(project["sourceApiVersion"]) >= 59.0
    assert permset().tag == "{http://soap.sforce.com/2006/04/metadata}PermissionSet"
    assert permset().findtext("md:label", namespaces=NS) == "Leadrouter Integration"


def test_leads_are_read_and_edited_and_transferred_never_created_or_deleted() -> None:
    lead = objects()["Lead"]
    assert lead["allowRead"] and lead["allowEdit"] and lead["viewAllRecords"]
    assert not (lead["allowCreate"] or lead["allowDelete"] or lead["modifyAllRecords"])
    assert {"ApiEnabled", "TransferAnyLead", "ActivitiesAccess"} <= user_permissions()
    for name in ("Account", "Contact"):
        granted = objects()[name]
        assert granted["allowRead"] and granted["viewAllRecords"], name
        assert not any(granted[k] for k in ("allowCreate", "allowEdit", "allowDelete")), name


def test_no_entry_names_a_field_salesforce_gives_no_field_level_security() -> None:
    for name in fields():
        obj, field = name.split(".")
        assert field not in NO_FLS.get(obj, set()), f"{name}: deploy would fail"
        assert fields()[name] == (True, False), f"{name}: read-only, the worker writes OwnerId"


@pytest.mark.parametrize(
    ("obj", "wanted"),
    [
        ("Lead", "lead_fields"),
        ("Account", soql.ACCOUNT_FIELDS),
        ("Contact", "Id, Email, AccountId, OwnerId"),
    ],
)
def test_every_field_the_worker_reads_is_readable(obj: str, wanted: str) -> None:
    if wanted == "lead_fields":  # the demo config reads the usual routing fields
        config = load_config_file(ROOT / "config" / "routing.yaml").routing
        names = list(lead_fields(config))
    else:
        names = [n.strip() for n in wanted.split(",")]
    missing = [
        grant
        for grant in (grant_for(obj, n) for n in names)
        if grant is not None and not fields().get(grant, (False, False))[0]
    ]
    assert missing == [], f"the worker reads these without a grant: {missing}"


def test_the_contact_query_reads_what_the_test_expects() -> None:
    """Keeps the Contact list above honest: it is what soql asks for."""
    (query,) = soql.contacts_queries(["a@b.example"])
    assert query.startswith("SELECT Id, Email, AccountId, OwnerId FROM Contact")


def test_the_guide_has_the_doctor_section_and_its_links_resolve() -> None:
    import re

    guide = ROOT / "docs" / "connect-a-real-org.md"
    text = guide.read_text()
    assert "## 5. Check with doctor" in text and "(doctor.md)" in text
    assert "Leadrouter_Integration" in text and "sf project deploy start" in text
    assert "SELECT DeveloperName, Name FROM Group WHERE Type = 'Queue'" in text
    for target in re.findall(r"\]\((\.\./[^)#]+|[\w-]+\.md)\)", text):
        assert (guide.parent / target).resolve().exists(), target
