"""The product crosswalk's use cases: suggest families for every product, list them, assign and confirm."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import InvalidRequestError
from application.pagination import Page, decode_cursor, encode_cursor
from application.ports.clock import Clock
from application.resolution.ports import ProductRecord, ResolutionUnitOfWork
from domain.crosswalk import FamilyMapping, ProductCrosswalk
from domain.errors import ConflictError, NotFoundError
from domain.product import ProductKey
from domain.product_family import ProductFamily
from domain.resolution.product_families import FamilyEvidence, family_slug, suggest_family

__all__ = [
    "AddProductFamily",
    "AssignProductFamily",
    "ConfirmProductFamily",
    "CrosswalkRow",
    "ListCrosswalk",
    "ListProductFamilies",
    "ListProducts",
    "SuggestProductFamilies",
    "SuggestionReport",
]

SUGGESTER = "xsell-crosswalk"
_CURSOR_KIND = "products"


@dataclass(frozen=True, slots=True)
class SuggestionReport:
    products: int
    families_created: int
    suggested: int
    confirmed_kept: int
    unmapped: int


@dataclass(frozen=True, slots=True)
class CrosswalkRow:
    product: ProductRecord
    mapping: FamilyMapping | None


def _evidence(crosswalk: ProductCrosswalk, products: list[ProductRecord]) -> dict[str, FamilyEvidence]:
    names: dict[str, list[str]] = {f: [] for f in crosswalk.families}
    codes: dict[str, list[str]] = {f: [] for f in crosswalk.families}
    for product in products:
        mapping = crosswalk.mappings.get(product.key)
        # Only people's decisions teach the matcher; suggestions learning from suggestions would drift.
        if mapping is not None and mapping.confirmed and mapping.family_id in names:
            names[mapping.family_id].append(product.name)
            if product.product_code:
                codes[mapping.family_id].append(product.product_code)
    return {
        f.id: FamilyEvidence(f.id, f.name, f.description, names[f.id], codes[f.id])
        for f in crosswalk.families.values()
        if f.is_active
    }


class SuggestProductFamilies:
    """Map every product to a family automatically; confirmed mappings are never touched.

    Families named by the orgs' own Product2.Family values join the catalog when it lacks them.
    """

    def __init__(self, uow: ResolutionUnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self) -> SuggestionReport:
        now = self._clock.now()
        async with self._uow as uow:
            crosswalk = await uow.crosswalk.load()
            products = await uow.crosswalk.products()
            created = 0
            for product in products:
                if product.family and product.family.strip():
                    slug = family_slug(product.family)
                    if slug not in crosswalk.families:
                        crosswalk.add_family(
                            ProductFamily(slug, product.family.strip()[:200], created_at=now)
                        )
                        created += 1
            evidence = _evidence(crosswalk, products)
            suggested = kept = unmapped = 0
            for product in products:
                current = crosswalk.mappings.get(product.key)
                if current is not None and current.confirmed:
                    kept += 1
                    continue
                suggestion = suggest_family(
                    name=product.name,
                    product_code=product.product_code,
                    org_family=product.family,
                    description=product.description,
                    families=evidence,
                )
                if suggestion is None:
                    unmapped += 1
                    continue
                crosswalk.suggest(
                    product.key,
                    suggestion.family_id,
                    source=suggestion.source,
                    confidence=suggestion.confidence,
                    decided_by=SUGGESTER,
                    at=now,
                )
                suggested += 1
            await uow.crosswalk.save(crosswalk)
            await uow.commit()
        return SuggestionReport(len(products), created, suggested, kept, unmapped)


class ListCrosswalk:
    def __init__(self, uow: ResolutionUnitOfWork) -> None:
        self._uow = uow

    async def execute(self) -> tuple[list[ProductFamily], list[CrosswalkRow]]:
        async with self._uow as uow:
            crosswalk = await uow.crosswalk.load()
            products = await uow.crosswalk.products()
        rows = [CrosswalkRow(p, crosswalk.mappings.get(p.key)) for p in products]
        return sorted(crosswalk.families.values(), key=lambda f: f.id), rows


class ListProductFamilies:
    """The group catalog, by id: the same for every reader, it holds no org's data."""

    def __init__(self, uow: ResolutionUnitOfWork) -> None:
        self._uow = uow

    async def execute(self) -> list[ProductFamily]:
        async with self._uow as uow:
            crosswalk = await uow.crosswalk.load()
        return sorted(crosswalk.families.values(), key=lambda f: f.id)


class ListProducts:
    """The crosswalk's rows in the orgs a reader may read, by org and product id, a page at a time."""

    def __init__(self, uow: ResolutionUnitOfWork, max_page_size: int = 500) -> None:
        self._uow = uow
        self._max_page_size = max_page_size

    async def execute(
        self,
        readable: frozenset[str] | None,
        *,
        org_id: str | None = None,
        family_id: str | None = None,
        unmapped: bool = False,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[CrosswalkRow]:
        """Products of `org_id` (any readable org when None) mapped to `family_id`, or with no mapping at all
        when `unmapped`. Raises InvalidRequestError for a bad limit or both filters at once,
        InvalidCursorError for a cursor xsell did not issue."""
        if not 1 <= limit <= self._max_page_size:
            raise InvalidRequestError(f"limit must be between 1 and {self._max_page_size}, got {limit}")
        if unmapped and family_id is not None:
            raise InvalidRequestError("a product without a mapping has no family: use `unmapped` or `family`")
        after = None if cursor is None else ProductKey(*decode_cursor(_CURSOR_KIND, cursor, 2))
        async with self._uow as uow:
            crosswalk = await uow.crosswalk.load()
            products = await uow.crosswalk.products()
        rows = []
        for product in products:
            key, mapping = product.key, crosswalk.mappings.get(product.key)
            if (
                (readable is not None and key.org_id not in readable)
                or (org_id is not None and key.org_id != org_id)
                or (after is not None and key <= after)
                or (unmapped and mapping is not None)
                or (family_id is not None and (mapping is None or mapping.family_id != family_id))
            ):
                continue
            rows.append(CrosswalkRow(product, mapping))
        rows.sort(key=lambda row: row.product.key)
        items = rows[:limit]
        next_cursor = None
        if len(rows) > limit:
            last = items[-1].product.key
            next_cursor = encode_cursor(_CURSOR_KIND, (last.org_id, last.external_id))
        return Page(items=items, next_cursor=next_cursor)


async def _require_product(
    uow: ResolutionUnitOfWork, product: ProductKey, scope: frozenset[str] | None, message: str
) -> None:
    # A product in an org outside `scope` fails exactly like one that does not exist.
    if scope is not None and product.org_id not in scope:
        raise NotFoundError(message)
    if product not in {p.key for p in await uow.crosswalk.products()}:
        raise NotFoundError(message)


class AddProductFamily:
    def __init__(self, uow: ResolutionUnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, family_id: str, name: str, description: str = "") -> ProductFamily:
        """Raises InvariantViolationError for a bad id or name, ConflictError for a taken id."""
        async with self._uow as uow:
            crosswalk = await uow.crosswalk.load()
            if family_id in crosswalk.families:
                raise ConflictError(f"product family {family_id} already exists")
            family = ProductFamily(family_id, name, description, created_at=self._clock.now())
            crosswalk.add_family(family)
            await uow.crosswalk.save(crosswalk)
            await uow.commit()
        return family


class AssignProductFamily:
    """A person maps a product to a family (or to none); it stays so on every later suggestion run."""

    def __init__(self, uow: ResolutionUnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(
        self,
        product: ProductKey,
        family_id: str | None,
        *,
        decided_by: str,
        scope: frozenset[str] | None = None,
    ) -> FamilyMapping:
        """Raises NotFoundError for an unknown family, or an unknown product (one outside `scope`, the orgs
        the caller may change, None for all, alike)."""
        async with self._uow as uow:
            await _require_product(uow, product, scope, f"no product {product.org_id}:{product.external_id}")
            crosswalk = await uow.crosswalk.load()
            mapping = crosswalk.assign(product, family_id, decided_by=decided_by, at=self._clock.now())
            await uow.crosswalk.save(crosswalk)
            await uow.commit()
        return mapping


class ConfirmProductFamily:
    def __init__(self, uow: ResolutionUnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(
        self, product: ProductKey, *, decided_by: str, scope: frozenset[str] | None = None
    ) -> FamilyMapping:
        """Raises NotFoundError when the product has no suggestion to confirm (or lies outside `scope`)."""
        async with self._uow as uow:
            if scope is not None and product.org_id not in scope:
                raise NotFoundError(f"product {product} has no mapping to confirm")
            crosswalk = await uow.crosswalk.load()
            mapping = crosswalk.confirm(product, decided_by=decided_by, at=self._clock.now())
            await uow.crosswalk.save(crosswalk)
            await uow.commit()
        return mapping
