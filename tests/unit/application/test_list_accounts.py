"""ListAccounts on the in-memory unit of work: ordering, filters, keyset pages and bad input."""

from __future__ import annotations

import pytest
from tests.fakes import FakeUnitOfWork

from application.accounts import AccountQuery, ListAccounts
from application.errors import InvalidCursorError, InvalidRequestError
from application.pagination import encode_cursor
from domain.access import Principal, PrincipalKind, Role
from domain.account import Account
from domain.errors import NotFoundError
from domain.ids import SalesforceId
from domain.org import Org, OrgKind

ADMIN = Principal(subject="admin", kind=PrincipalKind.USER, role=Role.ADMIN, org_ids=frozenset())


def _account(org: str, n: int) -> Account:
    return Account(
        org_id=org, external_id=SalesforceId.parse(f"001000000{n:06d}").value, name=f"Co {n}", currency="USD"
    )


@pytest.fixture
async def uow() -> FakeUnitOfWork:
    fake = FakeUnitOfWork()
    async with fake:
        for org in ("emea", "amer", "apac"):
            await fake.orgs.add(Org(org, org.upper(), OrgKind.SALESFORCE, org, "USD"))
        await fake.accounts.upsert([_account(org, n) for org in ("emea", "amer") for n in range(7)])
        await fake.commit()
    return fake


async def test_pages_walk_every_account_once_in_key_order(uow: FakeUnitOfWork) -> None:
    use_case = ListAccounts(uow)
    seen: list[tuple[str, str]] = []
    cursor = None
    pages = 0
    while True:
        page = await use_case.execute(AccountQuery(limit=3, cursor=cursor), ADMIN)
        pages += 1
        seen += [(a.org_id, a.external_id) for a in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == 14
    assert seen == sorted(seen)
    assert len(set(seen)) == 14
    assert pages == 5  # 3+3+3+3+2


async def test_filter_by_org(uow: FakeUnitOfWork) -> None:
    page = await ListAccounts(uow).execute(AccountQuery(org_ids=["emea"], limit=50), ADMIN)
    assert {a.org_id for a in page.items} == {"emea"}
    assert len(page.items) == 7
    assert page.next_cursor is None


async def test_exact_fit_page_has_no_next_cursor(uow: FakeUnitOfWork) -> None:
    page = await ListAccounts(uow).execute(AccountQuery(org_ids=["amer"], limit=7), ADMIN)
    assert len(page.items) == 7
    assert page.next_cursor is None


@pytest.mark.parametrize("cursor", ["not-base64!!", "e30", encode_cursor("customers", ["a", "b"]), ""])
async def test_foreign_or_garbled_cursor_is_rejected(uow: FakeUnitOfWork, cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        await ListAccounts(uow).execute(AccountQuery(cursor=cursor), ADMIN)


@pytest.mark.parametrize("limit", [0, -1, 501])
async def test_limit_out_of_range_is_rejected(uow: FakeUnitOfWork, limit: int) -> None:
    with pytest.raises(InvalidRequestError):
        await ListAccounts(uow, max_page_size=500).execute(AccountQuery(limit=limit), ADMIN)


async def test_reading_never_commits(uow: FakeUnitOfWork) -> None:
    before = uow.commits
    await ListAccounts(uow).execute(AccountQuery(), ADMIN)
    assert uow.commits == before


def _sales(*org_ids: str) -> Principal:
    return Principal(subject="s", kind=PrincipalKind.USER, role=Role.SALES, org_ids=frozenset(org_ids))


async def test_a_non_admin_sees_only_granted_orgs(uow: FakeUnitOfWork) -> None:
    page = await ListAccounts(uow).execute(AccountQuery(limit=500), _sales("amer"))
    assert {a.org_id for a in page.items} == {"amer"}
    assert len(page.items) == 7


async def test_a_non_admin_without_grants_sees_nothing(uow: FakeUnitOfWork) -> None:
    page = await ListAccounts(uow).execute(AccountQuery(limit=500), _sales())
    assert page.items == []
    assert page.next_cursor is None


@pytest.mark.parametrize("org", ["emea", "nowhere"])
async def test_filtering_by_a_non_granted_org_reads_like_an_unknown_one(
    uow: FakeUnitOfWork, org: str
) -> None:
    with pytest.raises(NotFoundError) as caught:
        await ListAccounts(uow).execute(AccountQuery(org_ids=[org, "amer"]), _sales("amer"))
    assert str(caught.value) == f"no org {org}"


async def test_an_admin_filtering_by_an_unknown_org_gets_not_found(uow: FakeUnitOfWork) -> None:
    with pytest.raises(NotFoundError):
        await ListAccounts(uow).execute(AccountQuery(org_ids=["nowhere"]), ADMIN)
