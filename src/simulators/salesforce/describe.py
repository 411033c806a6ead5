"""Describe payloads: the global `sobjects` list and per-object `describe`, filtered per user."""

from __future__ import annotations

from typing import Any

from simulators.salesforce.schema import FieldDef, ObjectDef
from simulators.salesforce.soql.planner import FieldVisibility

__all__ = ["describe_global", "describe_object", "object_summary"]

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}


def object_summary(definition: ObjectDef, version: str) -> dict[str, Any]:
    base = f"/services/data/v{version}/sobjects/{definition.name}"
    return {
        "activateable": False,
        "associateEntityType": None,
        "associateParentEntity": None,
        "createable": definition.createable,
        "custom": False,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": definition.createable,
        "deprecatedAndHidden": False,
        "feedEnabled": definition.name in {"Account", "Contact", "Opportunity"},
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": definition.key_prefix,
        "label": definition.name if definition.name != "Product2" else "Product",
        "labelPlural": definition.label_plural,
        "layoutable": True,
        "mergeable": definition.name in {"Account", "Contact"},
        "mruEnabled": True,
        "name": definition.name,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": definition.createable,
        "updateable": definition.createable,
        "urls": {
            "sobject": base,
            "describe": f"{base}/describe",
            "rowTemplate": f"{base}/{{ID}}",
        },
    }


def describe_global(definitions: list[ObjectDef], version: str) -> dict[str, Any]:
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [object_summary(definition, version) for definition in definitions],
    }


def _field(definition: FieldDef) -> dict[str, Any]:
    kind = definition.type
    text = definition.is_text
    return {
        "aggregatable": kind not in {"textarea"},
        "autoNumber": False,
        "byteLength": definition.length * 3 if text else (18 if kind in {"id", "reference"} else 0),
        "calculated": False,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": False,
        "compoundFieldName": None,
        "controllerName": None,
        "createable": definition.createable,
        "custom": False,
        "defaultValue": None,
        "defaultValueFormula": None,
        "defaultedOnCreate": definition.name
        in {"Id", "OwnerId", "IsDeleted", "CreatedDate", "SystemModstamp"},
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": 9 if kind == "int" else 0,
        "externalId": False,
        "filterable": kind != "textarea" or definition.length <= 255,
        "groupable": kind not in {"double", "currency", "percent", "datetime", "textarea"},
        "htmlFormatted": False,
        "idLookup": definition.name == "Id",
        "inlineHelpText": None,
        "label": definition.label or definition.name,
        "length": definition.length if text or kind in {"id", "reference"} else 0,
        "name": definition.name,
        "nameField": definition.name == "Name",
        "namePointing": definition.name == "OwnerId",
        "nillable": definition.nillable,
        "permissionable": definition.nillable and definition.name not in {"Id"},
        "picklistValues": [
            {"active": True, "defaultValue": False, "label": value, "validFor": None, "value": value}
            for value in definition.picklist
        ],
        "polymorphicForeignKey": len(definition.reference_to) > 1,
        "precision": 18 if kind in {"currency", "double", "percent"} else 0,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": list(definition.reference_to),
        "relationshipName": definition.relationship_name,
        "relationshipOrder": None,
        "restrictedPicklist": False,
        "scale": 2 if kind in {"currency", "double", "percent"} else 0,
        "searchPrefilterable": False,
        "soapType": _SOAP_TYPES.get(kind, "xsd:string"),
        "sortable": kind != "textarea" or definition.length <= 255,
        "type": kind,
        "unique": False,
        "updateable": definition.updateable,
        "writeRequiresMasterRead": False,
    }


def describe_object(definition: ObjectDef, visible: FieldVisibility, version: str) -> dict[str, Any]:
    """`sobjects/{X}/describe`: fields the user's profile hides are simply absent."""
    out = object_summary(definition, version)
    out.update(
        {
            "childRelationships": [],
            "fields": [_field(field) for field in definition.fields if visible(definition.name, field.name)],
            "recordTypeInfos": [],
            "supportedScopes": [{"label": "All", "name": "everything"}],
        }
    )
    return dict(sorted(out.items()))
