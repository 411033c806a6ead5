"""Normalising what accounts say about a company: names, legal forms, domains, phones, addresses."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from domain.account import domain_of

__all__ = [
    "CompanyName",
    "MatchFeatures",
    "fold",
    "normalise_city",
    "normalise_country",
    "normalise_domain",
    "normalise_name",
    "normalise_phone",
    "normalise_street",
]

# Longer inputs carry no extra identity and only slow the matcher down (10 kB "names" exist in the wild).
_MAX_TEXT = 200

# Legal forms in English, German, French, Dutch and Spanish, written as folded tokens. A multi-word
# form is matched as a token sequence, longest first, so "gmbh co kg" wins over "gmbh".
_LEGAL_FORMS: dict[str, str] = {
    # English
    "inc": "inc",
    "incorporated": "inc",
    "llc": "llc",
    "l l c": "llc",
    "llp": "llp",
    "lp": "lp",
    "corp": "corp",
    "corporation": "corp",
    "co": "co",
    "company": "co",
    "ltd": "ltd",
    "limited": "ltd",
    "plc": "plc",
    "p l c": "plc",
    "pty": "pty",
    "pty ltd": "ltd",
    "l t d": "ltd",
    # German
    "gmbh": "gmbh",
    "g m b h": "gmbh",
    "ag": "ag",
    "a g": "ag",
    "kg": "kg",
    "ohg": "ohg",
    "gmbh co kg": "gmbh co kg",
    "gmbh und co kg": "gmbh co kg",
    "gmbh and co kg": "gmbh co kg",
    "g m b h and co kg": "gmbh co kg",
    "ag and co kg": "ag co kg",
    "gmbh co": "gmbh co kg",
    "ug": "ug",
    "e v": "ev",
    "ev": "ev",
    "kgaa": "kgaa",
    "se": "se",
    # French
    "sa": "sa",
    "s a": "sa",
    "sas": "sas",
    "s a s": "sas",
    "sarl": "sarl",
    "s a r l": "sarl",
    "sasu": "sasu",
    "eurl": "eurl",
    "sci": "sci",
    "snc": "snc",
    # Dutch
    "bv": "bv",
    "b v": "bv",
    "nv": "nv",
    "n v": "nv",
    "vof": "vof",
    "cv": "cv",
    # Spanish
    "sl": "sl",
    "s l": "sl",
    "slu": "slu",
    "s l u": "slu",
    "sau": "sau",
    "s a u": "sau",
    "sa de cv": "sa",
    "s a de c v": "sa",
    "s coop": "coop",
    "srl": "srl",
}
_MAX_FORM_TOKENS = max(len(form.split()) for form in _LEGAL_FORMS)
# A name whose last word ends no legal form has none: most names are rejected on one set lookup.
_FORM_LAST_WORDS = frozenset(form.split()[-1] for form in _LEGAL_FORMS)

# Words that say nothing about which company it is, in the five languages.
_STOP_WORDS = frozenset(
    [
        "the",
        "and",
        "of",
        "for",
        "a",
        "an",
        "&",
        "und",
        "der",
        "die",
        "das",
        "den",
        "fur",
        "et",
        "le",
        "la",
        "les",
        "du",
        "des",
        "de",
        "en",
        "het",
        "van",
        "y",
        "el",
        "los",
        "las",
        "del",
    ]
)

# Common business abbreviations and inflections mapped to one stem, so "Intl" meets "International" and
# "Consultants" meets "Consulting".
_WORD_STEMS: dict[str, str] = {
    "intl": "international",
    "int'l": "international",
    "tech": "technologies",
    "technology": "technologies",
    "sys": "systems",
    "system": "systems",
    "mfg": "manufacturing",
    "manufacturers": "manufacturing",
    "eng": "engineering",
    "engg": "engineering",
    "inds": "industries",
    "industry": "industries",
    "ind": "industries",
    "semi": "semiconductors",
    "semiconductor": "semiconductors",
    "pharmaceuticals": "pharma",
    "pharmaceutical": "pharma",
    "consultants": "consulting",
    "consultancy": "consulting",
    "hldgs": "holdings",
    "holding": "holdings",
    "grp": "group",
    "svcs": "services",
    "svc": "services",
    "service": "services",
    "mgmt": "management",
    "natl": "national",
    "assoc": "associates",
    "bros": "brothers",
    "labs": "labs",
    "lab": "labs",
    "laboratories": "labs",
    "laboratory": "labs",
    "solution": "solutions",
    "network": "networks",
}

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
# A plain web address (optional http(s) scheme, ASCII host, optional path): the common case, whose host
# this reads directly. Anything else (ports, user info, odd schemes, control characters) goes through
# urllib's full parser, which gives the same host for the plain case but costs several times more.
_PLAIN_URL = re.compile(r"(?:https?://)?(?P<host>[a-z0-9-]+(?:\.[a-z0-9-]+)+)(?:[/?#][^\t\r\n]*)?")
_PARENTHESES = re.compile(r"\([^)]*\)")
_DIGITS = re.compile(r"\D+")

# Web-mail and placeholder domains identify a person or nobody, never a company.
_SHARED_DOMAINS = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "aol.com",
        "icloud.com",
        "gmx.de",
        "web.de",
        "t-online.de",
        "orange.fr",
        "free.fr",
        "wanadoo.fr",
        "example.com",
        "example.org",
        "test.com",
        "none.com",
        "na.com",
        "linkedin.com",
        "facebook.com",
    ]
)

_COUNTRIES: dict[str, str] = {
    "us": "US",
    "usa": "US",
    "u s": "US",
    "u s a": "US",
    "united states": "US",
    "united states of america": "US",
    "america": "US",
    "de": "DE",
    "deu": "DE",
    "germany": "DE",
    "deutschland": "DE",
    "gb": "GB",
    "uk": "GB",
    "u k": "GB",
    "gbr": "GB",
    "united kingdom": "GB",
    "england": "GB",
    "great britain": "GB",
    "scotland": "GB",
    "wales": "GB",
    "fr": "FR",
    "fra": "FR",
    "france": "FR",
    "nl": "NL",
    "nld": "NL",
    "netherlands": "NL",
    "the netherlands": "NL",
    "holland": "NL",
    "nederland": "NL",
    "es": "ES",
    "esp": "ES",
    "spain": "ES",
    "espana": "ES",
    "be": "BE",
    "belgium": "BE",
    "belgique": "BE",
    "belgie": "BE",
    "at": "AT",
    "austria": "AT",
    "osterreich": "AT",
    "ch": "CH",
    "switzerland": "CH",
    "schweiz": "CH",
    "suisse": "CH",
    "it": "IT",
    "italy": "IT",
    "italia": "IT",
    "ie": "IE",
    "ireland": "IE",
    "ca": "CA",
    "canada": "CA",
    "mx": "MX",
    "mexico": "MX",
    "au": "AU",
    "australia": "AU",
}

_STREET_WORDS: dict[str, str] = {
    "st": "street",
    "str": "strasse",
    "strase": "strasse",
    "ave": "avenue",
    "av": "avenue",
    "rd": "road",
    "blvd": "boulevard",
    "dr": "drive",
    "ln": "lane",
    "pl": "place",
    "sq": "square",
    "ct": "court",
    "hwy": "highway",
    "pkwy": "parkway",
    "ste": "suite",
    "fl": "floor",
}


def fold(text: str | None) -> str:
    """Lower-case ASCII words separated by single spaces: accents dropped, ß -> ss, symbols removed."""
    if not text:
        return ""
    text = text[: _MAX_TEXT * 2].casefold()
    if not text.isascii():
        # Combining accents are not ASCII, so dropping non-ASCII after NFKD drops exactly the accents.
        text = (
            unicodedata.normalize("NFKD", text.replace("ß", "ss")).encode("ascii", "ignore").decode("ascii")
        )
    return " ".join(_NON_ALNUM.sub(" ", text.replace("&", " and ")).split())[:_MAX_TEXT]


@dataclass(frozen=True, slots=True)
class CompanyName:
    """A company name reduced to what identifies the company: its words, without legal form or filler."""

    tokens: tuple[str, ...]
    legal_form: str | None

    @property
    def key(self) -> str:
        """The words in order, joined by spaces; "" when nothing usable is left."""
        return " ".join(self.tokens)


def _strip_legal_form(words: list[str]) -> tuple[list[str], str | None]:
    if not words or words[-1] not in _FORM_LAST_WORDS:
        return words, None
    # Dotted forms ("B.V.", "G.m.b.H.") fold into single letters, so try sequences of up to N words.
    for size in range(min(_MAX_FORM_TOKENS, len(words) - 1), 0, -1):
        tail = " ".join(words[-size:])
        if tail in _LEGAL_FORMS:
            return words[:-size], _LEGAL_FORMS[tail]
    return words, None


def normalise_name(raw: str | None) -> CompanyName:
    """Split a name into identifying words: folded, legal form removed, abbreviations expanded.

    Text in parentheses (a branch city: "ACME GmbH (Berlin)") is dropped. Never raises: a name with
    nothing usable gives an empty CompanyName.
    """
    text = raw[: _MAX_TEXT * 2] if raw else ""
    if "(" in text:
        text = _PARENTHESES.sub(" ", text)
    words = fold(text).split()
    words, legal_form = _strip_legal_form(words)
    # A second pass catches "Foo GmbH & Co. KG" written with an extra form in front of the tail one.
    if legal_form is not None:
        words, _ = _strip_legal_form(words)
    tokens = tuple([_WORD_STEMS.get(w, w) for w in words if w not in _STOP_WORDS])
    return CompanyName(tokens, legal_form)


def normalise_domain(website: str | None) -> str | None:
    """The company's web domain (`https://www.Acme.com/x` -> `acme.com`), or None when unusable."""
    if not website or len(website) > _MAX_TEXT * 2:
        return None
    text = website.strip()
    if "@" in text:  # an e-mail address: its domain is what counts
        text = text.rsplit("@", 1)[1]
    plain = _PLAIN_URL.fullmatch(text.lower())
    if plain is not None:
        host: str | None = plain["host"].removeprefix("www.")
    else:
        try:
            host = domain_of(text)
        except ValueError:  # urlsplit rejects some malformed inputs (unbalanced brackets)
            return None
    if host is None or " " in host or host in _SHARED_DOMAINS:
        return None
    labels = host.split(".")
    if any(not label for label in labels) or not labels[-1].isalpha():
        return None
    return host


def normalise_phone(raw: str | None) -> str | None:
    """The national significant digits (at most the last 10), or None with fewer than 7 digits."""
    if not raw:
        return None
    digits = _DIGITS.sub("", raw[:_MAX_TEXT])
    if len(digits) < 7:
        return None
    # Country codes and trunk prefixes vary in how people write the same number; the last ten digits
    # do not.
    return digits[-10:]


@lru_cache(maxsize=4096)
def normalise_country(raw: str | None) -> str | None:
    """An ISO 3166 alpha-2 code for the country names and codes xsell knows, else None."""
    return _COUNTRIES.get(fold(raw))


@lru_cache(maxsize=65536)
def normalise_city(raw: str | None) -> str | None:
    return fold(raw) or None


def normalise_street(raw: str | None) -> str | None:
    """House number and street in one spelling: "1240 Park St." -> "1240 park street"."""
    words = [_STREET_WORDS.get(w, w) for w in fold(raw).split()]
    # German addresses glue the kind to the name ("Hauptstr."); split it off the same way.
    words = [w[: -len("strasse")] + " strasse" if w.endswith("strasse") and len(w) > 7 else w for w in words]
    return " ".join(words) or None


@dataclass(frozen=True, slots=True)
class MatchFeatures:
    """Everything the matcher compares for one account, normalised; None where the CRM had nothing usable."""

    name: CompanyName
    domain: str | None
    phone: str | None
    street: str | None
    city: str | None
    country: str | None

    @classmethod
    def of(
        cls,
        *,
        name: str | None,
        website: str | None,
        phone: str | None,
        street: str | None,
        city: str | None,
        country: str | None,
    ) -> MatchFeatures:
        return cls(
            name=normalise_name(name),
            domain=normalise_domain(website),
            phone=normalise_phone(phone),
            street=normalise_street(street),
            city=normalise_city(city),
            country=normalise_country(country),
        )

    @property
    def domain_stem(self) -> str | None:
        """The domain without its public suffix (`acme.co.uk` -> `acme`): the same brand on another TLD."""
        if self.domain is None:
            return None
        labels = self.domain.split(".")
        # Two-letter second-level labels under a country TLD are registry suffixes (co.uk, com.au).
        if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in ("co", "com", "org", "net", "ac"):
            stem = labels[-3]
        else:
            stem = labels[-2] if len(labels) >= 2 else labels[0]
        # Regional and campaign sites hang a word on the brand: acme-global.com, acme-uk.com.
        return stem.split("-")[0] or stem
