"""Products, product families and the crosswalk that maps one onto the other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.crosswalk import FamilyMapping, MappingSource, ProductCrosswalk
from domain.errors import InvalidIdError, InvariantViolationError, NotFoundError
from domain.events import ProductFamilyMappingChanged
from domain.product import Product, ProductKey
from domain.product_family import ProductFamily

T0 = datetime(2025, 2, 1, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
P1 = ProductKey("emea", "01t000000000001AAA")
P2 = ProductKey("amer", "01t000000000002AAA")


def catalog() -> ProductCrosswalk:
    crosswalk = ProductCrosswalk()
    crosswalk.add_family(ProductFamily("data-platform", "Data Platform", created_at=T0))
    crosswalk.add_family(ProductFamily("crm-suite", "CRM Suite", created_at=T0))
    return crosswalk


def test_a_product_is_org_scoped_and_keeps_the_eighteen_character_id() -> None:
    product = Product(
        "emea", "01t000000000001", "Data Platform Pro", family="Data", created_at=T0, modified_at=T0
    )
    assert product.key == P1
    assert product.family == "Data"
    assert product == Product("emea", "01t000000000001AAA", "renamed", created_at=T0, modified_at=T0)
    assert product != Product(
        "amer", "01t000000000001AAA", "Data Platform Pro", created_at=T0, modified_at=T0
    )


def test_product_invariants() -> None:
    with pytest.raises(InvalidIdError):
        Product("emea", "01t0000", "X", created_at=T0, modified_at=T0)
    with pytest.raises(InvariantViolationError, match="no name"):
        Product("emea", "01t000000000001", " ", created_at=T0, modified_at=T0)
    with pytest.raises(InvariantViolationError, match="no org"):
        Product("", "01t000000000001", "X", created_at=T0, modified_at=T0)
    with pytest.raises(InvariantViolationError):
        Product("emea", "01t000000000001", "X", created_at=datetime(2025, 1, 1), modified_at=T0)


@pytest.mark.parametrize("family_id", ["", "Data", "data platform", "-data", "d" * 65])
def test_family_ids_are_slugs(family_id: str) -> None:
    with pytest.raises(InvariantViolationError):
        ProductFamily(family_id, "Data", created_at=T0)


def test_families_need_a_name_and_are_equal_by_id() -> None:
    with pytest.raises(InvariantViolationError):
        ProductFamily("data", "", created_at=T0)
    assert ProductFamily("data", "Data", created_at=T0) == ProductFamily("data", "Renamed", created_at=T1)


def test_a_family_id_is_added_once() -> None:
    crosswalk = catalog()
    with pytest.raises(InvariantViolationError, match="already exists"):
        crosswalk.add_family(ProductFamily("crm-suite", "CRM", created_at=T0))


def test_a_suggestion_maps_a_product_until_a_person_decides() -> None:
    crosswalk = catalog()

    mapping = crosswalk.suggest(
        P1, "data-platform", source=MappingSource.PRODUCT2_FAMILY, confidence=0.8, decided_by="matcher", at=T0
    )

    assert crosswalk.family_of(P1) == "data-platform"
    assert not mapping.confirmed
    assert crosswalk.products_of("data-platform") == {P1}
    assert crosswalk.events == [
        ProductFamilyMappingChanged(
            occurred_at=T0,
            org_id="emea",
            product_id=P1.external_id,
            family_id="data-platform",
            previous_family_id=None,
            source="product2_family",
            decided_by="matcher",
        )
    ]


def test_a_confirmed_mapping_survives_later_suggestions() -> None:
    crosswalk = catalog()
    crosswalk.suggest(
        P1, "data-platform", source=MappingSource.NAME, confidence=0.7, decided_by="matcher", at=T0
    )
    crosswalk.assign(P1, "crm-suite", decided_by="ann", at=T1)

    kept = crosswalk.suggest(
        P1, "data-platform", source=MappingSource.NAME, confidence=0.99, decided_by="matcher", at=T1
    )

    assert kept.family_id == "crm-suite"
    assert kept.source is MappingSource.HUMAN
    assert crosswalk.family_of(P1) == "crm-suite"


def test_a_newer_suggestion_replaces_an_unconfirmed_one() -> None:
    crosswalk = catalog()
    crosswalk.suggest(
        P1, "data-platform", source=MappingSource.NAME, confidence=0.6, decided_by="matcher", at=T0
    )
    crosswalk.suggest(
        P1, "crm-suite", source=MappingSource.PRODUCT_CODE, confidence=0.9, decided_by="matcher", at=T1
    )
    assert crosswalk.family_of(P1) == "crm-suite"
    assert len(crosswalk.events) == 2


def test_repeating_the_same_suggestion_is_not_news() -> None:
    crosswalk = catalog()
    for _ in range(3):
        crosswalk.suggest(
            P1, "data-platform", source=MappingSource.NAME, confidence=0.6, decided_by="m", at=T0
        )
    assert len(crosswalk.events) == 1


def test_confirming_keeps_the_family_and_marks_it_human() -> None:
    crosswalk = catalog()
    crosswalk.suggest(P1, "data-platform", source=MappingSource.NAME, confidence=0.6, decided_by="m", at=T0)

    confirmed = crosswalk.confirm(P1, decided_by="ann", at=T1)

    assert confirmed == FamilyMapping(P1, "data-platform", MappingSource.HUMAN, 1.0, True, "ann", T1)
    with pytest.raises(NotFoundError):
        crosswalk.confirm(P2, decided_by="ann", at=T1)


def test_a_person_can_say_a_product_belongs_to_no_family() -> None:
    crosswalk = catalog()
    crosswalk.assign(P2, None, decided_by="ann", at=T0)
    crosswalk.suggest(P2, "crm-suite", source=MappingSource.NAME, confidence=0.9, decided_by="m", at=T1)
    assert crosswalk.family_of(P2) is None
    assert crosswalk.unmapped([P1, P2]) == [P1]


def test_unknown_families_and_human_suggestions_are_refused() -> None:
    crosswalk = catalog()
    with pytest.raises(NotFoundError):
        crosswalk.suggest(P1, "nope", source=MappingSource.NAME, confidence=0.5, decided_by="m", at=T0)
    with pytest.raises(NotFoundError):
        crosswalk.assign(P1, "nope", decided_by="ann", at=T0)
    with pytest.raises(InvariantViolationError, match="person"):
        crosswalk.suggest(P1, "crm-suite", source=MappingSource.HUMAN, confidence=1.0, decided_by="m", at=T0)
    assert crosswalk.mappings == {}


@pytest.mark.parametrize(
    "overrides",
    [
        {"confidence": 1.5},
        {"confidence": float("nan")},
        {"decided_by": ""},
        {"source": "guess"},
        {"family_id": None, "source": MappingSource.NAME},
        {"decided_at": datetime(2025, 1, 1)},
    ],
)
def test_family_mapping_invariants(overrides: dict[str, object]) -> None:
    fields: dict[str, object] = {
        "product": P1,
        "family_id": "crm-suite",
        "source": MappingSource.NAME,
        "confidence": 0.5,
        "confirmed": False,
        "decided_by": "m",
        "decided_at": T0,
    }
    fields.update(overrides)
    with pytest.raises(InvariantViolationError):
        FamilyMapping(**fields)  # type: ignore[arg-type]


def test_family_of_an_unmapped_product_is_none() -> None:
    assert catalog().family_of(P1) is None
