"""The product crosswalk's use cases: suggest families for every product, list them, assign and confirm."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports.clock import Clock
from application.resolution.ports import ProductRecord, ResolutionUnitOfWork
from domain.crosswalk import FamilyMapping, ProductCrosswalk
from domain.product import ProductKey
from domain.product_family import ProductFamily
from domain.resolution.product_families import FamilyEvidence, family_slug, suggest_family

__all__ = [
    "AddProductFamily",
    "AssignProductFamily",
    "ConfirmProductFamily",
    "CrosswalkRow",
    "ListCrosswalk",
    "SuggestProductFamilies",
    "SuggestionReport",
]

SUGGESTER = "xsell-crosswalk"


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


class AddProductFamily:
    def __init__(self, uow: ResolutionUnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, family_id: str, name: str, description: str = "") -> ProductFamily:
        """Raises InvariantViolationError for a bad or taken id."""
        async with self._uow as uow:
            crosswalk = await uow.crosswalk.load()
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

    async def execute(self, product: ProductKey, family_id: str | None, *, decided_by: str) -> FamilyMapping:
        """Raises NotFoundError for an unknown family."""
        async with self._uow as uow:
            crosswalk = await uow.crosswalk.load()
            mapping = crosswalk.assign(product, family_id, decided_by=decided_by, at=self._clock.now())
            await uow.crosswalk.save(crosswalk)
            await uow.commit()
        return mapping


class ConfirmProductFamily:
    def __init__(self, uow: ResolutionUnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, product: ProductKey, *, decided_by: str) -> FamilyMapping:
        """Raises NotFoundError when the product has no suggestion to confirm."""
        async with self._uow as uow:
            crosswalk = await uow.crosswalk.load()
            mapping = crosswalk.confirm(product, decided_by=decided_by, at=self._clock.now())
            await uow.crosswalk.save(crosswalk)
            await uow.commit()
        return mapping
