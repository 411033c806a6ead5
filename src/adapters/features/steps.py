"""Shared point-in-time steps: the records known at the cutoff, joined to customers and product families.

Every rule about time lives here, once:
- a record counts only when it was created (first known) before the cutoff instant;
- an opportunity is won or lost at t only when it is closed with a close date <= t; one closed later (or
  with no close date) is open at t, whatever it is now;
- a family is owned at t only through a line item of an opportunity won at t;
- activities dated after t, or logged after t, do not exist at t.
Firmographics are the accounts' current field values: no field history is synced, so a changed industry or
head count shows in past cutoffs too (a documented limitation, not a leak of events).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from adapters.features.definitions import FeatureBook, FeatureContext

__all__ = ["BOOK", "Customers", "Ownership"]

BOOK = FeatureBook()

_NS_PER_DAY = 86_400 * 10**9


def _day_numbers(values: pd.Series) -> npt.NDArray[np.float64]:
    """Whole days since 1970-01-01 as floats (NaN when missing), for dates and datetimes alike."""
    stamps = pd.to_datetime(values, utc=True)
    ns = stamps.to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64")
    ns[stamps.isna().to_numpy()] = np.nan
    days: npt.NDArray[np.float64] = np.floor(ns / _NS_PER_DAY)
    return days


def _known(frame: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    return frame[pd.to_datetime(frame["created_at"], utc=True) < cutoff]


def _join(left: pd.DataFrame, right: pd.DataFrame, key: str) -> pd.DataFrame:
    """Inner join on (org_id, key), many rows of `left` to at most one row of `right`.

    CRM ids are unique across orgs in practice (Salesforce ids are), so the fast path looks rows up by the
    id alone and then checks the org; a collision across orgs falls back to the two-column merge.
    """
    ids = pd.Index(right[key])
    if not ids.is_unique:
        return left.merge(right, on=["org_id", key], how="inner")
    position = ids.get_indexer(left[key])
    found = position >= 0
    position = position[found]
    # Compare orgs as small integer codes: comparing millions of Python strings is far slower.
    right_org, orgs = pd.factorize(right["org_id"])
    left_org = pd.Index(orgs).get_indexer(left["org_id"].to_numpy()[found])
    same_org = left_org == right_org[position]
    rows = np.flatnonzero(found)[same_org]
    joined = left.iloc[rows].reset_index(drop=True)
    extra = right.drop(columns=["org_id", key]).iloc[position[same_org]].reset_index(drop=True)
    return pd.concat([joined, extra], axis=1)


def _lowered(values: pd.Series) -> npt.NDArray[np.object_]:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    lowered = np.array([str(u).lower() for u in uniques] + [""], dtype=object)
    picked: npt.NDArray[np.object_] = lowered[codes]  # the sentinel -1 picks the trailing "" (missing)
    return picked


@dataclass(frozen=True)
class Customers:
    """Customers known at t (sorted ids; row i of every output) and their member accounts known at t."""

    ids: pd.Index
    accounts: pd.DataFrame  # org_id, account_id, c, confidence, industry, employees, annual_revenue, ...


@dataclass(frozen=True)
class Ownership:
    """(customers x families) views of what was bought, from line items of opportunities won at t."""

    owned: npt.NDArray[np.bool_]
    org_count: npt.NDArray[np.float64]
    last_purchase_day: npt.NDArray[np.float64]  # NaN where not owned


@BOOK.step
def customers(ctx: FeatureContext) -> Customers:
    """Member accounts created before the cutoff; a customer exists at t when one of them does."""
    accounts = _known(ctx.inputs.accounts, ctx.cutoff)
    members = ctx.inputs.members[["customer_id", "org_id", "account_id", "confidence"]]
    joined = _join(members, accounts, "account_id")
    ids = pd.Index(np.sort(joined["customer_id"].astype(str).unique()))
    joined["c"] = ids.get_indexer(joined["customer_id"].astype(str))
    joined["created_day"] = _day_numbers(joined["created_at"])
    return Customers(ids, joined.reset_index(drop=True))


@BOOK.step
def opportunities(ctx: FeatureContext) -> pd.DataFrame:
    """Opportunities known at t on known accounts, with their state at t (won, lost, open)."""
    members = ctx["customers"].accounts[["org_id", "account_id", "c"]]
    known = _known(ctx.inputs.opportunities, ctx.cutoff)
    frame = _join(known, members, "account_id")
    close_day = _day_numbers(frame["close_date"])
    closed_by_t = frame["is_closed"].to_numpy(dtype=bool) & (close_day <= ctx.as_of_day)
    won = closed_by_t & frame["is_won"].to_numpy(dtype=bool)
    return pd.DataFrame(
        {
            "org_id": frame["org_id"].to_numpy(),
            "opportunity_id": frame["opportunity_id"].to_numpy(),
            "o": np.arange(len(frame)),  # an integer id per opportunity, for cheap grouping downstream
            "c": frame["c"].to_numpy(),
            "amount": pd.to_numeric(frame["amount"], errors="coerce").fillna(0.0).to_numpy(dtype=float),
            "won": won,
            "lost": closed_by_t & ~won,
            "open": ~closed_by_t,
            "close_day": np.where(closed_by_t, close_day, np.nan),
            "created_day": _day_numbers(frame["created_at"]),
        }
    )


@BOOK.step
def line_items(ctx: FeatureContext) -> pd.DataFrame:
    """Line items known at t of known opportunities, with the product's family index `f`."""
    opportunities = ctx["opportunities"]
    families = pd.Index(ctx.families)
    products = ctx.inputs.products[["org_id", "product_id", "family_id"]].copy()
    # Family and org as integer codes on the small product table, not per line item.
    products["f"] = families.get_indexer(products["family_id"])
    products["org"] = pd.factorize(products["org_id"])[0]
    products = products[products["f"] >= 0].drop(columns="family_id")
    items = _known(ctx.inputs.line_items, ctx.cutoff)[
        ["org_id", "opportunity_id", "product_id", "total_price"]
    ]
    frame = _join(_join(items, products, "product_id"), opportunities, "opportunity_id")
    frame["total_price"] = pd.to_numeric(frame["total_price"], errors="coerce").fillna(0.0)
    return frame.reset_index(drop=True)


@BOOK.step
def ownership(ctx: FeatureContext) -> Ownership:
    """Owned families per customer, in how many orgs, and the day of the latest purchase."""
    n, k = len(ctx["customers"].ids), len(ctx.families)
    won = ctx["line_items"]
    won = won[won["won"].to_numpy()]
    owned = np.zeros((n, k), dtype=bool)
    org_count = np.zeros((n, k))
    last = np.full((n, k), np.nan)
    c, f = won["c"].to_numpy(), won["f"].to_numpy()
    owned[c, f] = True
    orgs = int(won["org"].max()) + 1 if len(won) else 1
    triple = np.unique((c.astype(np.int64) * k + f) * orgs + won["org"].to_numpy())  # distinct (c, f, org)
    np.add.at(org_count, (triple // orgs // k, triple // orgs % k), 1.0)
    np.fmax.at(last, (c, f), won["close_day"].to_numpy())
    return Ownership(owned, org_count, last)


@BOOK.step
def activities(ctx: FeatureContext) -> pd.DataFrame:
    """Activities dated and logged before the cutoff, with their age in days and a type bucket."""
    members = ctx["customers"].accounts[["org_id", "account_id", "c"]]
    known = _known(ctx.inputs.activities, ctx.cutoff)
    at = pd.to_datetime(known["activity_at"], utc=True)
    columns = ["org_id", "account_id", "kind", "activity_type", "activity_at"]
    frame = _join(known.loc[(at < ctx.cutoff).to_numpy(), columns], members, "account_id")
    at_ns = pd.to_datetime(frame["activity_at"], utc=True).to_numpy(dtype="datetime64[ns]").astype("int64")
    age = (ctx.cutoff.value - at_ns) / _NS_PER_DAY
    # Lower-case the few distinct values, not every row.
    kind = _lowered(frame["kind"])
    activity_type = _lowered(frame["activity_type"])
    bucket = np.where(
        kind == "event",
        "meeting",
        np.where(activity_type == "call", "call", np.where(activity_type == "email", "email", "other")),
    )
    return pd.DataFrame({"c": frame["c"].to_numpy(), "age_days": age, "bucket": bucket})


@BOOK.step
def firmographics(ctx: FeatureContext) -> pd.DataFrame:
    """One row per customer: the largest member account's industry and country, group-wide size."""
    members = ctx["customers"]
    accounts = members.accounts.copy()
    accounts["employees"] = pd.to_numeric(accounts["employees"], errors="coerce")
    accounts["annual_revenue"] = pd.to_numeric(accounts["annual_revenue"], errors="coerce")
    ordered = accounts.sort_values(["c", "employees", "created_day"], ascending=[True, False, True])
    grouped = ordered.groupby("c", sort=True)
    frame = pd.DataFrame(
        {
            "industry": grouped["industry"].first(),
            "country": grouped["country"].first(),
            "employees": grouped["employees"].max(),
            "annual_revenue": grouped["annual_revenue"].max(),
            "first_day": grouped["created_day"].min(),
            "confidence": grouped["confidence"].min(),
            "orgs": grouped["org_id"].nunique(),
        }
    )
    return frame.reindex(np.arange(len(members.ids)))


@BOOK.step
def segments(ctx: FeatureContext) -> dict[str, Any]:
    """Industry x size band per customer: `code` indexes the segment, `count` of segments."""
    firms = ctx["firmographics"]
    employees = firms["employees"].to_numpy(dtype=float)
    bounds = np.array([50, 250, 1000, 5000])
    labels = np.array(["1-49", "50-249", "250-999", "1000-4999", "5000+"], dtype=object)
    band = np.where(
        np.isnan(employees), "unknown", labels[np.searchsorted(bounds, np.nan_to_num(employees), "right")]
    )
    industry = firms["industry"].fillna("unknown").astype(str).to_numpy()
    key = pd.Series(industry, dtype=object) + "|" + pd.Series(band, dtype=object)
    code, uniques = pd.factorize(key)
    return {"band": band, "code": code, "count": len(uniques)}


@BOOK.step
def segment_ownership(ctx: FeatureContext) -> dict[str, npt.NDArray[np.float64]]:
    """Per segment and family: customers, owners, and the base adoption rate of each family."""
    owned = ctx["ownership"].owned
    seg = ctx["segments"]
    size = np.bincount(seg["code"], minlength=seg["count"]).astype(float)
    owners = np.zeros((seg["count"], owned.shape[1]))
    np.add.at(owners, seg["code"], owned.astype(float))
    base = owned.mean(axis=0) if len(owned) else np.zeros(owned.shape[1])
    return {"size": size, "owners": owners, "base": base}


@BOOK.step
def neighbours(ctx: FeatureContext) -> npt.NDArray[np.int64]:
    """The k nearest other customers of the same industry on a compact embedding (kNN per industry).

    Embedding: owned families projected on their 3 main axes (eigenvectors of the ownership covariance,
    which keeps most of the distance between ownership patterns in few dimensions) plus z-scored log
    employees and log revenue. Few dimensions keep k-d trees fast; blocking by industry keeps them small.
    Missing neighbours (an industry with fewer than k + 1 customers) are -1.
    """
    from sklearn.neighbors import NearestNeighbors  # imported here: it costs seconds at CLI start-up

    k, axes = 10, 3
    firms = ctx["firmographics"]
    owned = ctx["ownership"].owned.astype(np.float64)
    n = len(owned)
    result = np.full((n, k), -1, dtype=np.int64)
    if n < 2:
        return result
    centred = owned - owned.mean(axis=0)
    _, vectors = np.linalg.eigh(centred.T @ centred)
    projected = centred @ vectors[:, ::-1][:, :axes]
    size = np.log1p(firms[["employees", "annual_revenue"]].to_numpy(dtype=float))
    size = (size - np.nanmean(size, axis=0)) / (np.nanstd(size, axis=0) + 1e-9)
    embedding = np.hstack([projected, np.nan_to_num(size)])
    codes, _ = pd.factorize(firms["industry"].fillna("unknown").astype(str).to_numpy())
    for block in range(codes.max() + 1):
        rows = np.flatnonzero(codes == block)
        if len(rows) < 2:
            continue
        m = min(k + 1, len(rows))
        index = NearestNeighbors(n_neighbors=m, algorithm="kd_tree", n_jobs=-1).fit(embedding[rows])
        found = index.kneighbors(embedding[rows], return_distance=False)
        local = rows[found]
        is_self = local == rows[:, None]
        # Drop the row itself (or, when ties hid it, the farthest neighbour) to keep k others.
        is_self[~is_self.any(axis=1), -1] = True
        result[rows, : m - 1] = local[~is_self].reshape(len(rows), m - 1)
    return result


@BOOK.step
def deal_sizes(ctx: FeatureContext) -> npt.NDArray[np.float64]:
    """(segments x families) expected deal size: median won deal (line items of one family in one
    opportunity), per segment when it has 5 or more such deals, else across all segments; NaN when none."""
    items = ctx["line_items"]
    won = items[items["won"].to_numpy()]
    deals = won.groupby(["o", "f"], sort=False).agg(amount=("total_price", "sum"), c=("c", "first"))
    families = deals.index.get_level_values("f").to_numpy()
    seg = ctx["segments"]
    frame = pd.DataFrame(
        {"s": seg["code"][deals["c"].to_numpy()], "f": families, "amount": deals["amount"].to_numpy()}
    )
    overall = np.full(len(ctx.families), np.nan)
    by_family = frame.groupby("f")["amount"].median()
    overall[by_family.index.to_numpy()] = by_family.to_numpy()
    result = np.tile(overall, (seg["count"], 1))
    by_segment = frame.groupby(["s", "f"])["amount"].agg(["median", "size"])
    enough = by_segment[by_segment["size"] >= 5]
    result[enough.index.get_level_values(0), enough.index.get_level_values(1)] = enough["median"].to_numpy()
    return result
