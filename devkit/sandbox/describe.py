"""Describe results (``/sobjects``, ``/sobjects/X/describe``) built from the schema."""

from __future__ import annotations

from typing import Any

from devkit.sandbox.access import FULL, Access
from devkit.sandbox.schema import SOBJECTS, Field, SObject

_SOAP = {
    "id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "int": "xsd:int",
    "double": "xsd:double", "currency": "xsd:double", "percent": "xsd:double",
    "date": "xsd:date", "datetime": "xsd:dateTime",
}  # fmt: skip
_NOT_EDITABLE = {"Group", "QueueSobject", "AssignmentRule"}  # not through this API
_NOT_GROUPABLE = {"double", "currency", "percent", "textarea", "multipicklist", "datetime"}


def _base(obj: SObject, version: str, access: Access = FULL) -> dict[str, Any]:
    url = f"/services/data/v{version}/sobjects/{obj.name}"
    editable = access.can_edit(obj.name) and obj.name not in _NOT_EDITABLE
    return {
        "name": obj.name,
        "label": obj.name,
        "labelPlural": obj.name + "s",
        "keyPrefix": obj.key_prefix,
        "custom": False,
        "createable": editable,
        "updateable": editable,
        "deletable": editable,
        "queryable": True,
        "retrieveable": True,
        "searchable": True,
        "layoutable": True,
        "urls": {"sobject": url, "describe": url + "/describe", "rowTemplate": url + "/{ID}"},
    }


def field_describe(f: Field, editable: bool = True) -> dict[str, Any]:
    text = f.type not in _SOAP
    return {
        "name": f.name,
        "label": f.label or f.name,
        "type": f.type,
        "soapType": _SOAP.get(f.type, "xsd:string"),
        "length": f.length if text else 0,
        "byteLength": f.length * 3 if text else 0,
        "precision": 18 if f.type in ("double", "currency") else 0,
        "scale": 2 if f.type == "currency" else 0,
        "digits": 9 if f.type == "int" else 0,
        "nillable": f.nillable,
        "createable": f.createable and editable,
        "updateable": f.updateable and editable,
        "custom": f.custom,
        "calculated": False,
        "defaultedOnCreate": f.name in ("Id", "OwnerId", "CreatedDate", "IsDeleted", "Status"),
        "filterable": f.type not in ("textarea",),
        "sortable": f.type not in ("textarea", "multipicklist"),
        "groupable": f.type not in _NOT_GROUPABLE,
        "aggregatable": f.type != "textarea",
        "idLookup": f.name in ("Id", "Email", "Username"),
        "externalId": False,
        "unique": f.name == "Username",
        "referenceTo": list(f.refs),
        "relationshipName": f.relationship,
        "polymorphicForeignKey": len(f.refs) > 1,
        "restrictedPicklist": f.restricted,
        "picklistValues": [
            {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
            for v in f.picklist
        ],
    }


def describe(obj: SObject, version: str, access: Access = FULL) -> dict[str, Any]:
    """As the caller sees the object: fields hidden from it left out, ``updateable`` as
    its permissions say (the caller checks it may read the object at all)."""
    out = _base(obj, version, access)
    out["fields"] = [
        field_describe(f, access.edits(obj.name, f.name))
        for f in obj.fields
        if access.sees(obj.name, f.name)
    ]
    out["childRelationships"] = []
    out["recordTypeInfos"] = []
    return out


def describe_global(version: str, access: Access = FULL) -> dict[str, Any]:
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [
            _base(obj, version, access) for obj in SOBJECTS.values() if access.can_read(obj.name)
        ],
    }
