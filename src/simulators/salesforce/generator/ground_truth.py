"""The ground-truth file: which accounts are one company, and each company's true purchase propensities.

Format: JSON Lines, UTF-8. The first line is the header, every further line one company:

    {"kind": "header", "format": "xsell-ground-truth/1", "seed": 7, "as_of": "2026-10-01",
     "horizon_days": 180, "history_start": "2023-10-02",
     "orgs": [{"name": "bu1", "org_id": "00D…", "label": "Northwind Software", "currency": "USD",
               "families": ["CRM Suite", …]}],
     "families": ["CRM Suite", …],
     "products": [{"org": "bu1", "product_id": "01t…", "name": "CRM Enterprise", "code": "CRM-ENT-1",
                   "family": "CRM Suite"}]}
    {"kind": "company", "company_id": "C0000001", "name": "Acme Robotics", "industry": "Retail",
     "employees": 1200, "country": "US", "parent_company_id": null,
     "accounts": [{"org": "bu1", "account_id": "001…"}, {"org": "bu3", "account_id": "001…"}],
     "owned": ["CRM Suite"],
     "propensity": {"CRM Suite": null, "Data Platform": 0.183, …}}

Since format 1 also carries what is needed to compute a true propensity at any earlier cutoff: in the
header `history_start_at`, `month_days`, `months` (the simulation's monthly grid), `co_ownership`
([owned, family, logit lift]) and `sellers` (family → org name); per company `logits` (the static monthly
purchase logit per family), `account_created` (org name → time) and `purchases` ([family, time, org]).
`true_propensity` uses them.

`accounts` lists every account of the company in every org (entity-resolution truth; a subsidiary is its
own company and names its parent in `parent_company_id`). `owned` are the families the company had bought
(closed-won) in any org by `as_of`. `propensity[f]` is the true probability that the company makes its
first purchase of family f within `horizon_days` after `as_of`, given what it owns at `as_of`, whether or
not it is yet an account of the org that sells f (that is the cross-sell whitespace); it is null for
families already owned.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

__all__ = ["GroundTruth", "GroundTruthWriter", "read_ground_truth", "true_propensity"]

FORMAT = "xsell-ground-truth/1"


class GroundTruthWriter:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle: IO[str] = path.open("w", encoding="utf-8")

    def header(self, header: dict[str, Any]) -> None:
        self._write({"kind": "header", "format": FORMAT, **header})

    def company(self, company: dict[str, Any]) -> None:
        self._write({"kind": "company", **company})

    def _write(self, line: dict[str, Any]) -> None:
        self._handle.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")

    def close(self) -> None:
        self._handle.close()


@dataclass(frozen=True, slots=True)
class GroundTruth:
    header: dict[str, Any]
    companies: list[dict[str, Any]]

    def company_of_account(self) -> dict[tuple[str, str], str]:
        """(org name, account id) → company id."""
        return {
            (account["org"], account["account_id"]): company["company_id"]
            for company in self.companies
            for account in company["accounts"]
        }


def iter_ground_truth(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def read_ground_truth(path: Path) -> GroundTruth:
    """Load a whole ground-truth file (for evaluation on small and medium groups)."""
    lines = iter_ground_truth(path)
    header = next(lines)
    if header.get("format") != FORMAT:
        raise ValueError(f"{path} is not a ground-truth file of format {FORMAT}")
    return GroundTruth(header, list(lines))


def true_propensity(
    header: dict[str, Any], company: dict[str, Any], family: str, cutoff: datetime, days: int
) -> float | None:
    """The generator's probability that `company` first buys `family` in (cutoff, cutoff + days].

    None when the company owns the family at the cutoff. Exact for the simulation given the company's state
    at the cutoff: each simulated month whose purchase interval overlaps the window contributes its hazard
    times the overlapping share, and only months in which the selling org already had the company's
    account count (that is when a purchase can happen). Purchases of other families inside the window would
    raise the hazard further; like the `propensity` field, this uses the state at the cutoff.
    """
    bought = [(f, datetime.fromisoformat(when)) for f, when, _ in company["purchases"]]
    owned = {f for f, when in bought if when <= cutoff}
    if family in owned:
        return None
    lift = {(a, b): v for a, b, v in header["co_ownership"]}
    logit = company["logits"][family] + sum(lift.get((other, family), 0.0) for other in owned)
    hazard = 1.0 / (1.0 + math.exp(-logit))
    created_text = company["account_created"].get(header["sellers"][family])
    if created_text is None:
        return 0.0
    created = datetime.fromisoformat(created_text)
    start = datetime.fromisoformat(header["history_start_at"])
    month = timedelta(days=header["month_days"])
    end = cutoff + timedelta(days=days)
    survive = 1.0
    for number in range(header["months"]):
        month_start = start + number * month
        month_end = month_start + month
        if month_end <= cutoff or month_start >= end or created > month_start:
            continue
        overlap = (min(month_end, end) - max(month_start, cutoff)) / month
        survive *= 1.0 - hazard * overlap
    return 1.0 - survive
