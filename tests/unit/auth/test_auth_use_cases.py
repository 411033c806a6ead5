"""Sign-in, refresh rotation and reuse detection, sign-out, client tokens and user administration on fakes."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Self

import pytest
from tests.fakes import FakeClock
from tests.fakes_auth import FakeAuthUnitOfWork, FakePasswordHasher, FakeTokenCodec

from application.auth import (
    AddServiceClient,
    AddUser,
    Authenticate,
    GrantOrg,
    IssueClientToken,
    Login,
    Logout,
    NewServiceClient,
    NewUser,
    PrincipalCache,
    RefreshSession,
    RevokeOrg,
    SetPassword,
    UpdateUser,
    UserChange,
)
from application.auth.ports import GateAnswer, TokenType
from application.errors import AuthenticationError, InvalidRequestError
from application.ports.rate_limit import RateLimitDecision
from domain.access import PrincipalKind, Role
from domain.errors import ConflictError, NotFoundError
from domain.org import Org, OrgKind

PASSWORD = "correct horse battery staple"


class World:
    def __init__(self) -> None:
        self.uow = FakeAuthUnitOfWork()
        self.hasher = FakePasswordHasher()
        self.tokens = FakeTokenCodec()
        self.clock = FakeClock()

    async def user(self, email: str = "ana@example.com", role: Role = Role.SALES, *orgs: str) -> uuid.UUID:
        async with self.uow:
            for org_id in orgs:
                if await self.uow.orgs.get(org_id) is None:
                    await self.uow.orgs.add(Org(org_id, org_id.upper(), OrgKind.SALESFORCE, org_id, "USD"))
            await self.uow.commit()
        user = await AddUser(self.uow, self.hasher, self.clock).execute(
            NewUser(email=email, display_name="Ana", role=role, password=PASSWORD, org_ids=orgs)
        )
        return user.id

    def login(self) -> Login:
        return Login(self.uow, self.hasher, self.tokens, self.clock)

    def refresh(self) -> RefreshSession:
        return RefreshSession(self.uow, self.tokens, self.clock)

    def authenticate(self) -> Authenticate:
        return Authenticate(lambda: self.uow, self.tokens)


@pytest.fixture
def world() -> World:
    return World()


async def test_login_gives_access_and_refresh_tokens_of_one_session(world: World) -> None:
    user_id = await world.user("Ana@Example.com", Role.SALES, "emea")
    pair = await world.login().execute("  ANA@example.com ", PASSWORD)
    assert pair.refresh is not None
    assert pair.access.claims.token_type is TokenType.ACCESS
    assert pair.access.claims.session_id == pair.refresh.claims.session_id
    principal = await world.authenticate().execute(pair.access.token)
    assert principal.subject == str(user_id)
    assert principal.kind is PrincipalKind.USER
    assert principal.org_ids == {"emea"}
    assert principal.can_read_org("emea") and not principal.can_read_org("amer")


async def test_unknown_user_and_wrong_password_fail_the_same_way_after_the_same_work(world: World) -> None:
    await world.user()
    answers = []
    for email, password in [
        ("nobody@example.com", PASSWORD),
        ("ana@example.com", "wrong password!"),
        ("not an email", PASSWORD),
    ]:
        with pytest.raises(AuthenticationError) as caught:
            await world.login().execute(email, password)
        answers.append(str(caught.value))
    assert len(set(answers)) == 1
    # Every attempt verified one hash: the unknown ones against the dummy (None), the wrong one against Ana's.
    assert len(world.hasher.verified) == 3
    assert world.hasher.verified[0] is None and world.hasher.verified[2] is None
    assert world.hasher.verified[1] is not None


async def test_an_inactive_user_cannot_sign_in(world: World) -> None:
    await world.user("root@example.com", Role.ADMIN)
    user_id = await world.user()
    await UpdateUser(world.uow).execute(user_id, UserChange(active=False))
    with pytest.raises(AuthenticationError):
        await world.login().execute("ana@example.com", PASSWORD)


async def test_login_rehashes_a_password_hashed_with_old_parameters(world: World) -> None:
    user_id = await world.user()
    world.hasher.version = 2
    await world.login().execute("ana@example.com", PASSWORD)
    assert world.uow.committed_users[user_id].password_hash == f"hashed:2:{PASSWORD}"


async def test_refresh_rotates_and_the_old_refresh_token_is_used_up(world: World) -> None:
    await world.user()
    first = await world.login().execute("ana@example.com", PASSWORD)
    assert first.refresh is not None
    second = await world.refresh().execute(first.refresh.token)
    assert second.refresh is not None
    assert second.refresh.token != first.refresh.token
    assert second.refresh.claims.session_id == first.refresh.claims.session_id
    await world.authenticate().execute(second.access.token)
    third = await world.refresh().execute(second.refresh.token)
    assert third.refresh is not None


async def test_reusing_a_refresh_token_revokes_the_whole_session(world: World) -> None:
    await world.user()
    first = await world.login().execute("ana@example.com", PASSWORD)
    assert first.refresh is not None
    second = await world.refresh().execute(first.refresh.token)
    assert second.refresh is not None
    with pytest.raises(AuthenticationError):
        await world.refresh().execute(first.refresh.token)  # the thief, or the victim: both lose
    with pytest.raises(AuthenticationError):
        await world.refresh().execute(second.refresh.token)
    for access in (first.access.token, second.access.token):
        with pytest.raises(AuthenticationError):
            await world.authenticate().execute(access)
    (session,) = world.uow.committed_sessions.values()
    assert session.revoked_reason == "refresh token reused"


async def test_another_session_survives_reuse_in_one_session(world: World) -> None:
    await world.user()
    laptop = await world.login().execute("ana@example.com", PASSWORD)
    phone = await world.login().execute("ana@example.com", PASSWORD)
    assert laptop.refresh is not None and phone.refresh is not None
    await world.refresh().execute(laptop.refresh.token)
    with pytest.raises(AuthenticationError):
        await world.refresh().execute(laptop.refresh.token)
    await world.authenticate().execute(phone.access.token)
    await world.refresh().execute(phone.refresh.token)


async def test_logout_revokes_refresh_and_access_tokens(world: World) -> None:
    await world.user()
    pair = await world.login().execute("ana@example.com", PASSWORD)
    assert pair.refresh is not None
    await Logout(world.uow, world.tokens, world.clock).execute(pair.refresh.token)
    with pytest.raises(AuthenticationError):
        await world.refresh().execute(pair.refresh.token)
    with pytest.raises(AuthenticationError):
        await world.authenticate().execute(pair.access.token)


async def test_token_types_are_not_interchangeable(world: World) -> None:
    await world.user()
    pair = await world.login().execute("ana@example.com", PASSWORD)
    assert pair.refresh is not None
    with pytest.raises(AuthenticationError):
        await world.authenticate().execute(pair.refresh.token)
    with pytest.raises(AuthenticationError):
        await world.refresh().execute(pair.access.token)


async def test_disabled_or_demoted_user_is_seen_at_the_next_request(world: World) -> None:
    await world.user("root@example.com", Role.ADMIN)
    user_id = await world.user("ana@example.com", Role.ANALYST, "emea")
    pair = await world.login().execute("ana@example.com", PASSWORD)
    await RevokeOrg(world.uow).execute(user_id, "emea")
    assert (await world.authenticate().execute(pair.access.token)).org_ids == frozenset()
    await UpdateUser(world.uow).execute(user_id, UserChange(active=False))
    with pytest.raises(AuthenticationError):
        await world.authenticate().execute(pair.access.token)


async def test_expired_access_token_is_rejected(world: World) -> None:
    await world.user()
    pair = await world.login().execute("ana@example.com", PASSWORD)
    world.tokens.expire(pair.access.token)
    with pytest.raises(AuthenticationError):
        await world.authenticate().execute(pair.access.token)


async def test_service_client_gets_an_access_token_only(world: World) -> None:
    await world.user("root@example.com", Role.ADMIN, "emea")
    client, secret = await AddServiceClient(world.uow, world.hasher, world.clock).execute(
        NewServiceClient(id="crm-bridge", name="CRM bridge", role=Role.ANALYST, org_ids=["emea"])
    )
    use_case = IssueClientToken(world.uow, world.hasher, world.tokens, world.clock)
    pair = await use_case.execute("crm-bridge", secret)
    assert pair.refresh is None
    principal = await world.authenticate().execute(pair.access.token)
    assert principal.kind is PrincipalKind.SERVICE_CLIENT
    assert principal.org_ids == {"emea"}
    answers = set()
    for client_id, given in [("crm-bridge", "wrong"), ("nobody", secret)]:
        with pytest.raises(AuthenticationError) as caught:
            await use_case.execute(client_id, given)
        answers.add(str(caught.value))
    assert len(answers) == 1
    assert world.hasher.verified[-1] is None  # the unknown client was checked against the dummy
    assert client.secret_hash != secret


async def test_user_administration_rules(world: World) -> None:
    admin_id = await world.user("root@example.com", Role.ADMIN, "emea")
    with pytest.raises(ConflictError):
        await world.user("ROOT@example.com", Role.SALES)
    with pytest.raises(ConflictError):
        await UpdateUser(world.uow).execute(admin_id, UserChange(role=Role.SALES))
    with pytest.raises(InvalidRequestError):
        await AddUser(world.uow, world.hasher, world.clock).execute(
            NewUser(email="b@example.com", display_name="B", role=Role.SALES, password="short")
        )
    user_id = await world.user("bo@example.com", Role.SALES)
    with pytest.raises(NotFoundError):
        await GrantOrg(world.uow).execute(user_id, "nowhere")
    with pytest.raises(NotFoundError):
        await GrantOrg(world.uow).execute(uuid.uuid4(), "emea")
    granted = await GrantOrg(world.uow).execute("bo@example.com", "emea")
    assert granted.org_ids == {"emea"}
    assert (await GrantOrg(world.uow).execute(user_id, "emea")).org_ids == {"emea"}
    assert (await RevokeOrg(world.uow).execute(user_id, "emea")).org_ids == set()
    await UpdateUser(world.uow).execute(user_id, UserChange(role=Role.ADMIN))
    await UpdateUser(world.uow).execute(admin_id, UserChange(active=False))  # another admin remains


async def test_a_new_password_signs_the_user_out_everywhere(world: World) -> None:
    user_id = await world.user()
    pair = await world.login().execute("ana@example.com", PASSWORD)
    await SetPassword(world.uow, world.hasher, world.clock).execute(user_id, "another long password")
    with pytest.raises(AuthenticationError):
        await world.authenticate().execute(pair.access.token)
    with pytest.raises(AuthenticationError):
        await world.login().execute("ana@example.com", PASSWORD)
    await world.login().execute("ana@example.com", "another long password")


# -- reuse of checked principals (PrincipalCache) ---------------------------------------------------------


class FakeAuthVersion:
    """Like the Redis generation: moves on with every commit of the unit of work; `down`: unreadable."""

    def __init__(self, uow: FakeAuthUnitOfWork) -> None:
        self._uow = uow
        self.down = False

    async def current(self) -> str | None:
        return None if self.down else str(self._uow.commits)


class CountingAuthUnitOfWork(FakeAuthUnitOfWork):
    """Counts how often authentication reads the store, and takes a moment each time (so checks overlap)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def __aenter__(self) -> Self:
        self.reads += 1
        await asyncio.sleep(0.01)
        return await super().__aenter__()


class FakeAdmissionGate:
    """Counts requests per subject in one fixed window and reads the version, like the Redis script."""

    def __init__(self, version: FakeAuthVersion) -> None:
        self._version = version
        self.counts: dict[str, int] = {}

    async def enter(self, subject: str, limit: int, window_seconds: int) -> GateAnswer:
        version = await self._version.current()
        if version is None:  # the store is down: neither part is known
            return GateAnswer(decision=None, version=None)
        count = self.counts[subject] = self.counts.get(subject, 0) + 1
        decision = RateLimitDecision(
            allowed=count <= limit, limit=limit, remaining=max(0, limit - count), reset_seconds=window_seconds
        )
        return GateAnswer(decision=decision, version=version, watched={"recommendations": "7"})


class CachingWorld(World):
    def __init__(self) -> None:
        super().__init__()
        self.uow = CountingAuthUnitOfWork()
        self.version = FakeAuthVersion(self.uow)
        self.seconds = 0.0
        self.cache = PrincipalCache(
            ttl_seconds=5.0, clock=lambda: self.seconds, wall_clock=lambda: self.clock.now().timestamp()
        )
        self.gate = FakeAdmissionGate(self.version)

    def authenticate(self) -> Authenticate:
        return Authenticate(lambda: self.uow, self.tokens, self.cache, self.version, self.gate)


@pytest.fixture
def caching() -> CachingWorld:
    return CachingWorld()


async def test_a_checked_principal_is_reused_without_reading_the_store(caching: CachingWorld) -> None:
    await caching.user("ana@example.com", Role.SALES, "emea")
    pair = await caching.login().execute("ana@example.com", PASSWORD)
    caching.uow.reads = 0
    first = await caching.authenticate().execute(pair.access.token)
    for _ in range(5):
        assert await caching.authenticate().execute(pair.access.token) == first
    assert caching.uow.reads == 1
    caching.seconds += 5.0  # the reuse window is over: checked again
    await caching.authenticate().execute(pair.access.token)
    assert caching.uow.reads == 2


async def test_every_committed_auth_change_ends_reuse_at_once(caching: CachingWorld) -> None:
    await caching.user("root@example.com", Role.ADMIN)
    user_id = await caching.user("ana@example.com", Role.ANALYST, "emea")
    pair = await caching.login().execute("ana@example.com", PASSWORD)
    other = await caching.login().execute("ana@example.com", PASSWORD)
    assert (await caching.authenticate().execute(pair.access.token)).org_ids == {"emea"}
    await RevokeOrg(caching.uow).execute(user_id, "emea")
    assert (await caching.authenticate().execute(pair.access.token)).org_ids == frozenset()
    assert other.refresh is not None
    await Logout(caching.uow, caching.tokens, caching.clock).execute(other.refresh.token)
    with pytest.raises(AuthenticationError):
        await caching.authenticate().execute(other.access.token)
    await UpdateUser(caching.uow).execute(user_id, UserChange(active=False))
    with pytest.raises(AuthenticationError):
        await caching.authenticate().execute(pair.access.token)


async def test_nothing_is_reused_when_the_version_cannot_be_read(caching: CachingWorld) -> None:
    user_id = await caching.user("ana@example.com", Role.SALES, "emea")
    pair = await caching.login().execute("ana@example.com", PASSWORD)
    caching.version.down = True
    await caching.authenticate().execute(pair.access.token)
    await caching.authenticate().execute(pair.access.token)
    assert caching.uow.reads >= 2
    # A change whose notice never arrived (the version is unreadable) is still seen at the next request.
    user = caching.uow.committed_users[user_id]
    caching.uow.committed_users[user_id] = dataclasses.replace(user, active=False)
    with pytest.raises(AuthenticationError):
        await caching.authenticate().execute(pair.access.token)


async def test_a_reused_principal_never_outlives_its_token(caching: CachingWorld) -> None:
    caching.cache = PrincipalCache(
        ttl_seconds=3600.0, clock=lambda: caching.seconds, wall_clock=lambda: caching.clock.now().timestamp()
    )
    await caching.user()
    pair = await caching.login().execute("ana@example.com", PASSWORD)
    await caching.authenticate().execute(pair.access.token)
    caching.clock.advance(minutes=15)
    caching.tokens.expire(pair.access.token)
    with pytest.raises(AuthenticationError):
        await caching.authenticate().execute(pair.access.token)


async def test_concurrent_checks_of_one_token_read_the_store_once(caching: CachingWorld) -> None:
    await caching.user()
    pair = await caching.login().execute("ana@example.com", PASSWORD)
    caching.uow.reads = 0
    principals = await asyncio.gather(*(caching.authenticate().execute(pair.access.token) for _ in range(8)))
    assert len(set(principals)) == 1
    assert caching.uow.reads == 1
    # A rejected token is rejected for every concurrent caller, and nothing is kept for it.
    caching.tokens.expire(pair.access.token)
    caching.seconds += 5.0
    results = await asyncio.gather(
        *(caching.authenticate().execute(pair.access.token) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(result, AuthenticationError) for result in results)


async def test_admit_counts_the_token_subject_and_reuses_under_the_version_it_read(
    caching: CachingWorld,
) -> None:
    user_id = await caching.user("ana@example.com", Role.SALES, "emea")
    pair = await caching.login().execute("ana@example.com", PASSWORD)
    caching.uow.reads = 0
    answers = [await caching.authenticate().admit(pair.access.token, 3, 60) for _ in range(4)]
    assert [a.decision.allowed for a in answers if a.decision] == [True, True, True, False]
    assert [a.decision.remaining for a in answers if a.decision] == [2, 1, 0, 0]
    assert caching.gate.counts == {str(user_id): 4}
    assert caching.uow.reads == 1  # checked once, then reused under the version the gate read
    assert {a.principal for a in answers} == {answers[0].principal}
    assert answers[0].watched == {"recommendations": "7"}
    await RevokeOrg(caching.uow).execute(user_id, "emea")  # a commit: the version moves on
    assert (await caching.authenticate().admit(pair.access.token, 10, 60)).principal.org_ids == frozenset()


async def test_admit_refuses_a_bad_token_before_counting_anything(caching: CachingWorld) -> None:
    await caching.user()
    pair = await caching.login().execute("ana@example.com", PASSWORD)
    with pytest.raises(AuthenticationError):
        await caching.authenticate().admit(pair.access.token + "x", 10, 60)
    assert pair.refresh is not None
    with pytest.raises(AuthenticationError):  # a refresh token is not an access token
        await caching.authenticate().admit(pair.refresh.token, 10, 60)
    assert caching.gate.counts == {}


async def test_admit_without_the_shared_store_lets_in_uncounted_and_reuses_nothing(
    caching: CachingWorld,
) -> None:
    await caching.user()
    pair = await caching.login().execute("ana@example.com", PASSWORD)
    caching.version.down = True
    caching.uow.reads = 0
    first = await caching.authenticate().admit(pair.access.token, 10, 60)
    second = await caching.authenticate().admit(pair.access.token, 10, 60)
    assert first.decision is None and second.decision is None
    assert first.watched == {} and caching.uow.reads == 2


async def test_near_the_end_of_reuse_one_request_checks_while_the_others_reuse(caching: CachingWorld) -> None:
    user_id = await caching.user()
    pair = await caching.login().execute("ana@example.com", PASSWORD)
    first = await caching.authenticate().execute(pair.access.token)
    caching.uow.reads = 0
    caching.seconds = 4.5  # inside the last second of the five-second reuse
    principals = await asyncio.gather(*(caching.authenticate().execute(pair.access.token) for _ in range(6)))
    assert principals == [first] * 6
    assert caching.uow.reads == 1
    caching.seconds = 8.0  # renewed at 4.5: still reused at 8.0 without another read
    await caching.authenticate().execute(pair.access.token)
    assert caching.uow.reads == 1
    # A renewal that finds the user gone refuses it, and nobody reuses the old principal afterwards.
    user = caching.uow.committed_users[user_id]
    caching.uow.committed_users[user_id] = dataclasses.replace(user, active=False)
    caching.seconds = 9.2
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            await caching.authenticate().execute(pair.access.token)
