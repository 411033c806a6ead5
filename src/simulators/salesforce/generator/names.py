"""Company identities and the ways the same company is spelled differently in different orgs: legal
forms, abbreviations, typos, punctuation, websites, addresses and phone formats."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Identity", "new_identity", "person_name", "subsidiary_identity", "variant_of"]

_PREFIX = (
    "Acme",
    "Blue",
    "Vertex",
    "Northern",
    "Summit",
    "Silver",
    "Apex",
    "Pioneer",
    "Harbor",
    "Crescent",
    "Granite",
    "Evergreen",
    "Sterling",
    "Atlas",
    "Beacon",
    "Cobalt",
    "Delta",
    "Falcon",
    "Horizon",
    "Ironwood",
    "Juniper",
    "Keystone",
    "Liberty",
    "Meridian",
    "Nova",
    "Orion",
    "Pacific",
    "Quantum",
    "Redwood",
    "Sapphire",
    "Titan",
    "Union",
    "Vanguard",
    "Westfield",
    "Zenith",
    "Alpine",
    "Bright",
    "Cedar",
    "Eagle",
    "Frontier",
    "Golden",
    "Highland",
    "Lakeside",
    "Maple",
    "Oak",
    "Prairie",
    "River",
    "Stone",
    "Sun",
    "True",
    "Wild",
    "Polar",
)
_CORE = (
    "Robotics",
    "Logistics",
    "Foods",
    "Health",
    "Energy",
    "Capital",
    "Media",
    "Networks",
    "Pharma",
    "Motors",
    "Analytics",
    "Materials",
    "Textiles",
    "Insurance",
    "Engineering",
    "Retail",
    "Labs",
    "Solutions",
    "Foundry",
    "Holdings",
    "Systems",
    "Technologies",
    "Industries",
    "Manufacturing",
    "Consulting",
    "Partners",
    "Group",
    "International",
    "Dynamics",
    "Works",
    "Brands",
    "Ventures",
    "Semiconductors",
    "Chemicals",
    "Airlines",
)
_COUNTRIES = {
    "US": (
        ("Inc.", "LLC", "Corp.", "Co."),
        ".com",
        "+1",
        ("New York", "Chicago", "Austin", "Seattle", "Boston", "Denver", "Atlanta", "San Jose"),
        ("United States", "USA", "US", "U.S."),
    ),
    "DE": (
        ("GmbH", "AG", "GmbH & Co. KG"),
        ".de",
        "+49",
        ("Berlin", "Munich", "Hamburg", "Frankfurt", "Cologne", "Stuttgart"),
        ("Germany", "DE", "Deutschland"),
    ),
    "GB": (
        ("Ltd", "PLC", "Limited"),
        ".co.uk",
        "+44",
        ("London", "Manchester", "Leeds", "Bristol", "Glasgow"),
        ("United Kingdom", "UK", "GB", "England"),
    ),
    "FR": (("SA", "SAS", "SARL"), ".fr", "+33", ("Paris", "Lyon", "Toulouse", "Lille"), ("France", "FR")),
    "NL": (
        ("B.V.", "N.V."),
        ".nl",
        "+31",
        ("Amsterdam", "Rotterdam", "Utrecht", "Eindhoven"),
        ("Netherlands", "NL", "The Netherlands"),
    ),
}
_COUNTRY_WEIGHTS = (("US", 0.5), ("DE", 0.15), ("GB", 0.15), ("FR", 0.1), ("NL", 0.1))
_LEGAL_VARIANTS = {
    "Inc.": ("Inc.", "Inc", ", Inc.", "Incorporated", ""),
    "LLC": ("LLC", "L.L.C.", ", LLC", ""),
    "Corp.": ("Corp.", "Corp", "Corporation", ""),
    "Co.": ("Co.", "Company", "Co", ""),
    "GmbH": ("GmbH", "Gmbh", "G.m.b.H.", ""),
    "AG": ("AG", "A.G.", ""),
    "Ltd": ("Ltd", "Ltd.", "Limited", ""),
    "Limited": ("Limited", "Ltd", "Ltd.", ""),
    "PLC": ("PLC", "plc", "P.L.C.", ""),
}
_ABBREVIATIONS = {
    "International": "Intl",
    "Technologies": "Tech",
    "Systems": "Sys",
    "Manufacturing": "Mfg",
    "Engineering": "Eng",
    "Industries": "Inds",
    "Semiconductors": "Semi",
    "Pharma": "Pharmaceuticals",
    "Consulting": "Consultants",
    "Holdings": "Hldgs",
}
_STREETS = ("Main", "Oak", "Market", "Park", "Lake", "Hill", "Church", "Mill", "King", "Station", "River")
_STREET_KINDS = (("Street", "St.", "St"), ("Avenue", "Ave", "Ave."), ("Road", "Rd", "Rd."))
FIRST_NAMES = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Anna",
    "Lukas",
    "Sophie",
    "Oliver",
    "Emma",
    "Noah",
    "Mia",
    "Hugo",
    "Chloe",
    "Lars",
    "Priya",
    "Wei",
    "Yuki",
    "Omar",
    "Fatima",
    "Carlos",
    "Lucia",
    "Ivan",
    "Olga",
    "Kwame",
    "Aisha",
    "Mateo",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Martinez",
    "Lopez",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Dubois",
    "Laurent",
    "de Vries",
    "Jansen",
    "Taylor",
    "Wilson",
    "Patel",
    "Chen",
    "Tanaka",
    "Khan",
    "Okafor",
    "Rossi",
    "Novak",
    "Kowalski",
    "Nguyen",
    "Silva",
    "Kim",
)


@dataclass(frozen=True, slots=True)
class Identity:
    """The true facts of a company, from which each org's account is a noisy copy."""

    name: str
    legal_form: str
    country: str
    domain: str
    city: str
    street: str
    phone_digits: str


def _country(rng: random.Random) -> str:
    roll = rng.random()
    for code, weight in _COUNTRY_WEIGHTS:
        roll -= weight
        if roll <= 0:
            return code
    return "US"


def _street(rng: random.Random) -> str:
    kind = rng.choice(_STREET_KINDS)[0]
    return f"{rng.randint(1, 2500)} {rng.choice(_STREETS)} {kind}"


def new_identity(rng: random.Random) -> Identity:
    words = [rng.choice(_PREFIX), rng.choice(_CORE)]
    if rng.random() < 0.25:
        words.insert(1, rng.choice(_PREFIX))
    name = " ".join(dict.fromkeys(words))
    country = _country(rng)
    forms, tld, _, cities, _ = _COUNTRIES[country]
    domain = "".join(word.lower() for word in name.split()[:2]) + tld
    digits = "".join(str(rng.randint(0, 9)) for _ in range(10))
    return Identity(name, rng.choice(forms), country, domain, rng.choice(cities), _street(rng), digits)


def subsidiary_identity(parent: Identity, rng: random.Random) -> Identity:
    region, country = rng.choice(
        (
            ("Europe", "DE"),
            ("UK", "GB"),
            ("France", "FR"),
            ("Benelux", "NL"),
            ("Americas", "US"),
            ("Labs", "US"),
        )
    )
    forms, tld, _, cities, _ = _COUNTRIES[country]
    domain = parent.domain.split(".")[0] + tld
    digits = "".join(str(rng.randint(0, 9)) for _ in range(10))
    return Identity(
        f"{parent.name} {region}",
        rng.choice(forms),
        country,
        domain,
        rng.choice(cities),
        _street(rng),
        digits,
    )


def _typo(text: str, rng: random.Random) -> str:
    letters = [index for index, char in enumerate(text) if char.isalpha()]
    if len(letters) < 4:
        return text
    spot = rng.choice(letters[1:-1])
    kind = rng.randrange(3)
    if kind == 0:
        return text[:spot] + text[spot + 1] + text[spot] + text[spot + 2 :]
    if kind == 1:
        return text[:spot] + text[spot + 1 :]
    return text[:spot] + text[spot] + text[spot:]


def _phone(digits: str, country: str, rng: random.Random) -> str:
    code = _COUNTRIES[country][2]
    style = rng.randrange(4)
    if style == 0:
        return f"{code} {digits[:3]} {digits[3:6]} {digits[6:]}"
    if style == 1 and country == "US":
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    if style == 2:
        return f"{digits[:3]}.{digits[3:6]}.{digits[6:]}"
    return f"{code}{digits}"


def variant_of(identity: Identity, rng: random.Random, *, faithful: bool) -> dict[str, str | None]:
    """The account fields one org records for this company; `faithful` gives the cleanest copy."""
    words = identity.name.split()
    if not faithful:
        if rng.random() < 0.35:
            words = [_ABBREVIATIONS.get(word, word) for word in words]
        if rng.random() < 0.15:
            words = [word.replace("and", "&") for word in words]
    legal = identity.legal_form
    if not faithful:
        legal = rng.choice(_LEGAL_VARIANTS.get(legal, (legal, "")))
    name = " ".join(words)
    if legal:
        name = f"{name}{legal}" if legal.startswith(",") else f"{name} {legal}"
    if not faithful:
        roll = rng.random()
        if roll < 0.12:
            name = _typo(name, rng)
        elif roll < 0.2:
            name = name.upper()
        elif roll < 0.26:
            name = name.replace(" ", "-", 1)
        elif roll < 0.3:
            name = name.replace(".", "").replace(",", "")
    domain = identity.domain
    website: str | None
    roll = rng.random() if not faithful else 0.5
    if roll < 0.15:
        website = None
    elif roll < 0.3:
        website = f"https://www.{domain}/"
    elif roll < 0.45:
        website = f"www.{domain}"
    elif roll < 0.55 and not faithful:
        stem, _, tld = domain.partition(".")
        website = f"{stem}.com" if tld != "com" else f"{stem}-global.com"
    else:
        website = domain
    _, _, _, cities, country_names = _COUNTRIES[identity.country]
    branch = not faithful and rng.random() < 0.3
    street = _street(rng) if branch else identity.street
    if not faithful and not branch and rng.random() < 0.4:
        for long, *short in _STREET_KINDS:
            street = street.replace(long, rng.choice(short))
    digits = identity.phone_digits
    if branch:
        digits = digits[:6] + "".join(str(rng.randint(0, 9)) for _ in range(4))
    return {
        "Name": name,
        "Website": website,
        "BillingStreet": street,
        "BillingCity": rng.choice(cities) if branch else identity.city,
        "BillingCountry": country_names[0] if faithful else rng.choice(country_names),
        "BillingPostalCode": f"{rng.randint(10000, 99999)}",
        "Phone": None if (not faithful and rng.random() < 0.1) else _phone(digits, identity.country, rng),
    }


def person_name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
