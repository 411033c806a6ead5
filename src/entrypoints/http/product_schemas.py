"""Wire types of the product crosswalk: the catalog's families and each org's products mapped to them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from application.resolution.crosswalk import CrosswalkRow
from domain.crosswalk import FamilyMapping, MappingSource
from domain.product_family import ProductFamily
from entrypoints.http.path_params import PRINTABLE

__all__ = [
    "FamilyAssignmentIn",
    "FamilyMappingOut",
    "NewProductFamilyIn",
    "ProductFamilyOut",
    "ProductOut",
    "ProductPage",
]

_FAMILY_ID = msgspec.Meta(
    description="The family's id: a lower-case slug (letters, digits, '-' or '_', at most 64).",
    examples=["analytics"],
)


class ProductFamilyOut(msgspec.Struct, frozen=True, kw_only=True):
    """A family of the group catalog: the unit of "what to offer" across orgs."""

    id: Annotated[str, _FAMILY_ID]
    name: Annotated[str, msgspec.Meta(examples=["Analytics"])]
    description: Annotated[str, msgspec.Meta(examples=["Dashboards, reporting and BI add-ons"])]
    is_active: bool
    created_at: datetime

    @classmethod
    def of(cls, family: ProductFamily) -> ProductFamilyOut:
        return cls(
            id=family.id,
            name=family.name,
            description=family.description,
            is_active=family.is_active,
            created_at=family.created_at,
        )


class NewProductFamilyIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new family for the catalog; a taken id answers 409, a malformed one 422."""

    id: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=64,
            pattern=PRINTABLE,
            description=_FAMILY_ID.description,
            examples=["analytics"],
        ),
    ]
    name: Annotated[
        str, msgspec.Meta(min_length=1, max_length=200, pattern=PRINTABLE, examples=["Analytics"])
    ]
    description: Annotated[
        str,
        msgspec.Meta(
            max_length=2000, pattern="^[^\\x00]*$", examples=["Dashboards, reporting and BI add-ons"]
        ),
    ] = ""


class FamilyMappingOut(msgspec.Struct, frozen=True, kw_only=True):
    """How a product came to its family: suggested by the crosswalk (unconfirmed) or decided by a person."""

    family_id: Annotated[
        str | None,
        msgspec.Meta(description="null: a person decided it belongs to no family.", examples=["analytics"]),
    ]
    source: Annotated[
        MappingSource,
        msgspec.Meta(
            description="What decided it: the org's Product2.Family, the name, the product code, the"
            " description, or `human`.",
            examples=["name"],
        ),
    ]
    confidence: Annotated[float, msgspec.Meta(examples=[0.82])]
    confirmed: Annotated[
        bool,
        msgspec.Meta(description="A person's decision; later suggestion runs keep it.", examples=[False]),
    ]
    decided_by: Annotated[str, msgspec.Meta(examples=["xsell-crosswalk"])]
    decided_at: datetime

    @classmethod
    def of(cls, mapping: FamilyMapping) -> FamilyMappingOut:
        return cls(
            family_id=mapping.family_id,
            source=mapping.source,
            confidence=mapping.confidence,
            confirmed=mapping.confirmed,
            decided_by=mapping.decided_by,
            decided_at=mapping.decided_at,
        )


class ProductOut(msgspec.Struct, frozen=True, kw_only=True):
    """One org's product and its family in the group catalog (`mapping` null: not mapped yet)."""

    org_id: Annotated[str, msgspec.Meta(examples=["emea"])]
    id: Annotated[str, msgspec.Meta(description="The CRM's Product2 id.", examples=["01t5g00000AbCdEAAV"])]
    name: Annotated[str, msgspec.Meta(examples=["Insight Dashboards Pro"])]
    product_code: Annotated[str | None, msgspec.Meta(examples=["IDP-100"])]
    org_family: Annotated[
        str | None,
        msgspec.Meta(description="The org's own Product2.Family value, as synced.", examples=["Reporting"]),
    ]
    mapping: FamilyMappingOut | None

    @classmethod
    def of(cls, row: CrosswalkRow) -> ProductOut:
        product = row.product
        return cls(
            org_id=product.key.org_id,
            id=product.key.external_id,
            name=product.name,
            product_code=product.product_code,
            org_family=product.family,
            mapping=None if row.mapping is None else FamilyMappingOut.of(row.mapping),
        )


class ProductPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of products by org and id. Pass `next_cursor` as `cursor` for the next; null on the last."""

    items: list[ProductOut]
    next_cursor: Annotated[str | None, msgspec.Meta(examples=["eyJ2IjoxLCJrIjoi"])]


class FamilyAssignmentIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The family a person puts the product in; null for none (a fee, a service). It stays so on every
    later suggestion run."""

    family_id: (
        Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=PRINTABLE, examples=["analytics"])]
        | None
    )
