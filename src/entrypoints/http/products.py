"""/api/v1/product-families (the group catalog) and /api/v1/products (the crosswalk, editable)."""

from __future__ import annotations

from typing import Annotated

from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from application.resolution.crosswalk import (
    AddProductFamily,
    AssignProductFamily,
    ConfirmProductFamily,
    ListProductFamilies,
    ListProducts,
)
from domain.access import Principal
from domain.ids import SalesforceId
from domain.product import ProductKey
from entrypoints.http.path_params import OrgId, ProductId
from entrypoints.http.problems import problem_responses
from entrypoints.http.product_schemas import (
    FamilyAssignmentIn,
    FamilyMappingOut,
    NewProductFamilyIn,
    ProductFamilyOut,
    ProductOut,
    ProductPage,
)
from entrypoints.http.security import admin_or_analyst

__all__ = ["ProductController", "ProductFamilyController"]

_PRODUCT = "/{org_id:str}/{product_id:str}"
_WRITE = (
    " Needs the admin or analyst role (403 otherwise) and a grant on the product's org: a product in an"
    " org the caller was not granted answers 404, exactly like an unknown one. A malformed product id"
    " answers 422."
)


def _key(org_id: str, product_id: str) -> ProductKey:
    return ProductKey(org_id, SalesforceId.parse(product_id).value)


class ProductFamilyController(Controller):
    path = "/product-families"
    tags = ["products"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @get(
        "/",
        summary="List product families",
        description="The group catalog, by id. It holds no org's data, so every role reads all of it.",
        responses=problem_responses(),
    )
    @inject
    async def list_families(self, use_case: FromDishka[ListProductFamilies]) -> list[ProductFamilyOut]:
        return [ProductFamilyOut.of(family) for family in await use_case.execute()]

    @post(
        "/",
        summary="Add a product family",
        description="A new family in the group catalog; products are mapped to it with PUT"
        " /products/{org_id}/{product_id}/family. A taken id answers 409, a malformed one 422. Needs the"
        " admin or analyst role (403 otherwise).",
        guards=[admin_or_analyst],
        status_code=HTTP_201_CREATED,
        responses=problem_responses(403, 409, 422),
    )
    @inject
    async def add_family(
        self, data: JSONBody[NewProductFamilyIn], use_case: FromDishka[AddProductFamily]
    ) -> ProductFamilyOut:
        return ProductFamilyOut.of(await use_case.execute(data.id, data.name, data.description))


class ProductController(Controller):
    path = "/products"
    tags = ["products"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @get(
        "/",
        summary="List the product crosswalk",
        description="Each product of the orgs the caller may read with the family it maps to and how that"
        " was decided (suggested from the org's Product2.Family, name, code or description, or by a"
        " person). Filter by `org`, by `family`, or `unmapped=true` for products with no mapping yet (the"
        " work left). Page with `limit` and `next_cursor`.",
        opt={"query": frozenset({"org", "family", "unmapped", "limit", "cursor"})},
        responses=problem_responses(),
    )
    @inject
    async def list_products(
        self,
        use_case: FromDishka[ListProducts],
        principal: NamedDependency[Principal],
        org: Annotated[str | None, Parameter(max_length=64, description="Only this org's products.")] = None,
        family: Annotated[
            str | None, Parameter(max_length=64, description="Only products mapped to this family.")
        ] = None,
        unmapped: Annotated[bool, Parameter(description="Only products with no mapping at all.")] = False,
        limit: Annotated[int, Parameter(ge=1, le=500, description="Products per page (1-500).")] = 100,
        cursor: Annotated[
            str | None, Parameter(max_length=1024, description="The `next_cursor` of the previous page.")
        ] = None,
    ) -> ProductPage:
        page = await use_case.execute(
            principal.read_scope, org_id=org, family_id=family, unmapped=unmapped, limit=limit, cursor=cursor
        )
        return ProductPage(items=[ProductOut.of(row) for row in page.items], next_cursor=page.next_cursor)

    @put(
        f"{_PRODUCT}/family",
        summary="Map a product to a family",
        description="A person's decision: the product belongs to `family_id` (null: to no family). It is"
        " confirmed, so later suggestion runs keep it. An unknown family answers 404." + _WRITE,
        guards=[admin_or_analyst],
        responses=problem_responses(
            403, 404, 422, s404="An unknown family or product, or a product outside the caller's grants."
        ),
    )
    @inject
    async def assign_family(
        self,
        org_id: OrgId,
        product_id: ProductId,
        data: JSONBody[FamilyAssignmentIn],
        use_case: FromDishka[AssignProductFamily],
        principal: NamedDependency[Principal],
    ) -> FamilyMappingOut:
        mapping = await use_case.execute(
            _key(org_id, product_id), data.family_id, decided_by=principal.subject, scope=principal.read_scope
        )
        return FamilyMappingOut.of(mapping)

    @post(
        f"{_PRODUCT}/family/confirm",
        summary="Confirm a suggested family",
        description="Accept the crosswalk's suggestion for the product as a person's decision; later"
        " suggestion runs keep it. A product with no suggestion answers 404." + _WRITE,
        guards=[admin_or_analyst],
        status_code=HTTP_200_OK,
        responses=problem_responses(
            403, 404, 422, s404="No suggestion to confirm, or a product outside the caller's grants."
        ),
    )
    @inject
    async def confirm_family(
        self,
        org_id: OrgId,
        product_id: ProductId,
        use_case: FromDishka[ConfirmProductFamily],
        principal: NamedDependency[Principal],
    ) -> FamilyMappingOut:
        mapping = await use_case.execute(
            _key(org_id, product_id), decided_by=principal.subject, scope=principal.read_scope
        )
        return FamilyMappingOut.of(mapping)
