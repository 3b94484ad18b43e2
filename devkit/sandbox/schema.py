"""The sandbox org's data model: which sObjects and fields exist, their types and rules.

Only the objects and fields the router (and a realistic demo) touch are modelled. Field
names are matched case-insensitively, as in Salesforce; the canonical spelling is the
one declared here and is what the API returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from worker.sfdc.ids import KEY_PREFIXES

TEXT_TYPES = frozenset({"string", "email", "url", "phone", "textarea", "picklist", "multipicklist"})
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # id string email url phone textarea picklist multipicklist boolean int double currency date datetime reference
    label: str = ""
    refs: tuple[str, ...] = ()  # referenceTo
    relationship: str | None = None  # relationshipName (Owner, Account, Who...)
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    custom: bool = False
    length: int = 255
    picklist: tuple[str, ...] = ()
    restricted: bool = False


@dataclass(frozen=True)
class SObject:
    name: str
    fields: tuple[Field, ...]
    required: tuple[str, ...] = ()  # required on create (nillable=false, no default)
    by_lower: dict[str, Field] = field(default_factory=dict, compare=False, repr=False)
    rel_by_lower: dict[str, Field] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.by_lower.update({f.name.lower(): f for f in self.fields})
        self.rel_by_lower.update({f.relationship.lower(): f for f in self.fields if f.relationship})

    @property
    def key_prefix(self) -> str:
        return KEY_PREFIXES[self.name]

    def field(self, name: str) -> Field | None:
        return self.by_lower.get(name.lower())

    def relationship(self, name: str) -> Field | None:
        return self.rel_by_lower.get(name.lower())


def _ro(name: str, type_: str, **kw: object) -> Field:
    return Field(name, type_, createable=False, updateable=False, **kw)  # type: ignore[arg-type]


def _system(owner_refs: tuple[str, ...] | None = ("User",)) -> tuple[Field, ...]:
    fields = [
        _ro("Id", "id", nillable=False, length=18),
        _ro("IsDeleted", "boolean", nillable=False),
        _ro("CreatedDate", "datetime", nillable=False),
        _ro("CreatedById", "reference", refs=("User",), relationship="CreatedBy", nillable=False),
        _ro("LastModifiedDate", "datetime", nillable=False),
        _ro("LastModifiedById", "reference", refs=("User",), relationship="LastModifiedBy"),
        _ro("SystemModstamp", "datetime", nillable=False),
    ]
    if owner_refs:
        fields.append(
            Field("OwnerId", "reference", refs=owner_refs, relationship="Owner", nillable=False)
        )
    return tuple(fields)


LEAD_STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
)
LEAD_SOURCES = (
    "Web",
    "Phone Inquiry",
    "Partner Referral",
    "Purchased List",
    "Trade Show",
    "Webinar",
    "Other",
)
INDUSTRIES = (
    "Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications",
    "Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering",
    "Entertainment", "Finance", "Food & Beverage", "Government", "Healthcare", "Hospitality",
    "Insurance", "Machinery", "Media", "Not For Profit", "Recreation", "Retail", "Shipping",
    "Technology", "Telecommunications", "Transportation", "Utilities", "Other",
)  # fmt: skip
RATINGS = ("Hot", "Warm", "Cold")
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
OPP_STAGES = (
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
    "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost",
)  # fmt: skip

LEAD = SObject(
    "Lead",
    _system(("Group", "User"))
    + (
        Field("Salutation", "picklist", picklist=("Mr.", "Ms.", "Mrs.", "Dr.", "Prof."), length=40),
        Field("FirstName", "string", length=40),
        Field("LastName", "string", length=80, nillable=False),
        _ro("Name", "string", length=121),
        Field("Title", "string", length=128),
        Field("Company", "string", nillable=False),
        Field("Email", "email", length=80),
        Field("Website", "url"),
        Field("Phone", "phone", length=40),
        Field("MobilePhone", "phone", length=40),
        Field("Street", "textarea"),
        Field("City", "string", length=40),
        Field("State", "string", length=80),
        Field("PostalCode", "string", length=20),
        Field("Country", "string", length=80),
        Field("Industry", "picklist", picklist=INDUSTRIES, length=255),
        Field("NumberOfEmployees", "int"),
        Field("AnnualRevenue", "currency"),
        Field("LeadSource", "picklist", picklist=LEAD_SOURCES),
        Field("Rating", "picklist", picklist=RATINGS),
        Field("Status", "picklist", picklist=LEAD_STATUSES, restricted=True, nillable=False),
        Field("Description", "textarea", length=32000),
        Field("IsUnreadByOwner", "boolean", nillable=False),
        _ro("IsConverted", "boolean", nillable=False),
        _ro("ConvertedDate", "date"),
        _ro("ConvertedAccountId", "reference", refs=("Account",), relationship="ConvertedAccount"),
        _ro("ConvertedContactId", "reference", refs=("Contact",), relationship="ConvertedContact"),
        _ro("LastActivityDate", "date"),
        Field("Routing_Reason__c", "string", label="Routing Reason", custom=True),
    ),
    required=("LastName", "Company"),
)

USER = SObject(
    "User",
    _system(None)
    + (
        Field("Username", "string", length=80, nillable=False),
        Field("FirstName", "string", length=40),
        Field("LastName", "string", length=80, nillable=False),
        _ro("Name", "string", length=121),
        Field("Alias", "string", length=8),
        Field("Email", "email", length=128, nillable=False),
        Field("Title", "string", length=80),
        Field("Department", "string", length=80),
        Field("IsActive", "boolean", nillable=False),
        Field("UserType", "picklist", picklist=("Standard", "AutomatedProcess"), updateable=False),
        Field("TimeZoneSidKey", "picklist", length=40, nillable=False),
        Field("LanguageLocaleKey", "picklist", length=40),
        Field("ManagerId", "reference", refs=("User",), relationship="Manager"),
        Field("Languages__c", "multipicklist", label="Languages", custom=True, length=4099),
    ),
    required=("Username", "LastName", "Email"),
)

GROUP = SObject(
    "Group",
    _system(("User",))
    + (
        Field("Name", "string", length=40, nillable=False),
        Field("DeveloperName", "string", length=80, nillable=False),
        Field("Type", "picklist", picklist=("Queue", "Regular"), updateable=False, nillable=False),
        Field("Email", "email"),
    ),
    required=("Name", "Type"),
)

ACCOUNT = SObject(
    "Account",
    _system()
    + (
        Field("Name", "string", nillable=False),
        Field("Website", "url"),
        Field("Phone", "phone", length=40),
        Field(
            "Type",
            "picklist",
            picklist=("Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other"),
        ),
        Field("Industry", "picklist", picklist=INDUSTRIES),
        Field("NumberOfEmployees", "int"),
        Field("AnnualRevenue", "currency"),
        Field("BillingStreet", "textarea"),
        Field("BillingCity", "string", length=40),
        Field("BillingState", "string", length=80),
        Field("BillingPostalCode", "string", length=20),
        Field("BillingCountry", "string", length=80),
        _ro("LastActivityDate", "date"),
        # set on the records a merge deleted: the surviving account
        _ro("MasterRecordId", "reference", refs=("Account",), relationship="MasterRecord"),
    ),
    required=("Name",),
)

CONTACT = SObject(
    "Contact",
    _system()
    + (
        Field("AccountId", "reference", refs=("Account",), relationship="Account"),
        Field("FirstName", "string", length=40),
        Field("LastName", "string", length=80, nillable=False),
        _ro("Name", "string", length=121),
        Field("Title", "string", length=128),
        Field("Email", "email", length=80),
        Field("Phone", "phone", length=40),
        Field("MailingCountry", "string", length=80),
        _ro("LastActivityDate", "date"),
    ),
    required=("LastName",),
)

OPPORTUNITY = SObject(
    "Opportunity",
    _system()
    + (
        Field("AccountId", "reference", refs=("Account",), relationship="Account"),
        Field("Name", "string", length=120, nillable=False),
        Field("StageName", "picklist", picklist=OPP_STAGES, nillable=False),
        Field("CloseDate", "date", nillable=False),
        Field("Amount", "currency"),
        _ro("IsClosed", "boolean", nillable=False),
        _ro("IsWon", "boolean", nillable=False),
        _ro("LastActivityDate", "date"),
    ),
    required=("Name", "StageName", "CloseDate"),
)

TASK = SObject(
    "Task",
    _system()
    + (
        Field("WhoId", "reference", refs=("Contact", "Lead"), relationship="Who"),
        Field("WhatId", "reference", refs=("Account", "Opportunity"), relationship="What"),
        Field("Subject", "string", length=255),
        Field("Status", "picklist", picklist=TASK_STATUSES, nillable=False),
        Field("Priority", "picklist", picklist=("High", "Normal", "Low"), nillable=False),
        Field("Type", "picklist", picklist=("Call", "Email", "Meeting", "Other")),
        Field("ActivityDate", "date"),
        Field("Description", "textarea", length=32000),
        _ro("IsClosed", "boolean", nillable=False),
    ),
    required=(),
)

# which sObjects a queue may own ("QueueSobject": Id, QueueId, SobjectType, CreatedById,
# SystemModstamp; not updateable)
QUEUE_SOBJECT = SObject(
    "QueueSobject",
    (
        _ro("Id", "id", nillable=False, length=18),
        Field("QueueId", "reference", refs=("Group",), relationship="Queue", nillable=False,
              updateable=False),
        Field("SobjectType", "picklist", picklist=("Lead", "Case"), nillable=False,
              updateable=False, length=40),
        _ro("CreatedById", "reference", refs=("User",), relationship="CreatedBy", nillable=False),
        _ro("SystemModstamp", "datetime", nillable=False),
    ),
    required=("QueueId", "SobjectType"),
)  # fmt: skip

# Setup's assignment rules (read-only through the API)
ASSIGNMENT_RULE = SObject(
    "AssignmentRule",
    _system(None)
    + (
        _ro("Name", "string", length=120, nillable=False),
        _ro("SobjectType", "picklist", picklist=("Case", "Lead"), length=40),
        _ro("Active", "boolean", nillable=False),
    ),
)

SOBJECTS: dict[str, SObject] = {
    o.name: o
    for o in (
        LEAD,
        USER,
        GROUP,
        ACCOUNT,
        CONTACT,
        OPPORTUNITY,
        TASK,
        QUEUE_SOBJECT,
        ASSIGNMENT_RULE,
    )
}
_BY_LOWER = {name.lower(): obj for name, obj in SOBJECTS.items()}


def sobject(name: str) -> SObject | None:
    """Look an sObject up by API name, case-insensitively."""
    return _BY_LOWER.get(name.lower())
