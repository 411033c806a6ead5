"""The dashboard's only door to data: the xsell REST API over HTTP, signed in as one user."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = [
    "ApiError",
    "ApiSession",
    "OfferFilters",
    "OfferPage",
    "SessionEndedError",
    "SignInError",
    "WrittenBack",
]

_API = "/api/v1"
# Refresh a little before the access token expires, so a request never races its expiry.
_EARLY_S = 30.0


class ApiError(Exception):
    """The API refused a request or did not answer; the message is one line for the user."""


class SignInError(ApiError):
    """Email or password is wrong (or the user is disabled: the API does not say which)."""


class SessionEndedError(ApiError):
    """The sign-in no longer works (refresh refused, signed out elsewhere): sign in again."""


@dataclass(frozen=True, slots=True)
class OfferFilters:
    """The filters and sort of GET /api/v1/recommendations (and its CSV export)."""

    orgs: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    industry: str | None = None
    status: str | None = None
    min_probability: float | None = None
    min_value: float | None = None
    arm: str | None = None
    sort: str = "expected_value"

    @property
    def narrowed(self) -> bool:
        """Whether any filter (not the sort) is set."""
        return bool(
            self.orgs
            or self.families
            or self.industry
            or self.status
            or self.min_probability
            or self.min_value
            or self.arm
        )

    def params(self) -> list[tuple[str, str]]:
        """Query parameters; repeated names for several orgs or families."""
        params = [("org", org) for org in self.orgs] + [("family", family) for family in self.families]
        if self.industry:
            params.append(("industry", self.industry))
        if self.status:
            params.append(("status", self.status))
        if self.min_probability:
            params.append(("min_probability", repr(self.min_probability)))
        if self.min_value:
            params.append(("min_value", repr(self.min_value)))
        if self.arm:
            params.append(("arm", self.arm))
        params.append(("sort", self.sort))
        return params


@dataclass(frozen=True, slots=True)
class OfferPage:
    """One page of offers as the API returns them, and the cursor of the next page (None on the last)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class WrittenBack:
    """The API's answer to a write-back: the write-back as stored, and whether this request wrote the record
    (201) or an earlier one with the same Idempotency-Key had (200, a replay: nothing new was written)."""

    body: dict[str, Any]
    replayed: bool


class ApiSession:
    """One user's tokens and HTTP client. Lives in the server-side state of one browser session only:
    the tokens never reach the browser. Renews the access token with the refresh token when it expires.
    """

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self._base_url, transport=transport, timeout=timeout_s)
        self._clock = clock
        self._access: str | None = None
        self._refresh: str | None = None
        self._renew_at = 0.0
        self.email: str | None = None

    @property
    def signed_in(self) -> bool:
        return self._access is not None

    async def sign_in(self, email: str, password: str) -> None:
        """Raises SignInError for wrong credentials, ApiError when the API refuses or does not answer."""
        response = await self._send("POST", "/auth/login", json={"email": email, "password": password})
        if response.status_code == 401:
            raise SignInError("Wrong email or password.")
        self._keep(_checked(response))
        self.email = email

    async def sign_out(self) -> None:
        """Ends the session at the API too (its tokens stop working); never raises."""
        refresh, self._access, self._refresh, self.email = self._refresh, None, None, None
        if refresh is not None:
            # The tokens are forgotten here either way; if the API does not answer they expire on their own.
            with contextlib.suppress(ApiError):
                await self._send("POST", "/auth/logout", json={"refresh_token": refresh})

    async def offers(self, filters: OfferFilters, *, limit: int = 50, cursor: str | None = None) -> OfferPage:
        params = [*filters.params(), ("limit", str(limit))]
        if cursor is not None:
            params.append(("cursor", cursor))
        body = _checked(await self._authorized("GET", "/recommendations", params=params))
        return OfferPage(items=list(body["items"]), next_cursor=body["next_cursor"])

    async def export_csv(self, filters: OfferFilters) -> bytes:
        """Every offer matching the filters, as the API's CSV."""
        response = await self._authorized("GET", "/recommendations/export.csv", params=filters.params())
        _checked(response, json=False)
        return response.content

    async def accept(self, offer_id: str) -> dict[str, Any]:
        return dict(_checked(await self._authorized("POST", f"/recommendations/{offer_id}/accept", json={})))

    async def dismiss(self, offer_id: str) -> dict[str, Any]:
        return dict(_checked(await self._authorized("POST", f"/recommendations/{offer_id}/dismiss", json={})))

    async def review_queue(self, *, limit: int = 20) -> list[dict[str, Any]]:
        """Pairs of accounts waiting for a person's decision, most likely first, with their evidence."""
        body = _checked(await self._authorized("GET", "/matches", params={"limit": str(limit)}))
        return list(body["items"])

    async def decide_match(
        self, left: dict[str, Any], right: dict[str, Any], decision: str
    ) -> dict[str, Any]:
        """`merge` or `keep_apart` a pair (each side an account's `org_id` and `id`); the decision and
        the merge it made (None for keep_apart)."""
        body = {"left": _account(left), "right": _account(right), "decision": decision}
        return dict(_checked(await self._authorized("POST", "/matches/decisions", json=body)))

    async def reopen_match(self, left: dict[str, Any], right: dict[str, Any]) -> None:
        """Take back a keep-apart: the pair waits for review again."""
        body = {"left": _account(left), "right": _account(right)}
        _checked(await self._authorized("POST", "/matches/decisions/undo", json=body), json=False)

    async def undo_change(self, change_id: str) -> dict[str, Any]:
        """Undo a merge or split by the id of its change."""
        return dict(_checked(await self._authorized("POST", f"/customers/changes/{change_id}/undo")))

    async def convert(self, offer_id: str, amount: str) -> dict[str, Any]:
        """Record the amount won (a decimal string, in the offer's currency) for an accepted offer."""
        response = await self._authorized(
            "POST", f"/recommendations/{offer_id}/convert", json={"amount": amount}
        )
        return dict(_checked(response))

    async def write_back(self, offer_id: str, idempotency_key: str) -> WrittenBack:
        """Ask the API to create a Salesforce task for the offer; the key makes a retried click harmless."""
        response = await self._authorized(
            "POST",
            f"/recommendations/{offer_id}/write-back",
            json={"kind": "task"},
            headers={"Idempotency-Key": idempotency_key},
        )
        body = _checked(response)
        return WrittenBack(dict(body) if isinstance(body, dict) else {}, replayed=response.status_code == 200)

    async def latest_offer(self) -> dict[str, Any] | None:
        """The best offer of the whole view (one row, cached by the API): its id changes when scoring
        writes new offers, so comparing it is a cheap way to notice a new run."""
        page = await self.offers(OfferFilters(), limit=1)
        return page.items[0] if page.items else None

    async def customers(self, text: str, *, limit: int = 50) -> list[dict[str, Any]]:
        params = {"q": text, "limit": str(limit)}
        body = _checked(await self._authorized("GET", "/customers", params=params))
        return list(body["items"])

    async def customer(self, customer_id: str) -> dict[str, Any]:
        return dict(_checked(await self._authorized("GET", f"/customers/{customer_id}")))

    async def timeline(self, customer_id: str) -> list[dict[str, Any]]:
        body = _checked(await self._authorized("GET", f"/customers/{customer_id}/timeline"))
        return list(body["items"])

    async def whitespace(self, by: str, orgs: tuple[str, ...] = ()) -> dict[str, Any]:
        params = [("by", by)] + [("org", org) for org in orgs]
        return dict(_checked(await self._authorized("GET", "/whitespace", params=params)))

    async def models(self) -> dict[str, Any]:
        return dict(_checked(await self._authorized("GET", "/models")))

    async def model(self, model_id: str) -> dict[str, Any]:
        return dict(_checked(await self._authorized("GET", f"/models/{model_id}")))

    async def promote(self, model_id: str, *, challenger: bool = False) -> dict[str, Any]:
        body = {"challenger": challenger, "reason": "Promoted from the dashboard"}
        return dict(_checked(await self._authorized("POST", f"/models/{model_id}/promote", json=body)))

    async def roll_back(self) -> dict[str, Any]:
        body = {"reason": "Rolled back from the dashboard"}
        return dict(_checked(await self._authorized("POST", "/models/rollback", json=body)))

    async def orgs(self) -> list[dict[str, Any]]:
        """The orgs the user may read, each with its sync state, last run and today's API usage."""
        return list(_checked(await self._authorized("GET", "/orgs")))

    async def sync_runs(self, org_id: str, *, limit: int = 1) -> list[dict[str, Any]]:
        """The org's newest sync runs first: counts per object, errors and the API usage after each."""
        params = {"limit": str(limit)}
        return list(_checked(await self._authorized("GET", f"/orgs/{org_id}/sync-runs", params=params)))

    async def reconciliation(self, org_id: str) -> dict[str, Any]:
        """xsell's live record counts against the org's own, object by object (one CRM call each)."""
        return dict(_checked(await self._authorized("GET", f"/orgs/{org_id}/reconciliation")))

    async def sync_now(self, org_id: str) -> dict[str, Any]:
        """Queue a sync of the changes since the org's last run; the job as the API queued it."""
        return dict(_checked(await self._authorized("POST", f"/orgs/{org_id}/sync", json={"full": False})))

    async def is_admin(self) -> bool:
        """Whether the user may change things only admins may (the user list answers admins only)."""
        response = await self._authorized("GET", "/users")
        if response.status_code == 403:
            return False
        _checked(response)
        return True

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _authorized(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        if self._access is None:
            raise SessionEndedError("Sign in first.")
        if self._clock() >= self._renew_at:
            await self._renew()
        response = await self._send(method, path, headers={**(headers or {}), **self._bearer()}, **kwargs)
        if response.status_code == 401:  # revoked or expired early (clock skew): renew once
            await self._renew()
            response = await self._send(method, path, headers={**(headers or {}), **self._bearer()}, **kwargs)
            if response.status_code == 401:
                self._access = None
                raise SessionEndedError("Your session has ended; sign in again.")
        return response

    async def _renew(self) -> None:
        if self._refresh is None:
            self._access = None
            raise SessionEndedError("Your session has ended; sign in again.")
        response = await self._send("POST", "/auth/refresh", json={"refresh_token": self._refresh})
        if response.status_code == 401:
            self._access = self._refresh = None
            raise SessionEndedError("Your session has ended; sign in again.")
        self._keep(_checked(response))

    def _keep(self, tokens: dict[str, Any]) -> None:
        self._access = str(tokens["access_token"])
        self._refresh = tokens.get("refresh_token") or self._refresh
        self._renew_at = self._clock() + max(float(tokens["expires_in"]) - _EARLY_S, 0.0)

    def _bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._access}"}

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, _API + path, **kwargs)
        except httpx.TimeoutException:
            raise ApiError(f"The xsell API at {self._base_url} did not answer in time.") from None
        except httpx.TransportError:
            raise ApiError(f"The xsell API at {self._base_url} cannot be reached.") from None


def _account(side: dict[str, Any]) -> dict[str, str]:
    return {"org_id": str(side["org_id"]), "id": str(side["id"])}


def _checked(response: httpx.Response, *, json: bool = True) -> Any:
    """The JSON body of a success; ApiError with the problem's detail otherwise."""
    if response.is_success:
        return response.json() if json else None
    if response.status_code == 429:
        raise ApiError("Too many requests; wait a minute and try again.")
    try:
        problem = response.json()
        detail = problem.get("detail") or problem.get("title")
    except ValueError:
        detail = None
    raise ApiError(f"The API answered {response.status_code}: {detail or response.reason_phrase}")
