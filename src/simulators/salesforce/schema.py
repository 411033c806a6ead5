"""The standard objects the fake serves: their fields, types and relationships, as describe reports them."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "CURRENCY_OBJECTS",
    "STANDARD_OBJECTS",
    "FieldDef",
    "ObjectDef",
    "object_def",
]

STRINGISH = frozenset({"string", "picklist", "textarea", "email", "phone", "url", "combobox"})
NUMERIC = frozenset({"int", "double", "currency", "percent"})

# Multi-currency orgs add CurrencyIsoCode to these objects; single-currency orgs have no such field.
CURRENCY_OBJECTS = frozenset(
    {"Account", "Opportunity", "OpportunityLineItem", "PricebookEntry", "Product2", "Pricebook2"}
)


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field of an object, with what describe and the SOQL engine need to know about it."""

    name: str
    type: str
    label: str = ""
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    length: int = 0
    picklist: tuple[str, ...] = ()
    required_on_create: bool = False

    @property
    def is_text(self) -> bool:
        return self.type in STRINGISH

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC


@dataclass(frozen=True, slots=True)
class ObjectDef:
    """One sObject: name, key prefix and fields in describe order."""

    name: str
    key_prefix: str
    label_plural: str
    fields: tuple[FieldDef, ...]
    createable: bool = True
    by_lower: dict[str, FieldDef] = field(default_factory=dict, compare=False, repr=False)
    relationships: dict[str, FieldDef] = field(default_factory=dict, compare=False, repr=False)
    field_names: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "field_names", tuple(definition.name for definition in self.fields))
        for definition in self.fields:
            self.by_lower[definition.name.lower()] = definition
            if definition.relationship_name:
                self.relationships[definition.relationship_name.lower()] = definition

    def field_named(self, name: str) -> FieldDef | None:
        return self.by_lower.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        return self.relationships.get(name.lower())


def _id() -> FieldDef:
    return FieldDef("Id", "id", "Record ID", nillable=False, createable=False, updateable=False, length=18)


def _ref(name: str, to: tuple[str, ...], rel: str, *, required: bool = False) -> FieldDef:
    return FieldDef(
        name, "reference", name, to, rel, nillable=not required, length=18, required_on_create=required
    )


def _s(name: str, length: int = 255, *, kind: str = "string", required: bool = False) -> FieldDef:
    return FieldDef(name, kind, name, length=length, nillable=not required, required_on_create=required)


def _pick(name: str, values: tuple[str, ...], *, required: bool = False) -> FieldDef:
    return FieldDef(
        name,
        "picklist",
        name,
        length=255,
        picklist=values,
        nillable=not required,
        required_on_create=required,
    )


def _t(name: str, kind: str, *, required: bool = False, system: bool = False) -> FieldDef:
    return FieldDef(
        name,
        kind,
        name,
        nillable=not required and kind != "boolean",
        createable=not system,
        updateable=not system,
        required_on_create=required,
    )


def _audit(*, deletable: bool = True, owner: bool = True) -> tuple[FieldDef, ...]:
    fields: list[FieldDef] = []
    if owner:
        fields.append(_ref("OwnerId", ("User",), "Owner"))
    if deletable:
        fields.append(_t("IsDeleted", "boolean", system=True))
    system_refs = [
        FieldDef(
            "CreatedById",
            "reference",
            "Created By ID",
            ("User",),
            "CreatedBy",
            createable=False,
            updateable=False,
            length=18,
        ),
        FieldDef(
            "LastModifiedById",
            "reference",
            "Last Modified By ID",
            ("User",),
            "LastModifiedBy",
            createable=False,
            updateable=False,
            length=18,
        ),
    ]
    fields += [
        _t("CreatedDate", "datetime", system=True),
        system_refs[0],
        _t("LastModifiedDate", "datetime", system=True),
        system_refs[1],
        _t("SystemModstamp", "datetime", system=True),
    ]
    return tuple(fields)


INDUSTRIES = (
    "Agriculture",
    "Banking",
    "Biotechnology",
    "Chemicals",
    "Communications",
    "Construction",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Engineering",
    "Finance",
    "Government",
    "Healthcare",
    "Hospitality",
    "Insurance",
    "Manufacturing",
    "Media",
    "Retail",
    "Technology",
    "Transportation",
    "Utilities",
)
STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)

_USER = ObjectDef(
    "User",
    "005",
    "Users",
    (
        _id(),
        _s("Username", 80, required=True),
        FieldDef("Name", "string", "Full Name", length=121, createable=False, updateable=False),
        _s("FirstName", 40),
        _s("LastName", 80, required=True),
        _s("Email", 128, kind="email", required=True),
        _s("Title", 80),
        _s("Department", 80),
        _t("IsActive", "boolean"),
        _t("CreatedDate", "datetime", system=True),
        _t("LastModifiedDate", "datetime", system=True),
        _t("SystemModstamp", "datetime", system=True),
    ),
    createable=False,
)

_ACCOUNT = ObjectDef(
    "Account",
    "001",
    "Accounts",
    (
        _id(),
        _ref("MasterRecordId", ("Account",), "MasterRecord"),
        _s("Name", 255, required=True),
        _pick("Type", ("Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other")),
        _ref("ParentId", ("Account",), "Parent"),
        _s("AccountNumber", 40),
        _s("BillingStreet", 255, kind="textarea"),
        _s("BillingCity", 40),
        _s("BillingState", 80),
        _s("BillingPostalCode", 20),
        _s("BillingCountry", 80),
        _s("Phone", 40, kind="phone"),
        _s("Website", 255, kind="url"),
        _pick("Industry", INDUSTRIES),
        _t("AnnualRevenue", "currency"),
        _t("NumberOfEmployees", "int"),
        _s("Description", 32000, kind="textarea"),
        *_audit(),
        FieldDef("LastActivityDate", "date", "Last Activity", createable=False, updateable=False),
    ),
)

_CONTACT = ObjectDef(
    "Contact",
    "003",
    "Contacts",
    (
        _id(),
        _ref("AccountId", ("Account",), "Account"),
        _s("FirstName", 40),
        _s("LastName", 80, required=True),
        FieldDef("Name", "string", "Full Name", length=121, createable=False, updateable=False),
        _s("Title", 128),
        _s("Email", 80, kind="email"),
        _s("Phone", 40, kind="phone"),
        _s("MailingCity", 40),
        _s("MailingCountry", 80),
        *_audit(),
        FieldDef("LastActivityDate", "date", "Last Activity", createable=False, updateable=False),
    ),
)

_PRODUCT = ObjectDef(
    "Product2",
    "01t",
    "Products",
    (
        _id(),
        _s("Name", 255, required=True),
        _s("ProductCode", 255),
        _s("Description", 4000, kind="textarea"),
        _t("IsActive", "boolean"),
        _pick("Family", ()),
        *_audit(owner=False),
    ),
)

_PRICEBOOK = ObjectDef(
    "Pricebook2",
    "01s",
    "Price Books",
    (
        _id(),
        _s("Name", 255, required=True),
        _t("IsActive", "boolean"),
        FieldDef(
            "IsStandard",
            "boolean",
            "Is Standard Price Book",
            nillable=False,
            createable=False,
            updateable=False,
        ),
        _s("Description", 255),
        *_audit(owner=False),
    ),
)

_PRICEBOOK_ENTRY = ObjectDef(
    "PricebookEntry",
    "01u",
    "Price Book Entries",
    (
        _id(),
        FieldDef("Name", "string", "Product Name", length=255, createable=False, updateable=False),
        _ref("Pricebook2Id", ("Pricebook2",), "Pricebook2", required=True),
        _ref("Product2Id", ("Product2",), "Product2", required=True),
        _t("UnitPrice", "currency", required=True),
        _t("IsActive", "boolean"),
        _t("UseStandardPrice", "boolean"),
        FieldDef("ProductCode", "string", "Product Code", length=255, createable=False, updateable=False),
        *_audit(owner=False),
    ),
)

_OPPORTUNITY = ObjectDef(
    "Opportunity",
    "006",
    "Opportunities",
    (
        _id(),
        _ref("AccountId", ("Account",), "Account"),
        _s("Name", 120, required=True),
        _s("Description", 32000, kind="textarea"),
        _pick("StageName", STAGES, required=True),
        _t("Amount", "currency"),
        _t("Probability", "percent"),
        _t("CloseDate", "date", required=True),
        _pick("Type", ("New Business", "Existing Business - Upgrade", "Existing Business - Renewal")),
        _pick("LeadSource", ("Web", "Phone Inquiry", "Partner Referral", "Trade Show", "Other")),
        FieldDef("IsClosed", "boolean", "Closed", nillable=False, createable=False, updateable=False),
        FieldDef("IsWon", "boolean", "Won", nillable=False, createable=False, updateable=False),
        _pick("ForecastCategoryName", ("Pipeline", "Best Case", "Commit", "Omitted", "Closed")),
        _ref("Pricebook2Id", ("Pricebook2",), "Pricebook2"),
        *_audit(),
        FieldDef("LastActivityDate", "date", "Last Activity", createable=False, updateable=False),
    ),
)

_LINE_ITEM = ObjectDef(
    "OpportunityLineItem",
    "00k",
    "Opportunity Product",
    (
        _id(),
        _ref("OpportunityId", ("Opportunity",), "Opportunity", required=True),
        FieldDef(
            "Product2Id",
            "reference",
            "Product ID",
            ("Product2",),
            "Product2",
            createable=False,
            updateable=False,
            length=18,
        ),
        _ref("PricebookEntryId", ("PricebookEntry",), "PricebookEntry", required=True),
        FieldDef(
            "Name", "string", "Opportunity Product Name", length=376, createable=False, updateable=False
        ),
        FieldDef("ProductCode", "string", "Product Code", length=255, createable=False, updateable=False),
        _t("Quantity", "double", required=True),
        _t("UnitPrice", "currency"),
        _t("TotalPrice", "currency"),
        FieldDef("ListPrice", "currency", "List Price", createable=False, updateable=False),
        _t("ServiceDate", "date"),
        _s("Description", 255),
        *_audit(owner=False),
    ),
)

_WHO = ("Contact", "Lead")
_WHAT = ("Account", "Opportunity", "Product2")

_TASK = ObjectDef(
    "Task",
    "00T",
    "Tasks",
    (
        _id(),
        _ref("WhoId", _WHO, "Who"),
        _ref("WhatId", _WHAT, "What"),
        _s("Subject", 255),
        _t("ActivityDate", "date"),
        _pick(
            "Status",
            ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"),
            required=True,
        ),
        _pick("Priority", ("High", "Normal", "Low"), required=True),
        FieldDef("IsClosed", "boolean", "Closed", nillable=False, createable=False, updateable=False),
        _pick("Type", ("Call", "Email", "Meeting", "Other")),
        _pick("TaskSubtype", ("Task", "Email", "Call")),
        _s("Description", 32000, kind="textarea"),
        FieldDef(
            "AccountId",
            "reference",
            "Account ID",
            ("Account",),
            "Account",
            createable=False,
            updateable=False,
            length=18,
        ),
        FieldDef("IsArchived", "boolean", "Archived", nillable=False, createable=False, updateable=False),
        *_audit(),
    ),
)

_EVENT = ObjectDef(
    "Event",
    "00U",
    "Events",
    (
        _id(),
        _ref("WhoId", _WHO, "Who"),
        _ref("WhatId", _WHAT, "What"),
        _s("Subject", 255),
        _t("ActivityDate", "date"),
        _t("ActivityDateTime", "datetime"),
        _t("StartDateTime", "datetime"),
        _t("EndDateTime", "datetime"),
        _t("DurationInMinutes", "int"),
        _pick("Type", ("Call", "Email", "Meeting", "Other")),
        _pick("EventSubtype", ("Event",)),
        _s("Description", 32000, kind="textarea"),
        FieldDef(
            "AccountId",
            "reference",
            "Account ID",
            ("Account",),
            "Account",
            createable=False,
            updateable=False,
            length=18,
        ),
        FieldDef("IsArchived", "boolean", "Archived", nillable=False, createable=False, updateable=False),
        *_audit(),
    ),
)

STANDARD_OBJECTS: dict[str, ObjectDef] = {
    definition.name: definition
    for definition in (
        _USER,
        _ACCOUNT,
        _CONTACT,
        _PRODUCT,
        _PRICEBOOK,
        _PRICEBOOK_ENTRY,
        _OPPORTUNITY,
        _LINE_ITEM,
        _TASK,
        _EVENT,
    )
}

_CURRENCY_FIELD = FieldDef(
    "CurrencyIsoCode", "picklist", "Currency ISO Code", length=3, picklist=("USD", "EUR", "GBP", "CHF", "JPY")
)


def object_def(name: str, *, multi_currency: bool) -> ObjectDef:
    """The definition of a standard object as an org with (or without) multi-currency sees it."""
    base = STANDARD_OBJECTS[name]
    if not multi_currency or name not in CURRENCY_OBJECTS:
        return base
    return ObjectDef(
        base.name,
        base.key_prefix,
        base.label_plural,
        (*base.fields, _CURRENCY_FIELD),
        createable=base.createable,
    )
