"""Why a family is recommended: SHAP contributions as plain sentences, and peers' purchase paths per org."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from application.errors import InvalidRequestError
from application.features.model import FeatureInputs, cutoff_instant
from application.models.dataset import CandidateSet
from application.models.ports import Explanation
from domain.errors import InvariantViolationError
from domain.recommendation import Reason, ReasonKind

__all__ = ["MIN_CONTRIBUTION", "MIN_PEERS", "TEMPLATED_FEATURES", "PeerEvidence", "feature_reasons"]

# Smaller pushes than this (in log-odds) are noise, not a reason anyone should read.
MIN_CONTRIBUTION = 0.01
# Fewer peers than this are anecdotes: a path two accounts took is not evidence.
MIN_PEERS = 3
# The family indicator says which family is offered; it is no reason to offer it.
_FAMILY_FEATURE = "family"
_NS_PER_DAY = 86_400 * 10**9


# --- number formatting ----------------------------------------------------------------------------------


def _int(value: float) -> int:
    return round(value)


def _plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def _money(value: float) -> str:
    # Amounts are in the record's currency, unconverted: no code is better than a wrong one.
    return f"{value:,.0f}"


def _ratio(value: float) -> str:
    return f"{value:.1f}\N{MULTIPLICATION SIGN}"


def _percent(share: float) -> str:
    percent = share * 100.0
    if 0.0 < percent < 1.0:
        return f"{percent:.1f}%"
    return f"{percent:.0f}%"


def _span(days: float) -> str:
    days = max(days, 0.0)
    if round(days) <= 90:
        return _plural(round(days), "day", "days")
    if days < 730:
        return _plural(round(days / 30.44), "month", "months")
    return f"{days / 365.25:.1f} years"


def _ago(days: float) -> str:
    whole = round(days)
    if whole <= 0:
        return "today"
    if whole == 1:
        return "yesterday"
    return f"{_span(days)} ago"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- one row's values, by name ----------------------------------------------------------------------------


class _Row:
    """The values of one candidate row that templates read; NaN / None where the layout lacks a feature."""

    __slots__ = ("_labels", "_numbers", "family", "i")

    def __init__(
        self,
        numbers: Mapping[str, npt.NDArray[np.float64]],
        labels: Mapping[str, npt.NDArray[np.object_]],
        i: int,
        family: str,
    ) -> None:
        self._numbers, self._labels, self.i, self.family = numbers, labels, i, family

    def num(self, name: str) -> float:
        column = self._numbers.get(name)
        return math.nan if column is None else float(column[self.i])

    def text(self, name: str) -> str | None:
        column = self._labels.get(name)
        if column is None:
            return None
        value = column[self.i]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        text = str(value).strip()
        return None if not text or text.lower() == "unknown" else text

    def segment(self) -> str | None:
        """The row's industry x size band in words ("Retail companies with 250-999 employees")."""
        industry, band = self.text("industry"), self.text("size_band")
        if industry and band:
            return f"{industry} companies with {band} employees"
        if industry:
            return f"{industry} companies"
        if band:
            return f"companies with {band} employees"
        return None


_Template = Callable[[_Row], str | None]


def _number(name: str, sentence: Callable[[float], str | None], *, missing: str | None = None) -> _Template:
    """A template of one number; NaN gives `missing` (None: the feature is skipped)."""

    def render(row: _Row) -> str | None:
        value = row.num(name)
        return missing if math.isnan(value) else sentence(value)

    return render


def _family_number(
    name: str, sentence: Callable[[float, str], str | None], *, missing: str | None = None
) -> _Template:
    """A template of one per-family number; `missing` may name the family as {family}."""

    def render(row: _Row) -> str | None:
        value = row.num(name)
        if math.isnan(value):
            return None if missing is None else missing.format(family=row.family)
        return sentence(value, row.family)

    return render


def _label(name: str, sentence: Callable[[str], str]) -> _Template:
    def render(row: _Row) -> str | None:
        text = row.text(name)
        return None if text is None else sentence(text)

    return render


# --- customer-level templates -----------------------------------------------------------------------------


def _families_owned(row: _Row) -> str | None:
    value = row.num("families_owned")
    if math.isnan(value):
        return None
    owned = _int(value)
    if owned == 0:
        return "Owns no product family yet"
    orgs = row.num("orgs_present")
    where = f" across {_int(orgs):,} orgs" if not math.isnan(orgs) and _int(orgs) > 1 else ""
    return f"Owns {_plural(owned, 'product family', 'product families')}{where}"


def _closed_deals(name: str, verb: str) -> _Template:
    """Won or lost deals out of all closed ones, when the other count is known."""
    other = "lost_count" if name == "won_count" else "won_count"

    def render(row: _Row) -> str | None:
        value = row.num(name)
        if math.isnan(value):
            return None
        count, rest = _int(value), row.num(other)
        if math.isnan(rest):
            return f"{verb} {_plural(count, 'deal', 'deals')}"
        closed = count + _int(rest)
        if closed == 0:
            return "Has not closed a deal yet"
        return f"{verb} {count:,} of its {_plural(closed, 'closed deal', 'closed deals')}"

    return render


def _activities(name: str, period: str) -> _Template:
    def sentence(value: float) -> str:
        count = _int(value)
        if count == 0:
            return f"No activity in the last {period}"
        return f"{_plural(count, 'activity', 'activities')} in the last {period}"

    return _number(name, sentence)


def _activity_share(name: str, what: str) -> _Template:
    return _number(name, lambda v: f"{what} make up {_percent(v)} of its activities in the last year")


def _spend_headroom(row: _Row) -> str | None:
    value = row.num("spend_headroom")
    if math.isnan(value):
        return None
    peers = row.segment() or "similar companies"
    if _int(value) == 0:
        return f"Already spends as much as the top quarter of {peers}"
    return f"Spends {_money(value)} less than the top quarter of {peers}"


# --- per-family templates ---------------------------------------------------------------------------------


def _neighbour_adoption(row: _Row) -> str | None:
    value = row.num("neighbour_adoption_share")
    if math.isnan(value):
        return None
    industry = row.text("industry")
    peers = "its 10 closest peers" + (f" in {industry}" if industry else "")
    owners = _int(value * 10)
    if owners == 0:
        return f"None of {peers} owns {row.family} yet"
    return f"{owners} of {peers} already own {row.family}"


def _segment_rate(row: _Row) -> str | None:
    value = row.num("segment_adoption_rate")
    if math.isnan(value):
        return None
    return f"{_percent(value)} of {row.segment() or 'similar companies'} own {row.family}"


def _segment_lift(row: _Row) -> str | None:
    value = row.num("segment_adoption_lift")
    if math.isnan(value):
        return None
    peers = _capitalised(row.segment() or "similar companies")
    return f"{peers} buy {row.family} {_ratio(value)} as often as average"


_TEMPLATES: dict[str, tuple[ReasonKind, _Template]] = {
    # categories
    "industry": (ReasonKind.INDUSTRY, _label("industry", lambda v: f"In the {v} industry")),
    "size_band": (ReasonKind.FEATURE, _label("size_band", lambda v: f"Has {v} employees")),
    "country": (ReasonKind.FEATURE, _label("country", lambda v: f"Based in {v}")),
    # firmographics and footprint
    "employees": (
        ReasonKind.FEATURE,
        _number("employees", lambda v: f"Employs {_plural(_int(v), 'person', 'people')}" if v >= 1 else None),
    ),
    "annual_revenue": (
        ReasonKind.FEATURE,
        _number("annual_revenue", lambda v: f"Annual revenue of {_money(v)}" if v > 0 else None),
    ),
    "families_owned": (ReasonKind.FEATURE, _families_owned),
    "max_families_owned_in_one_org": (
        ReasonKind.FEATURE,
        _number(
            "max_families_owned_in_one_org",
            lambda v: (
                "Owns no product family yet"
                if _int(v) == 0
                else f"Owns {_plural(_int(v), 'product family', 'product families')} through a single org"
            ),
        ),
    ),
    "tenure_days": (
        ReasonKind.FEATURE,
        _number(
            "tenure_days",
            lambda v: f"A customer for {_span(v)}" if round(v) > 0 else "A customer since today",
        ),
    ),
    "orgs_present": (
        ReasonKind.FEATURE,
        _number(
            "orgs_present",
            lambda v: f"Has accounts in {_plural(_int(v), 'org', 'orgs')}" if _int(v) > 0 else None,
        ),
    ),
    "match_confidence": (
        ReasonKind.FEATURE,
        _number(
            "match_confidence",
            lambda v: f"Its accounts are matched across orgs with {_percent(v)} confidence",
        ),
    ),
    # deals
    "won_count": (ReasonKind.FEATURE, _closed_deals("won_count", "Won")),
    "lost_count": (ReasonKind.FEATURE, _closed_deals("lost_count", "Lost")),
    "open_count": (
        ReasonKind.FEATURE,
        _number(
            "open_count",
            lambda v: (
                "Has no open deal" if _int(v) == 0 else f"Has {_plural(_int(v), 'open deal', 'open deals')}"
            ),
        ),
    ),
    "won_amount": (
        ReasonKind.FEATURE,
        _number(
            "won_amount",
            lambda v: "Has not won a deal yet" if v <= 0 else f"Won deals worth {_money(v)} in total",
        ),
    ),
    "lost_amount": (
        ReasonKind.FEATURE,
        _number(
            "lost_amount",
            lambda v: "Has lost no deal" if v <= 0 else f"Lost deals worth {_money(v)} in total",
        ),
    ),
    "open_amount": (
        ReasonKind.FEATURE,
        _number(
            "open_amount",
            lambda v: "Has no open pipeline" if v <= 0 else f"Has open deals worth {_money(v)} in total",
        ),
    ),
    "win_rate": (
        ReasonKind.FEATURE,
        _number("win_rate", lambda v: f"Wins about {_percent(v)} of the deals it closes"),
    ),
    "days_since_last_win": (
        ReasonKind.FEATURE,
        _number(
            "days_since_last_win", lambda v: f"Last won a deal {_ago(v)}", missing="Has never won a deal"
        ),
    ),
    "avg_days_to_close": (
        ReasonKind.FEATURE,
        _number("avg_days_to_close", lambda v: f"Closes deals in {_span(v)} on average"),
    ),
    "open_age_days": (
        ReasonKind.FEATURE,
        _number("open_age_days", lambda v: f"Its open deals have been open for {_span(v)} on average"),
    ),
    "spend_headroom": (ReasonKind.INDUSTRY, _spend_headroom),
    # activity
    "activities_30d": (ReasonKind.ACTIVITY, _activities("activities_30d", "30 days")),
    "activities_90d": (ReasonKind.ACTIVITY, _activities("activities_90d", "90 days")),
    "activities_365d": (ReasonKind.ACTIVITY, _activities("activities_365d", "year")),
    "activity_trend": (
        ReasonKind.ACTIVITY,
        _number(
            "activity_trend",
            lambda v: (
                f"Activity in the last 30 days is {_ratio(v)} its usual level"
                if v >= 0.05
                else "No activity in the last 30 days"
            ),
        ),
    ),
    "days_since_last_activity": (
        ReasonKind.ACTIVITY,
        _number(
            "days_since_last_activity",
            lambda v: f"Its last activity was {_ago(v)}",
            missing="No activity recorded yet",
        ),
    ),
    "activity_call_share": (ReasonKind.ACTIVITY, _activity_share("activity_call_share", "Calls")),
    "activity_email_share": (ReasonKind.ACTIVITY, _activity_share("activity_email_share", "Emails")),
    "activity_meeting_share": (ReasonKind.ACTIVITY, _activity_share("activity_meeting_share", "Meetings")),
    # the offered family
    "family_owned": (
        ReasonKind.FEATURE,
        _family_number(
            "family_owned", lambda v, f: f"Already owns {f}" if v > 0.5 else f"Does not own {f} yet"
        ),
    ),
    "family_owned_orgs": (
        ReasonKind.FEATURE,
        _family_number(
            "family_owned_orgs",
            lambda v, f: (
                f"Does not own {f} in any org yet"
                if _int(v) == 0
                else f"Owns {f} through {_plural(_int(v), 'org', 'orgs')}"
            ),
        ),
    ),
    "family_seller_present": (
        ReasonKind.FEATURE,
        _family_number(
            "family_seller_present",
            lambda v, f: (
                f"Already a customer of an org that sells {f}"
                if v > 0.5
                else f"Not yet a customer of the org that sells {f}"
            ),
        ),
    ),
    "family_days_since_purchase": (
        ReasonKind.FEATURE,
        _family_number(
            "family_days_since_purchase",
            lambda v, f: f"Last bought {f} {_ago(v)}",
            missing="Has never bought {family}",
        ),
    ),
    "family_open_opportunities": (
        ReasonKind.FEATURE,
        _family_number(
            "family_open_opportunities",
            lambda v, f: (
                f"No open deal includes {f} yet"
                if _int(v) == 0
                else f"{_plural(_int(v), 'open deal includes', 'open deals include')} {f}"
            ),
        ),
    ),
    "family_lost_opportunities": (
        ReasonKind.FEATURE,
        _family_number(
            "family_lost_opportunities",
            lambda v, f: (
                f"Has never lost a deal for {f}"
                if _int(v) == 0
                else f"Lost {_plural(_int(v), 'deal', 'deals')} that included {f}"
            ),
        ),
    ),
    "neighbour_adoption_share": (ReasonKind.FEATURE, _neighbour_adoption),
    "neighbour_days_since_purchase": (
        ReasonKind.FEATURE,
        _family_number(
            "neighbour_days_since_purchase",
            lambda v, f: f"One of its 10 closest peers bought {f} {_ago(v)}",
            missing="None of its 10 closest peers has bought {family} yet",
        ),
    ),
    "segment_adoption_rate": (ReasonKind.INDUSTRY, _segment_rate),
    "segment_adoption_lift": (ReasonKind.INDUSTRY, _segment_lift),
    "expected_deal_size": (
        ReasonKind.FEATURE,
        _family_number(
            "expected_deal_size",
            lambda v, f: f"A typical {f} deal for similar companies is worth {_money(v)}" if v > 0 else None,
        ),
    ),
    "revenue_potential": (
        ReasonKind.FEATURE,
        _family_number(
            "revenue_potential", lambda v, f: f"Could bring {_money(v)} in {f} revenue" if v > 0 else None
        ),
    ),
}

# Every feature a sentence exists for; an explained feature outside this set is never cited.
TEMPLATED_FEATURES: frozenset[str] = frozenset(_TEMPLATES)

# Features some templates read beside their own (the deal counts read each other, segments read labels).
_CONTEXT = ("industry", "size_band", "orgs_present", "won_count", "lost_count")


def feature_reasons(
    explanation: Explanation,
    candidates: CandidateSet,
    *,
    family_names: Mapping[str, str],
    top: int = 3,
) -> list[tuple[Reason, ...]]:
    """Per explained row, up to `top` sentences for the features that pushed its score up the most.

    Row i of `explanation` explains row i of `candidates`. Only contributions above MIN_CONTRIBUTION count
    (a reason argues for the offer); the `family` indicator and features without a template are never
    cited; a feature whose value is missing and has no sentence for that is skipped and the next one taken.
    Each reason's `contribution` is its SHAP value. `family_names` maps family slugs to display names (the
    slug is shown when absent).

    Raises InvalidRequestError for a negative `top`; InvariantViolationError when the contributions are
    not (candidate rows x explained features) or an explained feature is not in the candidates' layout.
    """
    if top < 0:
        raise InvalidRequestError(f"top is at least 0, got {top}")
    contributions = np.asarray(explanation.contributions, dtype=np.float64)
    features = explanation.features
    if contributions.shape != (len(candidates), len(features)):
        raise InvariantViolationError(
            f"contributions of shape {contributions.shape} do not explain {len(candidates)} rows "
            f"x {len(features)} features"
        )
    layout = candidates.layout
    known = set(layout.numbers) | set(layout.pair_numbers) | set(layout.labels)
    strange = [name for name in features if name != _FAMILY_FEATURE and name not in known]
    if strange:
        raise InvariantViolationError(f"explained features {strange} are not in {layout.feature_set_version}")

    wanted = {name for name in features if name in _TEMPLATES} | set(_CONTEXT)
    numbers = {
        name: candidates.number(name)
        for name in wanted
        if name in layout.numbers or name in layout.pair_numbers
    }
    labels = {name: candidates.label(name) for name in wanted if name in layout.labels}
    names = [family_names.get(slug, slug) for slug in candidates.families]

    citable = np.array([name in _TEMPLATES for name in features], dtype=bool)
    with np.errstate(invalid="ignore"):
        eligible = citable[None, :] & np.isfinite(contributions) & (contributions > MIN_CONTRIBUTION)
    scores = np.where(eligible, contributions, -np.inf)
    order = np.argsort(-scores, axis=1, kind="stable")
    eligible_count = eligible.sum(axis=1)
    family_of = candidates.family

    reasons: list[tuple[Reason, ...]] = []
    for i in range(len(candidates)):
        picked: list[Reason] = []
        if top:
            row = _Row(numbers, labels, i, names[int(family_of[i])])
            for j in order[i, : int(eligible_count[i])].tolist():
                kind, template = _TEMPLATES[features[j]]
                text = template(row)
                if text is None:
                    continue
                picked.append(Reason(kind=kind, text=text, contribution=float(contributions[i, j])))
                if len(picked) == top:
                    break
        reasons.append(tuple(picked))
    return reasons


# --- peer evidence ----------------------------------------------------------------------------------------


def _day_numbers(values: pd.Series) -> npt.NDArray[np.float64]:
    """Whole days since 1970-01-01 (NaN when missing), for dates and datetimes alike."""
    stamps = pd.to_datetime(values, utc=True, errors="coerce")
    ns = stamps.to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64")
    ns[stamps.isna().to_numpy()] = np.nan
    days: npt.NDArray[np.float64] = np.floor(ns / _NS_PER_DAY)
    return days


def _known(frame: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    return frame[(pd.to_datetime(frame["created_at"], utc=True) < cutoff).to_numpy()]


def _require(frame: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvariantViolationError(f"feature inputs' {name} lack columns {missing}")


@dataclass(frozen=True)
class _Path:
    """Customers who bought a family after family `g`: (count, org index) in the two leading orgs."""

    g: int
    first: tuple[int, int]
    second: tuple[int, int]

    def best(self, self_org: int) -> tuple[int, int]:
        """The leading (count, org) with the asking customer, counted in `self_org` (-1: none), left out."""
        first = (self.first[0] - (self.first[1] == self_org), self.first[1])
        if self.second[1] < 0:
            return first
        second = (self.second[0] - (self.second[1] == self_org), self.second[1])
        if second[0] > first[0] or (second[0] == first[0] and second[1] < first[1]):
            return second
        return first


class PeerEvidence:
    """Which purchase paths customers of an industry took, per org, as of one cutoff.

    Built once per scoring run: for every customer the first purchase (closed-won line item with a close
    date <= the cutoff, known before it) of each family and the org it was bought through; the customer's
    industry from its largest member account. `reason` then cites the most travelled path from a family the
    customer owns to the offered one, e.g. "12 similar Retail accounts in Org B bought Data Platform after
    CRM Suite".
    """

    def __init__(
        self,
        inputs: FeatureInputs,
        *,
        org_names: Mapping[str, str],
        family_names: Mapping[str, str] | None = None,
    ) -> None:
        """Count, per industry, ordered family pair and org, the customers who took that path.

        Raises InvariantViolationError when an input frame lacks a documented column.
        """
        self._org_names = dict(org_names)
        self._family_names = dict(family_names or {})
        self._families = tuple(inputs.families)
        self._family_index = {f: i for i, f in enumerate(self._families)}
        cutoff = pd.Timestamp(cutoff_instant(inputs.as_of))
        as_of_day = float((pd.Timestamp(inputs.as_of) - pd.Timestamp(0)).days)

        _require(inputs.members, "members", ("customer_id", "org_id", "account_id"))
        _require(inputs.accounts, "accounts", ("org_id", "account_id", "industry", "employees", "created_at"))
        _require(inputs.products, "products", ("org_id", "product_id", "family_id"))
        _require(
            inputs.opportunities,
            "opportunities",
            ("org_id", "opportunity_id", "account_id", "is_closed", "is_won", "close_date", "created_at"),
        )
        _require(inputs.line_items, "line_items", ("org_id", "opportunity_id", "product_id", "created_at"))

        accounts = _known(inputs.accounts, cutoff)[
            ["org_id", "account_id", "industry", "employees", "created_at"]
        ]
        members = inputs.members[["customer_id", "org_id", "account_id"]].merge(
            accounts, on=["org_id", "account_id"], how="inner"
        )
        customer_ids = pd.Index(np.sort(members["customer_id"].astype(str).unique()))
        members["c"] = customer_ids.get_indexer(members["customer_id"].astype(str))
        self._customer_index = {c: i for i, c in enumerate(customer_ids.tolist())}
        n, k = len(customer_ids), len(self._families)

        # The largest member account names the industry (the same rule as the `industry` feature).
        members["employees_n"] = pd.to_numeric(members["employees"], errors="coerce")
        members["created_day"] = _day_numbers(members["created_at"])
        ordered = members.sort_values(
            ["c", "employees_n", "created_day"], ascending=[True, False, True], na_position="last"
        )
        industry = ordered.groupby("c", sort=True)["industry"].first().reindex(np.arange(n))
        text = industry.astype("string").str.strip()
        codes, industries = pd.factorize(text.where(text.str.len() > 0), sort=True)  # missing: -1
        self._industry_index = {str(v): i for i, v in enumerate(industries)}
        industry_code = np.asarray(codes, dtype=np.int64)
        self._industry_of = industry_code

        # Won at the cutoff: closed and won with a close date <= t, and known before t.
        opportunities = _known(inputs.opportunities, cutoff)
        close_day = _day_numbers(opportunities["close_date"])
        won = (
            opportunities["is_closed"].eq(True).to_numpy()
            & opportunities["is_won"].eq(True).to_numpy()
            & (close_day <= as_of_day)
        )
        won_opportunities = opportunities.loc[won, ["org_id", "opportunity_id", "account_id"]].assign(
            day=close_day[won]
        )
        won_opportunities = won_opportunities.merge(
            members[["org_id", "account_id", "c"]], on=["org_id", "account_id"], how="inner"
        )
        items = _known(inputs.line_items, cutoff)[["org_id", "opportunity_id", "product_id"]]
        products = inputs.products[["org_id", "product_id", "family_id"]]
        bought = items.merge(won_opportunities, on=["org_id", "opportunity_id"], how="inner").merge(
            products, on=["org_id", "product_id"], how="inner"
        )
        bought["f"] = pd.Index(self._families).get_indexer(bought["family_id"])
        bought = bought[bought["f"].to_numpy() >= 0]
        self._orgs = tuple(sorted(bought["org_id"].astype(str).unique().tolist()))
        bought = bought.assign(o=pd.Index(self._orgs).get_indexer(bought["org_id"].astype(str)))
        # The first purchase of each family; the same day through two orgs goes to the first org by id.
        first = bought.sort_values(["c", "f", "day", "o"]).drop_duplicates(["c", "f"], keep="first")
        self._first_day = np.full((n, k), np.nan)
        self._first_org = np.full((n, k), -1, dtype=np.int64)
        rows, columns = first["c"].to_numpy(dtype=np.int64), first["f"].to_numpy(dtype=np.int64)
        self._first_day[rows, columns] = first["day"].to_numpy(dtype=np.float64)
        self._first_org[rows, columns] = first["o"].to_numpy(dtype=np.int64)

        # Per (industry, f): each g with the two orgs where most customers bought f after g. Two suffice:
        # leaving the asking customer out lowers one org's count by at most one. Paths that cannot reach
        # MIN_PEERS are dropped here, so `reason` only walks citable ones.
        n_industries, n_orgs = len(industries), len(self._orgs)
        self._paths: dict[tuple[int, int], list[_Path]] = {}
        has_industry = industry_code >= 0
        for g in range(k):
            before = self._first_day[:, g]
            for f in range(k):
                if f == g:
                    continue
                with np.errstate(invalid="ignore"):
                    took = has_industry & (before < self._first_day[:, f])
                if took.sum() < MIN_PEERS:
                    continue
                keys = industry_code[took] * n_orgs + self._first_org[took, f]
                counts = np.bincount(keys, minlength=n_industries * n_orgs).reshape(n_industries, n_orgs)
                # Stable: among equal counts the org first by id leads.
                top = np.argsort(-counts, axis=1, kind="stable")[:, :2]
                top_counts = np.take_along_axis(counts, top, axis=1)
                for code in np.flatnonzero(top_counts[:, 0] >= MIN_PEERS).tolist():
                    leader = (int(top_counts[code, 0]), int(top[code, 0]))
                    runner_up = (int(top_counts[code, 1]), int(top[code, 1])) if n_orgs > 1 else (0, -1)
                    self._paths.setdefault((code, f), []).append(_Path(g, leader, runner_up))

    def reason(self, customer_id: str, family_id: str, industry: str | None) -> Reason | None:
        """The strongest peer path to `family_id` for this customer, or None when it is too thin to cite.

        Among customers of `industry` other than this one, counts those who bought `family_id` after a
        family this customer owns (bought strictly before, by first purchase), per org through which they
        bought `family_id`; cites the (family, org) with the most, when at least MIN_PEERS. Ties go to the
        family, then the org, first in order. Unknown customers, families or industries give None.
        Raises nothing.
        """
        if industry is None:
            return None
        code = self._industry_index.get(industry.strip())
        f = self._family_index.get(family_id)
        c = self._customer_index.get(customer_id)
        if code is None or f is None or c is None:
            return None
        paths = self._paths.get((code, f))
        if paths is None:
            return None
        days = self._first_day[c].tolist()
        # The customer is among its own peers only in its industry, for paths it took itself.
        counted_in = code == int(self._industry_of[c])
        own_org = int(self._first_org[c, f])
        best_count, best_org, best_g = 0, -1, -1
        for path in paths:
            day = days[path.g]
            if math.isnan(day):
                continue
            self_org = own_org if counted_in and day < days[f] else -1
            count, org = path.best(self_org)
            if count > best_count:  # paths come in family order: a tie keeps the first
                best_count, best_org, best_g = count, org, path.g
        if best_count < MIN_PEERS:
            return None
        org_id = self._orgs[best_org]
        text = (
            f"{best_count:,} similar {industry.strip()} accounts in {self._org_names.get(org_id, org_id)} "
            f"bought {self._name(self._families[f])} after {self._name(self._families[best_g])}"
        )
        return Reason(kind=ReasonKind.PEER, text=text, contribution=float(best_count), org_id=org_id)

    def _name(self, family_id: str) -> str:
        return self._family_names.get(family_id, family_id)
