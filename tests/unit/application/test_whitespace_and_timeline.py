"""ShowWhitespace and ShowCustomerTimeline on in-memory sources: the caller's scope reaches the source,
bad limits and unreadable customers are refused before it is asked."""

from __future__ import annotations

import pytest

from application.customers import CustomerAccount, CustomerProfile, ShowCustomerTimeline, TimelineEvent
from application.errors import InvalidRequestError
from application.whitespace import ShowWhitespace, Whitespace, WhitespaceAxis, WhitespaceCell, WhitespaceRow
from domain.access import Principal, PrincipalKind, Role
from domain.errors import NotFoundError

ADMIN = Principal(subject="ana", kind=PrincipalKind.USER, role=Role.ADMIN, org_ids=frozenset())
EMEA = Principal(subject="eve", kind=PrincipalKind.USER, role=Role.SALES, org_ids=frozenset({"emea"}))


class StubWhitespaceSource:
    """Answers one fixed map and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, frozenset[str] | None, int | None]] = []
        self.map = Whitespace(
            by=WhitespaceAxis.INDUSTRY,
            rows=[WhitespaceRow("Retail", "Retail", 5)],
            families=["crm"],
            cells=[WhitespaceCell("Retail", "crm", owned=2, recommended=1, expected_value=10.0)],
            currency="USD",
        )

    async def by_industry(self, readable: frozenset[str] | None) -> Whitespace:
        self.asked.append(("industry", readable, None))
        return self.map

    async def by_customer(self, readable: frozenset[str] | None, limit: int) -> Whitespace:
        self.asked.append(("customer", readable, limit))
        return self.map


class FakeCustomers:
    """One customer with an emea account, and its history."""

    def __init__(self) -> None:
        self.event = TimelineEvent(None, "emea", "001", "task", "Call", "Call · Completed")

    async def search(self, *_args: object) -> list[object]:
        return []

    async def profile(self, customer_id: str, readable: frozenset[str] | None) -> CustomerProfile | None:
        if customer_id != "c-1" or (readable is not None and "emea" not in readable):
            return None
        return CustomerProfile("c-1", "Acme", [CustomerAccount("emea", "001", "Acme", None, 0.9, "rule")])

    async def timeline(
        self, customer_id: str, readable: frozenset[str] | None, limit: int
    ) -> list[TimelineEvent]:
        return [self.event][:limit]


async def test_whitespace_passes_the_callers_scope_and_counts_empty_customers() -> None:
    source = StubWhitespaceSource()
    use_case = ShowWhitespace(source)

    found = await use_case.execute(EMEA, WhitespaceAxis.INDUSTRY)
    await use_case.execute(ADMIN, WhitespaceAxis.CUSTOMER, limit=5)

    assert source.asked == [("industry", frozenset({"emea"}), None), ("customer", None, 5)]
    assert found.empty(found.cells[0]) == 2


@pytest.mark.parametrize("limit", [0, 101])
async def test_whitespace_refuses_a_limit_out_of_range(limit: int) -> None:
    source = StubWhitespaceSource()
    with pytest.raises(InvalidRequestError):
        await ShowWhitespace(source).execute(ADMIN, WhitespaceAxis.CUSTOMER, limit=limit)
    assert source.asked == []


async def test_timeline_of_a_readable_customer_and_404_otherwise() -> None:
    customers = FakeCustomers()
    use_case = ShowCustomerTimeline(customers, customers)

    assert await use_case.execute("c-1", EMEA) == [customers.event]
    other = Principal(subject="bo", kind=PrincipalKind.USER, role=Role.SALES, org_ids=frozenset({"apac"}))
    with pytest.raises(NotFoundError):
        await use_case.execute("c-1", other)
    with pytest.raises(NotFoundError):
        await use_case.execute("c-404", ADMIN)
    with pytest.raises(InvalidRequestError):
        await use_case.execute("c-1", ADMIN, limit=0)
