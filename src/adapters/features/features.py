"""Every feature, declared once with its computation; the declaration order is the vector layout.

Customer features return one value per customer (rows in `ctx["customers"].ids` order); per-family
features return a (customers x families) array. Changing a function's code needs a new version (see
`definitions.py` and `features.lock`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from adapters.features.definitions import FeatureContext
from adapters.features.steps import BOOK
from domain.feature_definition import FeatureDtype, FeatureEntity

__all__ = ["BOOK"]

CUSTOMER, PAIR = FeatureEntity.CUSTOMER, FeatureEntity.CUSTOMER_FAMILY
FLOAT, INT, BOOL, CATEGORY = FeatureDtype.FLOAT, FeatureDtype.INT, FeatureDtype.BOOL, FeatureDtype.CATEGORY

# Features hand back numpy arrays; pandas is untyped here, so the alias stays loose.
Array = Any


def _per_customer(ctx: FeatureContext, c: Array, weights: Array | None = None) -> Array:
    return np.bincount(c, weights=weights, minlength=len(ctx["customers"].ids)).astype(float)


# --- firmographics (current account fields: no field history is synced) ---------------------------


@BOOK.feature(1, CUSTOMER, CATEGORY, "Industry of the customer's largest member account (current value).")
def industry(ctx: FeatureContext) -> Array:
    return ctx["firmographics"]["industry"].astype(object).where(lambda s: s.notna(), None).to_numpy()


@BOOK.feature(
    1, CUSTOMER, CATEGORY, "Size band by employees: 1-49, 50-249, 250-999, 1000-4999, 5000+, unknown."
)
def size_band(ctx: FeatureContext) -> Array:
    return np.asarray(ctx["segments"]["band"], dtype=object)


@BOOK.feature(
    1, CUSTOMER, CATEGORY, "Billing country of the customer's largest member account (current value)."
)
def country(ctx: FeatureContext) -> Array:
    return ctx["firmographics"]["country"].astype(object).where(lambda s: s.notna(), None).to_numpy()


@BOOK.feature(1, CUSTOMER, FLOAT, "Employees: the largest head count among member accounts (current value).")
def employees(ctx: FeatureContext) -> Array:
    return ctx["firmographics"]["employees"].to_numpy(dtype=float)


@BOOK.feature(1, CUSTOMER, FLOAT, "Annual revenue: the largest among member accounts (current value).")
def annual_revenue(ctx: FeatureContext) -> Array:
    return ctx["firmographics"]["annual_revenue"].to_numpy(dtype=float)


# --- ownership ---------------------------------------------------------------------------------------


@BOOK.feature(1, CUSTOMER, INT, "Product families owned at t (closed-won line items), across all orgs.")
def families_owned(ctx: FeatureContext) -> Array:
    return ctx["ownership"].owned.sum(axis=1).astype(float)


@BOOK.feature(1, CUSTOMER, INT, "Most product families owned through any single org at t.")
def max_families_owned_in_one_org(ctx: FeatureContext) -> Array:
    items = ctx["line_items"]
    won = items["won"].to_numpy()
    c, org, f = (items[name].to_numpy()[won].astype(np.int64) for name in ("c", "org", "f"))
    families = len(ctx.families)
    orgs = int(org.max()) + 1 if len(org) else 1
    owned = np.unique((c * orgs + org) * families + f) // families  # one entry per owned (c, org, f)
    customer_org, per_org = np.unique(owned, return_counts=True)
    result = np.zeros(len(ctx["customers"].ids))
    np.maximum.at(result, customer_org // orgs, per_org)
    return result


@BOOK.feature(1, CUSTOMER, INT, "Days since the customer's first member account was created (tenure).")
def tenure_days(ctx: FeatureContext) -> Array:
    return ctx.as_of_day - ctx["firmographics"]["first_day"].to_numpy(dtype=float)


@BOOK.feature(1, CUSTOMER, INT, "Number of orgs the customer has an account in at t.")
def orgs_present(ctx: FeatureContext) -> Array:
    return ctx["firmographics"]["orgs"].to_numpy(dtype=float)


@BOOK.feature(1, CUSTOMER, FLOAT, "Lowest match confidence among the customer's member accounts.")
def match_confidence(ctx: FeatureContext) -> Array:
    return ctx["firmographics"]["confidence"].to_numpy(dtype=float)


@BOOK.feature(1, PAIR, BOOL, "1 when the customer owns the family at t in any org.")
def family_owned(ctx: FeatureContext) -> Array:
    return ctx["ownership"].owned.astype(float)


@BOOK.feature(1, PAIR, INT, "Number of orgs through which the customer owns the family at t.")
def family_owned_orgs(ctx: FeatureContext) -> Array:
    return ctx["ownership"].org_count


@BOOK.feature(1, PAIR, BOOL, "1 when one of the customer's accounts at t is in an org that sells the family.")
def family_seller_present(ctx: FeatureContext) -> Array:
    n, k = len(ctx["customers"].ids), len(ctx.families)
    accounts = ctx["customers"].accounts[["org_id", "c"]].drop_duplicates()
    sellers = ctx.inputs.products[["org_id", "family_id"]].drop_duplicates()
    pairs = accounts.merge(sellers, on="org_id")
    family = pd.Index(ctx.families).get_indexer(pairs["family_id"])
    known = family >= 0
    present = np.zeros((n, k))
    present[pairs["c"].to_numpy()[known], family[known]] = 1.0
    return present


@BOOK.feature(1, PAIR, FLOAT, "Days since the customer last bought the family (NaN when never).")
def family_days_since_purchase(ctx: FeatureContext) -> Array:
    return ctx.as_of_day - ctx["ownership"].last_purchase_day


# --- opportunity history -----------------------------------------------------------------------------


@BOOK.feature(1, CUSTOMER, INT, "Opportunities won at t (closed-won with close date <= t).")
def won_count(ctx: FeatureContext) -> Array:
    o = ctx["opportunities"]
    return _per_customer(ctx, o["c"].to_numpy()[o["won"].to_numpy()])


@BOOK.feature(1, CUSTOMER, INT, "Opportunities lost at t (closed-lost with close date <= t).")
def lost_count(ctx: FeatureContext) -> Array:
    o = ctx["opportunities"]
    return _per_customer(ctx, o["c"].to_numpy()[o["lost"].to_numpy()])


@BOOK.feature(1, CUSTOMER, INT, "Opportunities open at t (including ones closed after t).")
def open_count(ctx: FeatureContext) -> Array:
    o = ctx["opportunities"]
    return _per_customer(ctx, o["c"].to_numpy()[o["open"].to_numpy()])


@BOOK.feature(1, CUSTOMER, FLOAT, "Total amount of opportunities won at t (record currency, unconverted).")
def won_amount(ctx: FeatureContext) -> Array:
    o = ctx["opportunities"]
    mask = o["won"].to_numpy()
    return _per_customer(ctx, o["c"].to_numpy()[mask], o["amount"].to_numpy()[mask])


@BOOK.feature(1, CUSTOMER, FLOAT, "Total amount of opportunities lost at t (record currency, unconverted).")
def lost_amount(ctx: FeatureContext) -> Array:
    o = ctx["opportunities"]
    mask = o["lost"].to_numpy()
    return _per_customer(ctx, o["c"].to_numpy()[mask], o["amount"].to_numpy()[mask])


@BOOK.feature(1, CUSTOMER, FLOAT, "Total amount of opportunities open at t (record currency, unconverted).")
def open_amount(ctx: FeatureContext) -> Array:
    o = ctx["opportunities"]
    mask = o["open"].to_numpy()
    return _per_customer(ctx, o["c"].to_numpy()[mask], o["amount"].to_numpy()[mask])


@BOOK.feature(1, CUSTOMER, FLOAT, "Win rate at t, Laplace-smoothed: (won + 1) / (won + lost + 2).")
def win_rate(ctx: FeatureContext) -> Array:
    o = ctx["opportunities"]
    c = o["c"].to_numpy()
    won = _per_customer(ctx, c[o["won"].to_numpy()])
    lost = _per_customer(ctx, c[o["lost"].to_numpy()])
    return (won + 1.0) / (won + lost + 2.0)


@BOOK.feature(1, CUSTOMER, FLOAT, "Days since the latest won opportunity closed (NaN when none).")
def days_since_last_win(ctx: FeatureContext) -> Array:
    o = ctx["opportunities"]
    won = o[o["won"].to_numpy()]
    latest = won.groupby("c")["close_day"].max()
    result = np.full(len(ctx["customers"].ids), np.nan)
    result[latest.index.to_numpy()] = ctx.as_of_day - latest.to_numpy()
    return result


@BOOK.feature(
    1, CUSTOMER, FLOAT, "Stage velocity: mean days from creation to close of opportunities closed at t."
)
def avg_days_to_close(ctx: FeatureContext) -> Array:
    o = ctx["opportunities"]
    closed = o[(o["won"] | o["lost"]).to_numpy()]
    days = np.clip(closed["close_day"].to_numpy() - closed["created_day"].to_numpy(), 0, None)
    ok = ~np.isnan(days)
    count = _per_customer(ctx, closed["c"].to_numpy()[ok])
    total = _per_customer(ctx, closed["c"].to_numpy()[ok], days[ok])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


@BOOK.feature(1, CUSTOMER, FLOAT, "Mean age in days of the opportunities open at t (NaN when none).")
def open_age_days(ctx: FeatureContext) -> Array:
    o = ctx["opportunities"]
    open_ = o[o["open"].to_numpy()]
    age = ctx.as_of_day - open_["created_day"].to_numpy()
    ok = ~np.isnan(age)
    count = _per_customer(ctx, open_["c"].to_numpy()[ok])
    total = _per_customer(ctx, open_["c"].to_numpy()[ok], age[ok])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


@BOOK.feature(1, PAIR, INT, "Opportunities open at t with a line item of the family.")
def family_open_opportunities(ctx: FeatureContext) -> Array:
    items = ctx["line_items"]
    items = items[items["open"].to_numpy()].drop_duplicates(["o", "f"])
    result = np.zeros((len(ctx["customers"].ids), len(ctx.families)))
    np.add.at(result, (items["c"].to_numpy(), items["f"].to_numpy()), 1.0)
    return result


@BOOK.feature(1, PAIR, INT, "Opportunities lost at t with a line item of the family.")
def family_lost_opportunities(ctx: FeatureContext) -> Array:
    items = ctx["line_items"]
    items = items[items["lost"].to_numpy()].drop_duplicates(["o", "f"])
    result = np.zeros((len(ctx["customers"].ids), len(ctx.families)))
    np.add.at(result, (items["c"].to_numpy(), items["f"].to_numpy()), 1.0)
    return result


# --- activity patterns -------------------------------------------------------------------------------


@BOOK.feature(1, CUSTOMER, INT, "Activities (tasks and events) in the 30 days up to t.")
def activities_30d(ctx: FeatureContext) -> Array:
    a = ctx["activities"]
    return _per_customer(ctx, a["c"].to_numpy()[a["age_days"].to_numpy() <= 30])


@BOOK.feature(1, CUSTOMER, INT, "Activities in the 90 days up to t.")
def activities_90d(ctx: FeatureContext) -> Array:
    a = ctx["activities"]
    return _per_customer(ctx, a["c"].to_numpy()[a["age_days"].to_numpy() <= 90])


@BOOK.feature(1, CUSTOMER, INT, "Activities in the 365 days up to t.")
def activities_365d(ctx: FeatureContext) -> Array:
    a = ctx["activities"]
    return _per_customer(ctx, a["c"].to_numpy()[a["age_days"].to_numpy() <= 365])


@BOOK.feature(
    1,
    CUSTOMER,
    FLOAT,
    "Activity trend: daily rate of the last 30 days over that of the last 365 (+1 smoothing).",
)
def activity_trend(ctx: FeatureContext) -> Array:
    a = ctx["activities"]
    c, age = a["c"].to_numpy(), a["age_days"].to_numpy()
    recent = _per_customer(ctx, c[age <= 30])
    year = _per_customer(ctx, c[age <= 365])
    return (recent / 30.0) / ((year + 1.0) / 365.0)


@BOOK.feature(1, CUSTOMER, FLOAT, "Days since the latest activity up to t (NaN when none).")
def days_since_last_activity(ctx: FeatureContext) -> Array:
    a = ctx["activities"]
    result = np.full(len(ctx["customers"].ids), np.inf)
    np.minimum.at(result, a["c"].to_numpy(), a["age_days"].to_numpy())
    return np.where(np.isinf(result), np.nan, np.floor(result))


@BOOK.feature(1, CUSTOMER, FLOAT, "Share of calls among the activities of the last 365 days.")
def activity_call_share(ctx: FeatureContext) -> Array:
    a = ctx["activities"]
    year = a[a["age_days"].to_numpy() <= 365]
    total = _per_customer(ctx, year["c"].to_numpy())
    hits = _per_customer(ctx, year["c"].to_numpy()[year["bucket"].to_numpy() == "call"])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, hits / total, np.nan)


@BOOK.feature(1, CUSTOMER, FLOAT, "Share of emails among the activities of the last 365 days.")
def activity_email_share(ctx: FeatureContext) -> Array:
    a = ctx["activities"]
    year = a[a["age_days"].to_numpy() <= 365]
    total = _per_customer(ctx, year["c"].to_numpy())
    hits = _per_customer(ctx, year["c"].to_numpy()[year["bucket"].to_numpy() == "email"])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, hits / total, np.nan)


@BOOK.feature(1, CUSTOMER, FLOAT, "Share of meetings (events) among the activities of the last 365 days.")
def activity_meeting_share(ctx: FeatureContext) -> Array:
    a = ctx["activities"]
    year = a[a["age_days"].to_numpy() <= 365]
    total = _per_customer(ctx, year["c"].to_numpy())
    hits = _per_customer(ctx, year["c"].to_numpy()[year["bucket"].to_numpy() == "meeting"])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, hits / total, np.nan)


# --- account similarity ------------------------------------------------------------------------------


@BOOK.feature(
    1,
    PAIR,
    FLOAT,
    "Share of the customer's 10 nearest neighbours (same industry; ownership + size) owning the family.",
)
def neighbour_adoption_share(ctx: FeatureContext) -> Array:
    nearest = ctx["neighbours"]
    owned = ctx["ownership"].owned
    valid = nearest >= 0
    result = np.zeros(owned.shape)
    for start in range(0, len(nearest), 50_000):  # bounded memory: (rows x k x families) per chunk
        rows = slice(start, start + 50_000)
        hits = owned[np.where(valid[rows], nearest[rows], 0)] & valid[rows][:, :, None]
        counts = valid[rows].sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            result[rows] = np.where(counts > 0, hits.sum(axis=1) / np.maximum(counts, 1), 0.0)
    return result


@BOOK.feature(
    1,
    PAIR,
    FLOAT,
    "Days since the most recent purchase of the family by one of the 10 nearest neighbours (NaN when none).",
)
def neighbour_days_since_purchase(ctx: FeatureContext) -> Array:
    nearest = ctx["neighbours"]
    last = ctx["ownership"].last_purchase_day
    result = np.full(last.shape, np.nan)
    for start in range(0, len(nearest), 50_000):
        rows = slice(start, start + 50_000)
        ids = nearest[rows]
        days = np.where((ids >= 0)[:, :, None], last[np.maximum(ids, 0)], np.nan)
        latest = np.fmax.reduce(days, axis=1)
        result[rows] = ctx.as_of_day - latest
    return result


# --- industry matching -------------------------------------------------------------------------------


@BOOK.feature(
    1,
    PAIR,
    FLOAT,
    "Adoption rate of the family in the customer's industry x size band"
    " (shrunk to the base rate, 10 pseudo-customers).",
)
def segment_adoption_rate(ctx: FeatureContext) -> Array:
    stats = ctx["segment_ownership"]
    rate = (stats["owners"] + 10.0 * stats["base"]) / (stats["size"][:, None] + 10.0)
    return rate[ctx["segments"]["code"]]


@BOOK.feature(1, PAIR, FLOAT, "Lift of the segment adoption rate over the family's base rate (1 = no lift).")
def segment_adoption_lift(ctx: FeatureContext) -> Array:
    stats = ctx["segment_ownership"]
    rate = (stats["owners"] + 10.0 * stats["base"]) / (stats["size"][:, None] + 10.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        lift = np.where(stats["base"] > 0, rate / stats["base"], 1.0)
    return lift[ctx["segments"]["code"]]


# --- revenue potential -------------------------------------------------------------------------------


@BOOK.feature(
    1,
    PAIR,
    FLOAT,
    "Expected deal size of the family: median won deal in the segment (5+ deals), else across all segments.",
)
def expected_deal_size(ctx: FeatureContext) -> Array:
    return ctx["deal_sizes"][ctx["segments"]["code"]]


@BOOK.feature(
    1,
    PAIR,
    FLOAT,
    "Revenue potential: expected deal size scaled by size and current spend relative to the segment"
    " (each factor in [0.5, 2]).",
)
def revenue_potential(ctx: FeatureContext) -> Array:
    code = ctx["segments"]["code"]
    employees = ctx["firmographics"]["employees"].to_numpy(dtype=float)
    o = ctx["opportunities"]
    mask = o["won"].to_numpy()
    spend = np.bincount(o["c"].to_numpy()[mask], o["amount"].to_numpy()[mask], len(code))
    typical_size = pd.Series(employees).groupby(code).transform("median").to_numpy()
    typical_spend = pd.Series(spend).groupby(code).transform("median").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        size = np.clip(np.nan_to_num(employees / typical_size, nan=1.0, posinf=2.0), 0.5, 2.0)
    spend_factor = np.clip(np.sqrt((spend + 1.0) / (typical_spend + 1.0)), 0.5, 2.0)
    return ctx["deal_sizes"][code] * (size * spend_factor)[:, None]


@BOOK.feature(
    1,
    CUSTOMER,
    FLOAT,
    "Spend headroom: the segment's 75th percentile of won amount minus the customer's, floored at 0.",
)
def spend_headroom(ctx: FeatureContext) -> Array:
    code = ctx["segments"]["code"]
    o = ctx["opportunities"]
    mask = o["won"].to_numpy()
    spend = np.bincount(o["c"].to_numpy()[mask], o["amount"].to_numpy()[mask], len(code))
    ceiling = pd.Series(spend).groupby(code).transform(lambda s: s.quantile(0.75)).to_numpy()
    return np.maximum(ceiling - spend, 0.0)
