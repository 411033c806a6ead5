"""Simulates three years of a company group's CRM history, company by company, streaming records to a sink.

Each company gets a true identity, a presence in some orgs (an account per org, spelled that org's way),
contacts, and a monthly purchase process: the hazard of first buying family f is
sigmoid(base_f + affinity[industry, f] + size_f · (log10 employees - 2) + Σ co-ownership[g, f] over families
g it owns in any org + company effect). A purchase becomes a closed-won opportunity with line items in the
org that sells f (only where the company is an account), preceded by a surge of tasks and events.
Companies are generated one at a time with their own seeded RNG, so memory stays flat with the sink's.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from simulators.salesforce.generator.catalog import FAMILIES, BusinessUnit, Catalog, build_catalog
from simulators.salesforce.generator.ground_truth import GroundTruthWriter
from simulators.salesforce.generator.names import (
    Identity,
    new_identity,
    person_name,
    subsidiary_identity,
    variant_of,
)
from simulators.salesforce.generator.sinks import RecordSink
from simulators.salesforce.ids import KEY_PREFIXES
from simulators.salesforce.org import org_id_for
from simulators.salesforce.schema import INDUSTRIES
from simulators.salesforce.timefmt import format_datetime

__all__ = ["GroupSpec", "GroupSummary", "generate_company_group"]

_MONTH = 30.4
_TITLES = (
    "CEO",
    "CTO",
    "CFO",
    "VP Sales",
    "Head of IT",
    "Procurement Manager",
    "Operations Director",
    "Analyst",
)
_TASK_SUBJECTS = (
    "Call",
    "Email: follow-up",
    "Send proposal",
    "Check in",
    "Demo follow-up",
    "Pricing question",
)
_EVENT_SUBJECTS = ("Meeting", "Product demo", "Quarterly review", "Workshop", "Site visit")
_OPEN_STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
)


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """`accounts` is the approximate total number of accounts across all orgs."""

    orgs: int = 3
    accounts: int = 600
    seed: int = 7
    as_of: date = date(2026, 10, 1)
    years: int = 3
    horizon_days: int = 180


@dataclass
class GroupSummary:
    units: tuple[BusinessUnit, ...]
    companies: int = 0
    accounts: int = 0
    records: dict[str, int] = field(default_factory=dict)


def _sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-value))


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method is fine for the small means used here.
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


@dataclass(slots=True)
class _Company:
    company_id: str
    identity: Identity
    industry: str
    employees: int
    effect: float
    parent: _Company | None
    accounts: dict[int, str] = field(default_factory=dict)
    account_created: dict[int, datetime] = field(default_factory=dict)
    account_names: dict[int, str] = field(default_factory=dict)
    account_owner: dict[int, str] = field(default_factory=dict)
    contacts: dict[int, list[str]] = field(default_factory=dict)


class _Generator:
    def __init__(self, spec: GroupSpec, sink: RecordSink, truth: GroundTruthWriter | None) -> None:
        self.spec = spec
        self.sink = sink
        self.truth = truth
        self.catalog: Catalog = build_catalog(spec.orgs, random.Random(f"{spec.seed}:catalog"))
        self.summary = GroupSummary(self.catalog.units)
        self.as_of = datetime(spec.as_of.year, spec.as_of.month, spec.as_of.day, tzinfo=UTC)
        self.start = self.as_of - timedelta(days=365 * spec.years)
        self.months = 12 * spec.years
        self.reps: dict[int, list[str]] = {}
        self.product_ids: dict[str, str] = {}
        self.entry_ids: dict[str, str] = {}
        self.pricebook: dict[int, str] = {}
        self.parents: deque[_Company] = deque(maxlen=64)

    def emit(self, unit: BusinessUnit, object_name: str, record: dict[str, Any]) -> str:
        minted = record.get("Id") or self.sink.minter(unit).mint(KEY_PREFIXES[object_name])
        record["Id"] = minted
        self.sink.emit(unit, object_name, record)
        self.summary.records[object_name] = self.summary.records.get(object_name, 0) + 1
        return str(minted)

    @staticmethod
    def audit(created: datetime, modified: datetime | None = None) -> dict[str, Any]:
        stamp = format_datetime(modified or created)
        return {
            "CreatedDate": format_datetime(created),
            "LastModifiedDate": stamp,
            "SystemModstamp": stamp,
            "IsDeleted": False,
        }

    # -- org setup -------------------------------------------------------------------------------

    def setup_orgs(self) -> None:
        rng = random.Random(f"{self.spec.seed}:setup")
        setup_time = self.start - timedelta(days=800)
        per_org = self.spec.accounts / max(self.spec.orgs, 1)
        for unit in self.catalog.units:
            reps: list[str] = []
            for _ in range(max(3, min(200, int(per_org / 150)))):
                first, last = person_name(rng)
                handle = f"{first}.{last}".lower().replace(" ", "").replace("ü", "u")
                username = f"{handle}.{len(reps) + 1}@{unit.name}.northwind.example.com"
                audit = self.audit(setup_time)
                del audit["IsDeleted"]
                reps.append(
                    self.emit(
                        unit,
                        "User",
                        {
                            "Username": username,
                            "FirstName": first,
                            "LastName": last,
                            "Name": f"{first} {last}",
                            "Email": username,
                            "Title": "Account Executive",
                            "Department": "Sales",
                            "IsActive": True,
                            **audit,
                        },
                    )
                )
            self.reps[unit.index] = reps
            audit = self.audit(setup_time)
            self.pricebook[unit.index] = self.emit(
                unit,
                "Pricebook2",
                {
                    "Name": "Standard Price Book",
                    "IsActive": True,
                    "IsStandard": True,
                    "CreatedById": reps[0],
                    "LastModifiedById": reps[0],
                    **audit,
                },
            )
            for product in unit.products:
                product_id = self.emit(
                    unit,
                    "Product2",
                    {
                        "Name": product.name,
                        "ProductCode": product.code,
                        "Family": product.family,
                        "IsActive": True,
                        "Description": f"{product.family} offering of {unit.label}",
                        "CurrencyIsoCode": unit.currency,
                        "CreatedById": reps[0],
                        "LastModifiedById": reps[0],
                        **audit,
                    },
                )
                self.product_ids[product.key] = product_id
                self.entry_ids[product.key] = self.emit(
                    unit,
                    "PricebookEntry",
                    {
                        "Name": product.name,
                        "ProductCode": product.code,
                        "Pricebook2Id": self.pricebook[unit.index],
                        "Product2Id": product_id,
                        "UnitPrice": product.list_price,
                        "IsActive": True,
                        "UseStandardPrice": False,
                        "CurrencyIsoCode": unit.currency,
                        "CreatedById": reps[0],
                        "LastModifiedById": reps[0],
                        **audit,
                    },
                )

    def header(self) -> dict[str, Any]:
        return {
            "seed": self.spec.seed,
            "as_of": self.spec.as_of.isoformat(),
            "horizon_days": self.spec.horizon_days,
            "history_start": self.start.date().isoformat(),
            "history_start_at": self.start.isoformat(),
            "month_days": _MONTH,
            "months": self.months,
            "co_ownership": [
                [a, b, round(v, 6)] for (a, b), v in sorted(self.catalog.drivers.co_ownership.items())
            ],
            "sellers": {family: self.catalog.seller_of(family).name for family in FAMILIES},
            "orgs": [
                {
                    "name": unit.name,
                    "org_id": org_id_for(unit.index),
                    "label": unit.label,
                    "currency": unit.currency,
                    "families": list(unit.families),
                }
                for unit in self.catalog.units
            ],
            "families": list(FAMILIES),
            "products": [
                {
                    "org": unit.name,
                    "product_id": self.product_ids[product.key],
                    "name": product.name,
                    "code": product.code,
                    "family": product.family,
                }
                for unit in self.catalog.units
                for product in unit.products
            ],
        }

    # -- companies -------------------------------------------------------------------------------

    def run(self) -> GroupSummary:
        self.setup_orgs()
        if self.truth:
            self.truth.header(self.header())
        number = 0
        while self.summary.accounts < self.spec.accounts:
            number += 1
            self.company(number)
        self.summary.companies = number
        return self.summary

    def new_company(self, number: int, rng: random.Random) -> _Company:
        parent = None
        if self.parents and rng.random() < 0.08:
            parent = rng.choice(list(self.parents))
            identity = subsidiary_identity(parent.identity, rng)
            industry = parent.industry if rng.random() < 0.7 else rng.choice(INDUSTRIES)
        else:
            identity = new_identity(rng)
            industry = rng.choice(INDUSTRIES)
        employees = max(1, min(400_000, int(math.exp(rng.gauss(4.6, 1.6)))))
        company = _Company(f"C{number:07d}", identity, industry, employees, rng.gauss(0.0, 0.5), parent)
        if employees > 2000 and parent is None:
            self.parents.append(company)
        return company

    def company(self, number: int) -> None:
        rng = random.Random(f"{self.spec.seed}:company:{number}")
        company = self.new_company(number, rng)
        units = self.catalog.units
        present = [unit for unit in units if rng.random() < unit.presence]
        if company.parent is not None and rng.random() < 0.6:
            present = [unit for unit in units if unit.index in company.parent.accounts] or present
        if not present:
            present = [rng.choice(units)]
        horizon_days = (self.as_of - self.start).days
        for position, unit in enumerate(present):
            offset = rng.uniform(-700, horizon_days - 60)
            company.account_created[unit.index] = self.start + timedelta(days=offset)
            company.accounts[unit.index] = self.sink.minter(unit).mint("001")
            company.account_owner[unit.index] = rng.choice(self.reps[unit.index])
            company.account_names[unit.index] = "" if position else "first"
        purchases, lost = self.simulate(company, rng)
        owned_families = {family for family, _, _ in purchases}
        for position, unit in enumerate(present):
            self.account(
                company,
                unit,
                rng,
                faithful=position == 0,
                customer=any(seller == unit.index for _, _, seller in purchases),
            )
            self.contacts(company, unit, rng)
        for family, when, seller in purchases:
            self.opportunity(company, units[seller], family, when, rng, stage="Closed Won")
        for family, when, seller in lost:
            self.opportunity(company, units[seller], family, when, rng, stage="Closed Lost")
        for unit in present:
            self.background_activity(company, unit, rng)
        propensity = self.propensities(company, owned_families)
        for family, probability in propensity.items():
            selling_unit = self.catalog.seller_of(family)
            if (
                probability is not None
                and selling_unit.index in company.accounts
                and rng.random() < probability * 0.5
            ):
                when = self.as_of + timedelta(days=rng.uniform(20, 120))
                self.opportunity(company, selling_unit, family, when, rng, stage=rng.choice(_OPEN_STAGES))
        self.summary.accounts += len(present)
        if self.truth:
            self.truth.company(
                {
                    "company_id": company.company_id,
                    "name": f"{company.identity.name} {company.identity.legal_form}",
                    "industry": company.industry,
                    "employees": company.employees,
                    "country": company.identity.country,
                    "parent_company_id": company.parent.company_id if company.parent else None,
                    "accounts": [
                        {"org": units[index].name, "account_id": account_id}
                        for index, account_id in company.accounts.items()
                    ],
                    "owned": sorted(owned_families),
                    "propensity": propensity,
                    "logits": {f: round(v, 6) for f, v in self.static_logits(company).items()},
                    "account_created": {
                        units[index].name: created.isoformat()
                        for index, created in company.account_created.items()
                    },
                    "purchases": [
                        [family, when.isoformat(), units[seller].name] for family, when, seller in purchases
                    ],
                }
            )

    def static_logits(self, company: _Company) -> dict[str, float]:
        drivers = self.catalog.drivers
        return {
            family: drivers.logit(company.industry, company.employees, set(), family, company.effect)
            for family in FAMILIES
        }

    def lift(self, owned: set[str], family: str) -> float:
        co = self.catalog.drivers.co_ownership
        return sum(co.get((other, family), 0.0) for other in owned)

    def simulate(
        self, company: _Company, rng: random.Random
    ) -> tuple[list[tuple[str, datetime, int]], list[tuple[str, datetime, int]]]:
        """Purchases (family, close time, selling org) and lost deals over the history window."""
        static = self.static_logits(company)
        owned: set[str] = set()
        purchases: list[tuple[str, datetime, int]] = []
        lost: list[tuple[str, datetime, int]] = []
        sellers = {family: self.catalog.seller_of(family).index for family in FAMILIES}
        hazard = {family: _sigmoid(static[family]) for family in FAMILIES}
        # Ownership before the window: roughly two years of exposure at today's hazard.
        for family in FAMILIES:
            seller = sellers[family]
            created = company.account_created.get(seller)
            if created is None or created >= self.start - timedelta(days=30):
                continue
            if rng.random() < 1 - (1 - hazard[family]) ** 24:
                when = created + (self.start - created) * rng.random()
                purchases.append((family, when, seller))
                owned.add(family)
        hazard = {family: _sigmoid(static[family] + self.lift(owned, family)) for family in FAMILIES}
        for month in range(self.months):
            month_start = self.start + timedelta(days=month * _MONTH)
            bought = False
            for family in FAMILIES:
                if family in owned:
                    continue
                seller = sellers[family]
                created = company.account_created.get(seller)
                if created is None or created > month_start:
                    continue
                roll = rng.random()
                if roll < hazard[family]:
                    when = min(
                        month_start + timedelta(days=rng.uniform(0, _MONTH)), self.as_of - timedelta(days=1)
                    )
                    purchases.append((family, when, seller))
                    owned.add(family)
                    bought = True
                elif roll < hazard[family] * 1.6:
                    when = min(
                        month_start + timedelta(days=rng.uniform(0, _MONTH)), self.as_of - timedelta(days=1)
                    )
                    lost.append((family, when, seller))
            if bought:
                hazard = {family: _sigmoid(static[family] + self.lift(owned, family)) for family in FAMILIES}
        return purchases, lost

    def propensities(self, company: _Company, owned: set[str]) -> dict[str, float | None]:
        static = self.static_logits(company)
        periods = self.spec.horizon_days / _MONTH
        return {
            family: None
            if family in owned
            else round(1 - (1 - _sigmoid(static[family] + self.lift(owned, family))) ** periods, 5)
            for family in FAMILIES
        }

    # -- records ---------------------------------------------------------------------------------

    def account(
        self, company: _Company, unit: BusinessUnit, rng: random.Random, *, faithful: bool, customer: bool
    ) -> None:
        fields = variant_of(company.identity, rng, faithful=faithful)
        created = company.account_created[unit.index]
        modified = min(created + timedelta(days=rng.uniform(0, 400)), self.as_of - timedelta(hours=1))
        employees: int | None = company.employees
        if rng.random() < 0.2:
            employees = None
        elif not faithful and rng.random() < 0.5:
            employees = max(1, int(company.employees * rng.uniform(0.8, 1.2)))
        industry: str | None = company.industry
        roll = rng.random()
        if roll < 0.1:
            industry = None
        elif roll < 0.15:
            industry = rng.choice(INDUSTRIES)
        parent = company.parent
        owner = company.account_owner[unit.index]
        record = {
            "Id": company.accounts[unit.index],
            **fields,
            "Type": "Customer - Direct" if customer else "Prospect",
            "ParentId": parent.accounts.get(unit.index) if parent else None,
            "Industry": industry,
            "NumberOfEmployees": employees,
            "AnnualRevenue": None
            if employees is None
            else float(round(employees * rng.uniform(8e4, 4e5), -3)),
            "OwnerId": owner,
            "CreatedById": owner,
            "LastModifiedById": owner,
            "CurrencyIsoCode": unit.currency,
            **self.audit(created, modified),
        }
        company.account_names[unit.index] = str(fields["Name"])
        self.emit(unit, "Account", record)

    def contacts(self, company: _Company, unit: BusinessUnit, rng: random.Random) -> None:
        created = company.account_created[unit.index]
        count = 1 + _poisson(rng, min(4.0, math.log10(company.employees + 1)))
        ids: list[str] = []
        for _ in range(count):
            first, last = person_name(rng)
            when = created + timedelta(days=rng.uniform(0, 90))
            email = (
                f"{first}.{last}".lower().replace(" ", "").replace("ü", "ue") + "@" + company.identity.domain
            )
            ids.append(
                self.emit(
                    unit,
                    "Contact",
                    {
                        "AccountId": company.accounts[unit.index],
                        "FirstName": first,
                        "LastName": last,
                        "Name": f"{first} {last}",
                        "Title": rng.choice(_TITLES),
                        "Email": email,
                        "Phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                        "MailingCity": company.identity.city,
                        "MailingCountry": company.identity.country,
                        "OwnerId": company.account_owner[unit.index],
                        "CreatedById": company.account_owner[unit.index],
                        "LastModifiedById": company.account_owner[unit.index],
                        **self.audit(when),
                    },
                )
            )
        company.contacts[unit.index] = ids

    def opportunity(
        self,
        company: _Company,
        unit: BusinessUnit,
        family: str,
        close: datetime,
        rng: random.Random,
        *,
        stage: str,
    ) -> None:
        owner = company.account_owner[unit.index]
        won, closed = stage == "Closed Won", stage.startswith("Closed")
        created = max(close - timedelta(days=rng.uniform(20, 150)), company.account_created[unit.index])
        modified = close if closed else min(created + timedelta(days=rng.uniform(1, 30)), self.as_of)
        products = unit.products_of(family)
        chosen = rng.sample(products, k=min(len(products), 1 if not won else rng.randint(1, 3)))
        scale = max(1, int(math.log10(company.employees + 1) * rng.uniform(1, 4)))
        items = [
            (product, float(rng.randint(1, scale)), round(product.list_price * rng.uniform(0.75, 1.0), 2))
            for product in chosen
        ]
        amount = round(sum(quantity * price for _, quantity, price in items), 2)
        name = f"{company.account_names[unit.index]} - {family} {close.year}"
        probability = {"Closed Won": 100.0, "Closed Lost": 0.0}.get(
            stage, rng.choice((10.0, 20.0, 40.0, 60.0, 80.0))
        )
        opportunity_id = self.emit(
            unit,
            "Opportunity",
            {
                "AccountId": company.accounts[unit.index],
                "Name": name,
                "StageName": stage,
                "Amount": amount,
                "Probability": probability,
                "CloseDate": close.date().isoformat(),
                "Type": "New Business",
                "LeadSource": rng.choice(("Web", "Phone Inquiry", "Partner Referral", "Trade Show")),
                "IsClosed": closed,
                "IsWon": won,
                "ForecastCategoryName": "Closed" if won else "Omitted" if closed else "Pipeline",
                "Pricebook2Id": self.pricebook[unit.index],
                "CurrencyIsoCode": unit.currency,
                "OwnerId": owner,
                "CreatedById": owner,
                "LastModifiedById": owner,
                **self.audit(created, modified),
            },
        )
        for product, quantity, price in items:
            self.emit(
                unit,
                "OpportunityLineItem",
                {
                    "OpportunityId": opportunity_id,
                    "PricebookEntryId": self.entry_ids[product.key],
                    "Product2Id": self.product_ids[product.key],
                    "Name": f"{name} {product.name}",
                    "ProductCode": product.code,
                    "Quantity": quantity,
                    "UnitPrice": price,
                    "TotalPrice": round(quantity * price, 2),
                    "ListPrice": product.list_price,
                    "ServiceDate": close.date().isoformat(),
                    "CurrencyIsoCode": unit.currency,
                    "CreatedById": owner,
                    "LastModifiedById": owner,
                    **self.audit(created, modified),
                },
            )
        surge = (3 + _poisson(rng, 4.0)) if won else _poisson(rng, 1.0) if closed else 1 + _poisson(rng, 2.0)
        for _ in range(surge):
            when = close - timedelta(days=rng.uniform(3, 60))
            when = max(when, created)
            self.activity(company, unit, when, rng, what_id=opportunity_id)

    def background_activity(self, company: _Company, unit: BusinessUnit, rng: random.Random) -> None:
        created = max(company.account_created[unit.index], self.start)
        span = (self.as_of - created).total_seconds()
        if span <= 0:
            return
        rate = 0.12 * (1 + math.log10(company.employees + 1) / 3)
        for _ in range(_poisson(rng, rate * span / 86400 / _MONTH)):
            when = created + timedelta(seconds=rng.uniform(0, span))
            self.activity(company, unit, when, rng, what_id=company.accounts[unit.index])

    def activity(
        self, company: _Company, unit: BusinessUnit, when: datetime, rng: random.Random, *, what_id: str
    ) -> None:
        owner = company.account_owner[unit.index]
        contacts: list[str | None] = [*company.contacts.get(unit.index, [])] or [None]
        archived = when < self.as_of - timedelta(days=365)
        common = {
            "WhoId": rng.choice(contacts),
            "WhatId": what_id,
            "AccountId": company.accounts[unit.index],
            "OwnerId": owner,
            "CreatedById": owner,
            "LastModifiedById": owner,
            "IsArchived": archived,
            **self.audit(when, when + timedelta(minutes=rng.randint(1, 600))),
        }
        if rng.random() < 0.7:
            kind = rng.choice(("Call", "Email", "Other"))
            self.emit(
                unit,
                "Task",
                {
                    "Subject": rng.choice(_TASK_SUBJECTS),
                    "ActivityDate": when.date().isoformat(),
                    "Status": "Completed",
                    "Priority": "High" if rng.random() < 0.2 else "Normal",
                    "IsClosed": True,
                    "Type": kind,
                    "TaskSubtype": "Email" if kind == "Email" else "Call" if kind == "Call" else "Task",
                    **common,
                },
            )
        else:
            minutes = rng.choice((30, 60, 90))
            self.emit(
                unit,
                "Event",
                {
                    "Subject": rng.choice(_EVENT_SUBJECTS),
                    "ActivityDate": when.date().isoformat(),
                    "ActivityDateTime": format_datetime(when),
                    "StartDateTime": format_datetime(when),
                    "EndDateTime": format_datetime(when + timedelta(minutes=minutes)),
                    "DurationInMinutes": minutes,
                    "Type": "Meeting",
                    "EventSubtype": "Event",
                    **common,
                },
            )


def generate_company_group(
    spec: GroupSpec, sink: RecordSink, ground_truth: Path | None = None
) -> GroupSummary:
    """Generate the group into `sink`, writing the ground truth (see `ground_truth`) when a path is given."""
    truth = GroundTruthWriter(ground_truth) if ground_truth else None
    try:
        return _Generator(spec, sink, truth).run()
    finally:
        sink.close()
        if truth:
            truth.close()
