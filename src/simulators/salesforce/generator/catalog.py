"""The group's business units, product families, per-org products and price books, and the hidden
purchase drivers (industry-by-family affinity, size effects, co-ownership lift)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from simulators.salesforce.schema import INDUSTRIES

__all__ = ["FAMILIES", "BusinessUnit", "Catalog", "Drivers", "Product", "build_catalog"]

FAMILIES = (
    "CRM Suite",
    "Data Platform",
    "Analytics",
    "Security",
    "Cloud Infrastructure",
    "Payments",
    "Field Service",
    "Marketing Automation",
    "Collaboration",
    "IoT Monitoring",
    "HR & Payroll",
    "Supply Chain",
)
_TIERS = (("Essentials", 0.5), ("Professional", 1.0), ("Enterprise", 2.4), ("Unlimited", 4.0))
_UNIT_NAMES = ("Software", "Data", "Services", "Cloud", "Industrial", "Financial", "Digital", "Networks")
_CURRENCIES = (("USD", False), ("EUR", True), ("GBP", False), ("CHF", True), ("JPY", False))
_FX = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "CHF": 0.88, "JPY": 150.0}


@dataclass(frozen=True, slots=True)
class Product:
    key: str
    name: str
    code: str
    family: str
    list_price: float


@dataclass(frozen=True, slots=True)
class BusinessUnit:
    """One org: a business unit with its own currency, families sold and products."""

    index: int
    name: str
    label: str
    currency: str
    multi_currency: bool
    families: tuple[str, ...]
    products: tuple[Product, ...]
    presence: float

    def products_of(self, family: str) -> list[Product]:
        return [product for product in self.products if product.family == family]


@dataclass(frozen=True, slots=True)
class Drivers:
    """The hidden model: monthly purchase logit of family f for a company."""

    base: dict[str, float]
    affinity: dict[tuple[str, str], float]
    size_effect: dict[str, float]
    co_ownership: dict[tuple[str, str], float]

    def logit(
        self, industry: str, employees: int, owned: set[str], family: str, company_effect: float
    ) -> float:
        value = self.base[family] + self.affinity[(industry, family)] + company_effect
        value += self.size_effect[family] * (math.log10(max(employees, 1)) - 2.0)
        for other in owned:
            value += self.co_ownership.get((other, family), 0.0)
        return value


@dataclass(frozen=True, slots=True)
class Catalog:
    units: tuple[BusinessUnit, ...]
    drivers: Drivers

    def seller_of(self, family: str) -> BusinessUnit:
        return next(unit for unit in self.units if family in unit.families)


def build_catalog(orgs: int, rng: random.Random) -> Catalog:
    families = list(FAMILIES)
    units: list[BusinessUnit] = []
    for index in range(orgs):
        sold = tuple(family for number, family in enumerate(families) if number % orgs == index)
        currency, multi = _CURRENCIES[index % len(_CURRENCIES)]
        products: list[Product] = []
        for family in sold:
            base_price = rng.choice((6_000, 12_000, 24_000, 48_000)) * _FX[currency]
            stem = family.split()[0].replace("&", "and")
            for tier, factor in _TIERS[: rng.randint(2, 4)]:
                name = f"{stem} {tier}" if rng.random() < 0.5 else f"{family} {tier}"
                code = f"{stem[:3].upper()}-{tier[:3].upper()}-{index + 1}"
                products.append(Product(f"{index}:{code}", name, code, family, round(base_price * factor, 2)))
        units.append(
            BusinessUnit(
                index=index,
                name=f"bu{index + 1}",
                label=f"Northwind {_UNIT_NAMES[index % len(_UNIT_NAMES)]}",
                currency=currency,
                multi_currency=multi,
                families=sold,
                products=tuple(products),
                presence=0.45 + 0.3 * rng.random(),
            )
        )
    base = {family: rng.uniform(-5.6, -4.6) for family in families}
    affinity = {(industry, family): rng.gauss(0.0, 0.9) for industry in INDUSTRIES for family in families}
    size = {family: rng.gauss(0.35, 0.35) for family in families}
    co_ownership: dict[tuple[str, str], float] = {}
    for first in families:
        for second in families:
            if first != second and rng.random() < 0.3:
                co_ownership[(first, second)] = rng.uniform(0.4, 1.4)
    return Catalog(tuple(units), Drivers(base, affinity, size, co_ownership))
