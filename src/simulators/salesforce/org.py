"""One fake org: its data, users and profiles, connected apps, API budget and faults."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from simulators.salesforce.faults import FaultPlan, FaultSpecError, coerce_fault
from simulators.salesforce.ids import base62, to_18
from simulators.salesforce.soql.planner import FieldVisibility
from simulators.salesforce.store import OrgData
from simulators.salesforce.timefmt import datetime_from_canonical, format_datetime

__all__ = ["ConnectedApp", "FakeOrg", "FakeUser", "Profile", "new_org", "org_id_for", "pod_for"]

ADMIN_PROFILE = "System Administrator"
RESTRICTED_PROFILE = "Restricted Analyst"


@dataclass
class Profile:
    """A profile; `hidden` maps object name to the fields its users cannot see (field-level security)."""

    name: str
    hidden: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class FakeUser:
    id: str
    username: str
    password: str
    security_token: str
    profile: str
    first_name: str
    last_name: str

    @property
    def email(self) -> str:
        return self.username


@dataclass
class ConnectedApp:
    """A connected app: OAuth client id/secret, the certificate JWT assertions are checked against, and
    the user client-credentials tokens run as."""

    name: str
    client_id: str
    client_secret: str
    private_key_pem: bytes
    public_key_pem: bytes
    run_as_user_id: str | None


@dataclass
class FakeOrg:
    """Everything one org is; `instance_url` is filled in when the server binds the org's port."""

    name: str
    org_id: str
    my_domain: str
    data: OrgData
    users: list[FakeUser]
    profiles: dict[str, Profile]
    apps: list[ConnectedApp]
    api_max: int = 15000
    api_used: int = 0
    faults: FaultPlan = field(default_factory=FaultPlan)
    fault_hidden: dict[str, set[str]] = field(default_factory=dict)
    # Expired tokens, error answers and cut connections served so far (kept across clear_faults), so a
    # test can report how many faults it survived.
    faults_injected: int = 0
    instance_url: str = ""
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    @property
    def org_id_15(self) -> str:
        return self.org_id[:15]

    def user_named(self, username: str) -> FakeUser | None:
        wanted = username.lower()
        return next((user for user in self.users if user.username.lower() == wanted), None)

    def user_by_id(self, user_id: str) -> FakeUser | None:
        return next((user for user in self.users if user.id == user_id), None)

    def app_by_client_id(self, client_id: str) -> ConnectedApp | None:
        return next((app for app in self.apps if app.client_id == client_id), None)

    def visibility(self, user: FakeUser | None) -> FieldVisibility:
        profile = self.profiles.get(user.profile) if user else None
        profile_hidden = profile.hidden if profile else {}
        fault_hidden = self.fault_hidden

        def visible(object_name: str, field_name: str) -> bool:
            if field_name == "Id":
                return True
            return field_name not in profile_hidden.get(
                object_name, ()
            ) and field_name not in fault_hidden.get(object_name, ())

        return visible

    # -- faults ----------------------------------------------------------------------------------

    def apply_faults(self, settings: dict[str, object]) -> None:
        """Switch faults on or run fault actions; raises FaultSpecError on a bad key or value."""
        typed = {key: coerce_fault(key, value) for key, value in settings.items()}
        for key, value in typed.items():
            if key == "daily_limit":
                self.api_max = cast(int, value)
            elif key == "exhaust_daily_limit":
                if value:
                    self.api_used = self.api_max
            elif key == "hide_field":
                obj, name, after = cast(tuple[str, str, int], value)
                self._check_field(obj, name)
                if after:
                    self.faults.pending_hidden.append((obj, name, after))
                else:
                    self.fault_hidden.setdefault(obj, set()).add(name)
            elif key == "shared_modstamp":
                self._share_modstamp(*cast(tuple[str, int], value))
            elif key == "late_records":
                self._add_late_records(*cast(tuple[str, int], value))
            else:
                setattr(self.faults, key, value)

    def clear_faults(self) -> None:
        self.faults = FaultPlan()
        self.fault_hidden.clear()

    def count_request(self) -> None:
        """One more API request: spend budget and let delayed field hiding come due."""
        self.api_used += 1
        if self.faults.pending_hidden:
            still: list[tuple[str, str, int]] = []
            for obj, name, left in self.faults.pending_hidden:
                if left <= 1:
                    self.fault_hidden.setdefault(obj, set()).add(name)
                else:
                    still.append((obj, name, left - 1))
            self.faults.pending_hidden = still

    def _check_field(self, obj: str, name: str) -> None:
        table = self.data.tables.get(obj)
        if table is None or name not in table.columns or name == "Id":
            raise FaultSpecError(f"{obj}.{name} is not a field this org can hide")

    def _share_modstamp(self, obj: str, count: int) -> None:
        table = self.data.tables.get(obj)
        if table is None:
            raise FaultSpecError(f"unknown object {obj!r}")
        column = table.columns["SystemModstamp"]
        newest = sorted(table.rows, key=lambda row: row[column])[-count:]
        if newest:
            self.data.restamp(obj, [row[0] for row in newest], newest[0][column])

    def _add_late_records(self, obj: str, count: int) -> None:
        table = self.data.tables.get(obj)
        if table is None or not table.rows:
            raise FaultSpecError(f"{obj!r} has no rows to model late records on")
        column = table.columns["SystemModstamp"]
        newest = max(row[column] for row in table.rows)
        stamp = format_datetime(datetime_from_canonical(newest) - timedelta(hours=1))
        template = table.as_dict(table.rows[-1])
        admin = self.users[0].id
        for number in range(count):
            record = {
                key: value
                for key, value in template.items()
                if key not in {"Id", "CreatedDate", "LastModifiedDate", "SystemModstamp"}
            }
            name_field = table.definition.field_named("Name")
            if "Name" in record and name_field is not None and name_field.createable:
                record["Name"] = f"{record['Name']} (late {number + 1})"
            record_id = self.data.insert(obj, record, user_id=admin)
            self.data.restamp(obj, [record_id], stamp)
            table.late[record_id] = 1


def _key_pair() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def pod_for(index: int) -> str:
    """Two id characters that keep the records of org number `index` apart from other orgs'."""
    return base62(62 * 10 + index, 2)


def org_id_for(index: int) -> str:
    return to_18("00D" + pod_for(index) + base62(1, 10))


def new_org(
    name: str,
    index: int,
    *,
    data: OrgData | None = None,
    multi_currency: bool = False,
    currency: str = "USD",
    hidden_for_restricted: dict[str, set[str]] | None = None,
    seed: int = 0,
) -> FakeOrg:
    """An org with two users (an integration admin and a restricted analyst) and one connected app.

    Credentials follow the org name so they can be typed: `integration@{name}.example.com` /
    `fake-{name}-pw` (security token `TOKEN{NAME}`), client id `3MVG9.fake.{name}` / `secret-{name}`.
    """
    pod = pod_for(index)
    data = data or OrgData(pod, multi_currency=multi_currency, currency=currency)
    users = [
        FakeUser(
            "",
            f"integration@{name}.example.com",
            f"fake-{name}-pw",
            f"TOKEN{name.upper()}",
            ADMIN_PROFILE,
            "Integration",
            "User",
        ),
        FakeUser(
            "",
            f"analyst@{name}.example.com",
            f"fake-{name}-pw",
            f"TOKEN{name.upper()}",
            RESTRICTED_PROFILE,
            "Restricted",
            "Analyst",
        ),
    ]
    created = format_datetime(datetime(2020, 1, 1, tzinfo=UTC))
    users_table = data.tables["User"]
    for user in users:
        existing = next((row for row in users_table.rows if row[1] == user.username), None)
        if existing is not None:
            user.id = existing[0]
            continue
        user.id = data.load(
            "User",
            {
                "Username": user.username,
                "FirstName": user.first_name,
                "LastName": user.last_name,
                "Email": user.email,
                "IsActive": True,
                "CreatedDate": created,
                "LastModifiedDate": created,
                "SystemModstamp": created,
            },
        )
    private, public = _key_pair()
    app = ConnectedApp(f"xsell-{name}", f"3MVG9.fake.{name}", f"secret-{name}", private, public, users[0].id)
    profiles = {
        ADMIN_PROFILE: Profile(ADMIN_PROFILE),
        RESTRICTED_PROFILE: Profile(
            RESTRICTED_PROFILE,
            hidden_for_restricted
            if hidden_for_restricted is not None
            else {"Account": {"AnnualRevenue"}, "Opportunity": {"Amount"}},
        ),
    }
    org_id = org_id_for(index)
    return FakeOrg(
        name=name,
        org_id=org_id,
        my_domain=f"{name.lower()}.my",
        data=data,
        users=users,
        profiles=profiles,
        apps=[app],
        rng=random.Random(f"{seed}:{name}"),
    )
