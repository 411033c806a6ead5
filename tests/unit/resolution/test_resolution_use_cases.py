"""ResolveCustomers, review decisions, export and the crosswalk on in-memory fakes."""

from __future__ import annotations

import copy
import dataclasses

import pytest
from tests.fakes import FakeClock
from tests.fakes_resolution import FakeResolutionUnitOfWork

from adapters.resolution.rapidfuzz_scorer import RapidfuzzPairScorer
from application.resolution.crosswalk import (
    AssignProductFamily,
    ConfirmProductFamily,
    ListProducts,
    SuggestProductFamilies,
)
from application.resolution.export import ExportCustomers
from application.resolution.ports import ProductRecord, ResolutionRecord
from application.resolution.resolve import ResolveCustomers
from application.resolution.review import (
    DecideMatch,
    ListReviewQueue,
    MergeCustomers,
    ReopenMatch,
    SplitCustomer,
    UndoCustomerChange,
)
from domain.account import AccountKey
from domain.crosswalk import MappingSource
from domain.errors import NotFoundError
from domain.product import ProductKey
from domain.resolution.decisions import MatchThresholds
from domain.resolution.model import MatchModel

THRESHOLDS = MatchThresholds(0.9, 0.5, 0.001)


def _id(n: int) -> str:
    return f"001A{n:011d}AAA"


def _records() -> list[ResolutionRecord]:
    rows = [
        (
            "bu1",
            1,
            "Acme Robotics Inc.",
            "acme-robotics.com",
            "+1 212 555 0101",
            "12 Main Street",
            "New York",
            "US",
        ),
        (
            "bu2",
            2,
            "ACME ROBOTICS INC",
            "www.acme-robotics.com",
            "(212) 555-0101",
            "12 Main St.",
            "New York",
            "USA",
        ),
        ("bu3", 3, "Acme Robotcs", None, "212.555.0101", "12 Main Street", "New York", "United States"),
        ("bu1", 4, "Delta Airlines", "delta.com", "+1 404 715 2600", "1030 Delta Blvd", "Atlanta", "US"),
        (
            "bu2",
            5,
            "Delta Faucet",
            "deltafaucet.com",
            "+1 800 345 3358",
            "55 E 111th St",
            "Indianapolis",
            "US",
        ),
        (
            "bu1",
            6,
            "Keystone Mfg SAS",
            "keystonemanufacturing.fr",
            "+33 139 780 1762",
            "2084 Main Road",
            "Toulouse",
            "France",
        ),
        (
            "bu2",
            7,
            "Keystone Manufacturing SAS",
            "https://www.keystonemanufacturing.fr/",
            "+331397801762",
            "2084 Main Road",
            "Toulouse",
            "FR",
        ),
        ("bu3", 8, "😀", "not a site", "12", "", "", None),
        ("bu3", 9, "x" * 10_000, None, None, None, None, None),
    ]
    return [
        ResolutionRecord(AccountKey(org, _id(n)), name, web, phone, street, city, country)
        for org, n, name, web, phone, street, city, country in rows
    ]


def _resolver(uow: FakeResolutionUnitOfWork, clock: FakeClock) -> ResolveCustomers:
    return ResolveCustomers(uow, RapidfuzzPairScorer(), clock, THRESHOLDS)


def _partition(uow: FakeResolutionUnitOfWork) -> dict[str, frozenset[AccountKey]]:
    return {c.id: c.accounts for c in uow.customer_store.values() if c.members}


async def test_resolution_groups_the_same_company_and_keeps_different_ones_apart() -> None:
    uow, clock = FakeResolutionUnitOfWork(_records()), FakeClock()
    report = await _resolver(uow, clock).execute()
    groups = sorted(sorted(k.external_id for k in accounts) for accounts in _partition(uow).values())
    assert [_id(1), _id(2), _id(3)] in groups
    assert [_id(6), _id(7)] in groups
    assert [_id(4)] in groups and [_id(5)] in groups  # Delta Airlines is not Delta Faucet
    assert [_id(8)] in groups and [_id(9)] in groups  # bad input stays a singleton, no crash
    assert report.customers == len(groups) == 6
    assert report.multi_org_customers == 2


async def test_ids_stay_stable_and_incremental_equals_full() -> None:
    records = _records()
    uow, clock = FakeResolutionUnitOfWork(records), FakeClock()
    await _resolver(uow, clock).execute()
    before = _partition(uow)
    # Change one account, add one that belongs to an existing customer, delete one.
    changed = dataclasses.replace(records[4], name="Delta Faucet Company", phone="+1 800 345 3300")
    joining = ResolutionRecord(
        AccountKey("bu3", _id(10)),
        "Keystone Manufacturing",
        "keystonemanufacturing.fr",
        "+33 1 39 78 01762",
        "2084 Main Road",
        "Toulouse",
        "France",
    )
    uow.accounts = [r for r in records if r.key.external_id != _id(9)]
    uow.accounts[4] = changed
    uow.accounts.append(joining)
    twin = copy.deepcopy(uow)
    incremental = await _resolver(uow, clock).execute()
    full = await _resolver(twin, clock).execute(full=True)
    assert not incremental.full and incremental.changed_accounts == 3
    assert full.full
    assert _partition(uow) == _partition(twin)
    keystone = next(i for i, acc in before.items() if AccountKey("bu1", _id(6)) in acc)
    assert AccountKey("bu3", _id(10)) in _partition(uow)[keystone]  # joined the existing customer
    acme = next(i for i, acc in before.items() if AccountKey("bu1", _id(1)) in acc)
    assert _partition(uow)[acme] == before[acme]


async def test_human_decisions_override_the_model_on_later_runs_and_can_be_undone() -> None:
    uow, clock = FakeResolutionUnitOfWork(_records()), FakeClock()
    await _resolver(uow, clock).execute()
    acme = next(c for c in uow.customer_store.values() if AccountKey("bu1", _id(1)) in c.members)
    change = await SplitCustomer(uow, clock).execute(acme.id, [AccountKey("bu3", _id(3))], decided_by="ana")
    assert change.customer_id == acme.id  # the larger part keeps the id
    clock.advance(minutes=1)
    await _resolver(uow, clock).execute(full=True)
    assert uow.customer_store[acme.id].accounts == {AccountKey("bu1", _id(1)), AccountKey("bu2", _id(2))}
    # A reviewer says Delta Airlines and Delta Faucet are one company (wrongly, but people win).
    merged = await DecideMatch(uow, clock).execute(
        AccountKey("bu1", _id(4)), AccountKey("bu2", _id(5)), accept=True, decided_by="bob"
    )
    assert merged is not None
    await _resolver(uow, clock).execute(full=True)
    owners = await uow.customers.of_accounts([AccountKey("bu1", _id(4)), AccountKey("bu2", _id(5))])
    assert len(set(owners.values())) == 1
    rows = await ExportCustomers(uow).execute()
    delta = next(r for r in rows if r.account_external_id == _id(4))
    assert (delta.method, delta.decided_by) == ("human", "bob")
    await UndoCustomerChange(uow, clock).execute(change.id, decided_by="ana")
    await _resolver(uow, clock).execute(full=True)
    assert AccountKey("bu3", _id(3)) in uow.customer_store[acme.id].members  # back to the model's view


async def test_review_queue_lists_uncertain_pairs_with_explanations() -> None:
    records = [
        ResolutionRecord(
            AccountKey("bu1", _id(1)),
            "Westfield Engineering N.V.",
            "westfieldengineering.nl",
            "+318480587231",
            "945 Church Road",
            "Eindhoven",
            "Netherlands",
        ),
        ResolutionRecord(
            AccountKey("bu2", _id(2)),
            "Westfield Engineering N.V.",
            "westfieldengineering.nl",
            "+316289017728",
            "268 Market Avenue",
            "Eindhoven",
            "Netherlands",
        ),
    ]
    uow, clock = FakeResolutionUnitOfWork(records), FakeClock()
    report = await _resolver(uow, clock).execute()
    items = await ListReviewQueue(uow, THRESHOLDS).execute()
    assert report.review_pairs == len(items) == 1
    assert "phone different" in items[0].explanation.describe()
    await DecideMatch(uow, clock).execute(records[0].key, records[1].key, accept=False, decided_by="ana")
    assert await ListReviewQueue(uow, THRESHOLDS).execute() == []


async def test_a_scope_hides_pairs_and_refuses_changes_outside_it_as_unknown_ids() -> None:
    records = [
        ResolutionRecord(
            AccountKey(org, _id(n)),
            "Westfield Engineering N.V.",
            "westfieldengineering.nl",
            phone,
            street,
            "Eindhoven",
            "Netherlands",
        )
        for org, n, phone, street in (
            ("bu1", 1, "+318480587231", "945 Church Road"),
            ("bu2", 2, "+316289017728", "268 Market Avenue"),
        )
    ]
    uow, clock = FakeResolutionUnitOfWork(records), FakeClock()
    await _resolver(uow, clock).execute()
    left, right = records[0].key, records[1].key
    queue = ListReviewQueue(uow, THRESHOLDS)
    [item] = await queue.execute(readable=frozenset({"bu1", "bu2"}))
    assert (item.left_name, item.right_name) == ("Westfield Engineering N.V.",) * 2
    assert await queue.execute(readable=frozenset({"bu1"})) == []
    bu1 = frozenset({"bu1"})
    before = copy.deepcopy((uow.customer_store, uow.matches.decided))
    with pytest.raises(NotFoundError, match="not resolved yet"):
        await DecideMatch(uow, clock).execute(left, right, accept=False, decided_by="ana", scope=bu1)
    owners = await uow.customers.of_accounts([left, right])
    with pytest.raises(NotFoundError, match="no customer"):
        await MergeCustomers(uow, clock).execute(owners[left], owners[right], decided_by="ana", scope=bu1)
    assert (uow.customer_store, uow.matches.decided) == before
    # Inside the scope: keep apart, take it back, merge; the merge is out of reach of a narrower scope.
    both = frozenset({"bu1", "bu2"})
    await DecideMatch(uow, clock).execute(left, right, accept=False, decided_by="ana", scope=both)
    assert await queue.execute() == []
    with pytest.raises(NotFoundError):
        await ReopenMatch(uow).execute(left, right, scope=bu1)
    await ReopenMatch(uow).execute(right, left, scope=both)
    assert len(await queue.execute()) == 1
    change = await DecideMatch(uow, clock).execute(left, right, accept=True, decided_by="ana", scope=both)
    assert change is not None
    with pytest.raises(NotFoundError, match="no recorded merge or split"):
        await UndoCustomerChange(uow, clock).execute(change.id, decided_by="ana", scope=bu1)
    with pytest.raises(NotFoundError, match="no customer"):
        await SplitCustomer(uow, clock).execute(change.customer_id, [left], decided_by="ana", scope=bu1)
    await UndoCustomerChange(uow, clock).execute(change.id, decided_by="ana", scope=both)
    assert len(await queue.execute()) == 1


async def test_crosswalk_edits_stay_in_scope_and_pages_walk_every_product() -> None:
    uow, clock = FakeResolutionUnitOfWork(), FakeClock()
    uow.crosswalk.items = [
        ProductRecord(ProductKey(org, _id(n)), f"CRM {n}", None, "CRM Suite", None)
        for org, n in (("bu1", 1), ("bu2", 2), ("bu2", 3))
    ]
    await SuggestProductFamilies(uow, clock).execute()
    with pytest.raises(NotFoundError, match="no product bu2:"):
        await AssignProductFamily(uow, clock).execute(
            ProductKey("bu2", _id(2)), None, decided_by="ana", scope=frozenset({"bu1"})
        )
    with pytest.raises(NotFoundError):
        await AssignProductFamily(uow, clock).execute(ProductKey("bu1", _id(9)), None, decided_by="ana")
    with pytest.raises(NotFoundError):
        await ConfirmProductFamily(uow, clock).execute(
            ProductKey("bu2", _id(2)), decided_by="ana", scope=frozenset({"bu1"})
        )
    assert all(not m.confirmed for m in uow.crosswalk.crosswalk.mappings.values())
    listing, seen, cursor = ListProducts(uow), [], None
    while True:
        page = await listing.execute(frozenset({"bu2"}), limit=1, cursor=cursor)
        seen += [row.product.key for row in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert seen == [ProductKey("bu2", _id(2)), ProductKey("bu2", _id(3))]
    assert (await listing.execute(None, unmapped=True)).items == []
    assert len((await listing.execute(None, family_id="crm-suite")).items) == 3


async def test_crosswalk_suggests_from_product2_family_then_names_and_keeps_confirmations() -> None:
    uow, clock = FakeResolutionUnitOfWork(), FakeClock()
    crm = ProductKey("bu1", _id(1))
    uow.crosswalk.items = [
        ProductRecord(crm, "CRM Enterprise", "CRM-ENT-1", "CRM Suite", None),
        ProductRecord(ProductKey("bu2", _id(2)), "CRM Suite Professional", "CRM-PRO-2", None, None),
        ProductRecord(ProductKey("bu2", _id(3)), "Onboarding fee", None, None, None),
    ]
    report = await SuggestProductFamilies(uow, clock).execute()
    assert (report.families_created, report.suggested, report.unmapped) == (1, 2, 1)
    mappings = uow.crosswalk.crosswalk.mappings
    assert mappings[crm].source is MappingSource.PRODUCT2_FAMILY
    assert mappings[ProductKey("bu2", _id(2))].source is MappingSource.NAME
    await ConfirmProductFamily(uow, clock).execute(crm, decided_by="ana")
    await SuggestProductFamilies(uow, clock).execute()
    assert uow.crosswalk.crosswalk.mappings[crm].confirmed
    with pytest.raises(LookupError):
        await ConfirmProductFamily(uow, clock).execute(ProductKey("bu2", _id(3)), decided_by="ana")


async def test_parents_and_subsidiaries_stay_two_customers_linked_as_a_relation() -> None:
    def record(org: str, n: int, name: str, parent: int | None = None) -> ResolutionRecord:
        # Parent and subsidiary share switchboard, street and domain: only ParentId tells them apart.
        return ResolutionRecord(
            AccountKey(org, _id(n)),
            name,
            "northwind.com",
            "+44 20 7946 0000",
            "1 Harbour Road",
            "London",
            "GB",
            None if parent is None else _id(parent),
        )

    records = [
        record("bu1", 1, "Northwind Group plc"),
        record("bu1", 2, "Northwind Group", parent=1),
        record("bu2", 3, "Northwind Group PLC"),
        ResolutionRecord(
            AccountKey("bu2", _id(4)), "Northwind Benelux B.V.", "northwind.nl", None, None, "Utrecht"
        ),
    ]
    uow, clock = FakeResolutionUnitOfWork(records), FakeClock()
    report = await _resolver(uow, clock).execute()
    customer_of = {k: c.id for c in uow.customer_store.values() for k in c.members}
    parent, child = customer_of[AccountKey("bu1", _id(1))], customer_of[AccountKey("bu1", _id(2))]
    assert parent != child  # the CRM says two companies, however alike they look
    assert customer_of[AccountKey("bu2", _id(3))] == parent
    benelux = customer_of[AccountKey("bu2", _id(4))]
    relations = {(r.parent_id, r.child_id, r.source.value) for r in await uow.customers.relations()}
    assert (parent, child, "crm_parent") in relations
    assert (parent, benelux, "name") in relations  # "Northwind Group" -> "Northwind Benelux"
    assert report.relations == len(relations)


def test_a_warm_scorer_scores_a_change_as_a_fresh_one_does() -> None:
    # A scorer that ran before keeps each row's block keys and rewrites only the rows that moved.
    model = MatchModel.default()
    before = _records() + [
        ResolutionRecord(AccountKey("bu3", _id(100 + n)), f"Filler Company {n}", f"filler{n}.com")
        for n in range(40)
    ]
    after = list(before)
    after[2] = dataclasses.replace(after[2], name="Delta Air Lines", phone="+1 404 715 2600", street=None)
    warm = RapidfuzzPairScorer()
    statistics = warm.statistics(before)
    warm.score(before, statistics, model, THRESHOLDS)
    changed = {after[2].key}
    fresh = RapidfuzzPairScorer()
    fresh.statistics(after)
    assert warm.score(after, statistics, model, THRESHOLDS, changed) == fresh.score(
        after, statistics, model, THRESHOLDS, changed
    )
    assert warm.last_comparisons == fresh.last_comparisons > 0
