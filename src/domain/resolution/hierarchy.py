"""Parent/subsidiary relations between customers: kept as links between two customers, never merged."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from domain.account import AccountKey
from domain.resolution.normalisation import CompanyName, normalise_country

__all__ = ["CustomerRelation", "RelationSource", "crm_relations", "is_subsidiary_name", "name_relations"]


class RelationSource(StrEnum):
    CRM_PARENT = "crm_parent"  # Salesforce Account.ParentId
    NAME = "name"  # "Acme Group" -> "Acme Germany"


@dataclass(frozen=True, slots=True, order=True)
class CustomerRelation:
    parent_id: str
    child_id: str
    source: RelationSource


# Words that make a name the umbrella of its regional companies, and region words that mark a
# subsidiary ("Acme Europe", "Acme North America"). Country names count as region words too.
_UMBRELLA_WORDS = frozenset(["group", "holdings", "international", "global", "worldwide"])
_REGION_WORDS = frozenset(
    [
        "europe",
        "emea",
        "apac",
        "asia",
        "americas",
        "america",
        "latam",
        "nordic",
        "nordics",
        "benelux",
        "dach",
        "north",
        "south",
        "east",
        "west",
        "central",
        "pacific",
        "middle",
        "africa",
    ]
)


def _core(name: CompanyName) -> tuple[str, ...]:
    tokens = name.tokens
    while tokens and tokens[-1] in _UMBRELLA_WORDS:
        tokens = tokens[:-1]
    return tokens


def _regional(words: tuple[str, ...]) -> bool:
    if not words:
        return False
    if all(w in _REGION_WORDS for w in words):
        return True
    return normalise_country(" ".join(words)) is not None


def is_subsidiary_name(parent: CompanyName, child: CompanyName) -> bool:
    """True when `child` reads as a regional company of `parent`: the parent's words (without "Group",
    "Holdings", ...) followed only by a country or region ("Acme Group" -> "Acme Germany").

    A different product word ("Acme Labs") is not enough: it may just as well be another company.
    """
    core = _core(parent)
    if not core or len(child.tokens) <= len(core) or child.tokens[: len(core)] != core:
        return False
    return _regional(child.tokens[len(core) :])


def crm_relations(
    parents: Mapping[AccountKey, AccountKey], customer_of: Mapping[AccountKey, str]
) -> set[CustomerRelation]:
    """Relations from the CRM's own parent links (child account -> parent account, in one org), between
    the customers the two accounts are filed under; a link inside one customer says nothing new."""
    relations = set()
    for child, parent in parents.items():
        child_id, parent_id = customer_of.get(child), customer_of.get(parent)
        if child_id and parent_id and child_id != parent_id:
            relations.add(CustomerRelation(parent_id, child_id, RelationSource.CRM_PARENT))
    return relations


def name_relations(names: Iterable[tuple[str, CompanyName]]) -> set[CustomerRelation]:
    """Relations between customers whose names read as umbrella and regional company.

    Only customers sharing their first word are compared, so the work grows with the customers, not
    their square.
    """
    by_first: dict[str, list[tuple[str, CompanyName]]] = {}
    for customer_id, name in names:
        if name.tokens:
            by_first.setdefault(name.tokens[0], []).append((customer_id, name))
    relations = set()
    for group in by_first.values():
        if len(group) < 2:
            continue
        parents = [(i, n) for i, n in group if _core(n)]
        for child_id, child in group:
            for parent_id, parent in parents:
                if parent_id != child_id and is_subsidiary_name(parent, child):
                    relations.add(CustomerRelation(parent_id, child_id, RelationSource.NAME))
    return relations
