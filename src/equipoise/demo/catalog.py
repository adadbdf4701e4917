"""Fixed shapes of the demo company: its calendar, geography, products and names.

Weights are relative integers (market size, product mix); seasonality is in basis points per
calendar month and averages exactly 10,000, so it changes when revenue falls, not how much.
"""

from __future__ import annotations

from dataclasses import dataclass

COMPANY_NAME = "Northwind Data & Internet Services"
CURRENCY = "EUR"
FISCAL_YEAR_START_MONTH = 1
EMAIL_DOMAIN = "northwind.example"

# Dates are anchored to a reference day, `as_of` (see `timeline`): the plans start with the fiscal
# year containing it, and the history is the 24 months before.
PLAN_HORIZON_MONTHS = 24
HISTORY_MONTHS = 24  # ending the month before the plan starts
COMMIT_MONTHS = 6  # commits cover at least the first plan months…
COMMIT_MONTHS_AHEAD = 3  # …and the plan so far plus the next three months

# Result lines and contracts come from "the CRM", one import batch per ISO week.
RESULTS_SOURCE = "demo-crm"

PASSWORD = "equipoise-demo"
# The logins `equipoise demo` prints, in the order it prints them.
LOGINS = ("executive", "manager", "seller", "finance", "admin")

SELLERS_PER_TEAM = 8
# Above this many teams a director per region sits between the VP and the managers.
MAX_TEAMS_WITHOUT_DIRECTORS = 8
CUSHION_BP_BY_LEVEL = (0, 500, 500)
RAMP_BP = (2500, 5000, 7500)

OBJECTIVES_BP = {"grr_objective_bp": 9200, "nrr_objective_bp": 10800, "max_logo_churn_bp": 800}
# Plan total = last 12 months of history × 2 years × this uplift.
PLAN_UPLIFT_BP = 11500
PLAN_GROWTH_BP_PER_MONTH = 80
# Bucket targets and the plan total are whole thousands of euros: 1,000.00 EUR in minor units.
TARGET_UNIT_MINOR = 100_000

# Calendar-month revenue pattern, January first: quarter ends up, an August dip, a Q4 peak.
SEASONALITY_BP = (8800, 9200, 10600, 9500, 9800, 10600, 9300, 7400, 10200, 10300, 10800, 13500)


@dataclass(frozen=True, slots=True)
class CountryInfo:
    code: str
    name: str
    weight: int
    legal_suffix: str


@dataclass(frozen=True, slots=True)
class RegionInfo:
    code: str
    name: str
    weight: int
    countries: tuple[CountryInfo, ...]


# In the order teams are formed: adjacent regions merge when there are fewer teams than regions.
REGIONS = (
    RegionInfo(
        "NORDICS",
        "Nordics",
        16,
        (
            CountryInfo("SE", "Sweden", 40, "AB"),
            CountryInfo("NO", "Norway", 25, "AS"),
            CountryInfo("DK", "Denmark", 20, "A/S"),
            CountryInfo("FI", "Finland", 15, "Oy"),
        ),
    ),
    RegionInfo(
        "DACH",
        "DACH",
        22,
        (CountryInfo("DE", "Germany", 65, "GmbH"), CountryInfo("AT", "Austria", 15, "GmbH"), CountryInfo("CH", "Switzerland", 20, "AG")),
    ),
    RegionInfo(
        "BENELUX",
        "Benelux",
        12,
        (CountryInfo("NL", "Netherlands", 55, "B.V."), CountryInfo("BE", "Belgium", 38, "NV"), CountryInfo("LU", "Luxembourg", 7, "S.A.")),
    ),
    RegionInfo("UKI", "UK & Ireland", 14, (CountryInfo("GB", "United Kingdom", 80, "Ltd"), CountryInfo("IE", "Ireland", 20, "Ltd"))),
    RegionInfo(
        "SOUTH",
        "Southern Europe",
        22,
        (
            CountryInfo("FR", "France", 40, "SAS"),
            CountryInfo("ES", "Spain", 25, "S.L."),
            CountryInfo("IT", "Italy", 27, "S.p.A."),
            CountryInfo("PT", "Portugal", 8, "Lda"),
        ),
    ),
    RegionInfo(
        "CEE",
        "Central & Eastern Europe",
        14,
        (
            CountryInfo("PL", "Poland", 50, "Sp. z o.o."),
            CountryInfo("CZ", "Czechia", 28, "s.r.o."),
            CountryInfo("HU", "Hungary", 22, "Kft."),
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class ApplicationInfo:
    code: str
    name: str
    weight: int


@dataclass(frozen=True, slots=True)
class ProductLineInfo:
    code: str
    name: str
    applications: tuple[ApplicationInfo, ...]


PRODUCT_LINES = (
    ProductLineInfo(
        "CONNECT",
        "Connectivity",
        (
            ApplicationInfo("FIBRE", "Business Fibre Internet", 20),
            ApplicationInfo("SDWAN", "Managed SD-WAN", 15),
            ApplicationInfo("MOBILE", "Mobile Data & Private 5G", 10),
        ),
    ),
    ProductLineInfo(
        "CLOUD",
        "Cloud & Hosting",
        (
            ApplicationInfo("COLO", "Colocation", 12),
            ApplicationInfo("MCLOUD", "Managed Cloud", 18),
            ApplicationInfo("BACKUP", "Backup & Disaster Recovery", 8),
        ),
    ),
    ProductLineInfo(
        "DATA",
        "Data Services",
        (ApplicationInfo("DATAPLAT", "Managed Data Platform", 10), ApplicationInfo("ANALYTICS", "Analytics & BI", 7)),
    ),
)

FIRST_NAMES = (
    "Anna", "Lars", "Sofia", "Mikael", "Elin", "Jonas", "Ingrid", "Henrik", "Klara", "Matthias", "Lena", "Stefan", "Julia",
    "Felix", "Hanna", "Tobias", "Eva", "Pieter", "Sanne", "Daan", "Lotte", "Thomas", "Emma", "Oliver", "Grace", "Liam",
    "Aoife", "Conor", "Claire", "Julien", "Camille", "Hugo", "Lucia", "Javier", "Carmen", "Marco", "Giulia", "Luca",
    "Francesca", "Inês", "João", "Marta", "Piotr", "Agnieszka", "Tomasz", "Jana", "Martin", "Petra", "Zsófia", "Bence",
    "Noor", "Sven", "Astrid", "Nils", "Freya", "Jakob", "Mia", "Paul", "Nora", "Ruben",
)  # fmt: skip
LAST_NAMES = (
    "Andersson", "Lindqvist", "Berg", "Nieminen", "Hansen", "Larsen", "Johansen", "Virtanen", "Müller", "Schneider", "Weber",
    "Fischer", "Huber", "Keller", "de Vries", "Jansen", "Peeters", "Maes", "Smith", "Walsh", "Murphy", "Taylor", "Byrne",
    "Martin", "Bernard", "Dubois", "Lefèvre", "García", "Fernández", "López", "Rossi", "Bianchi", "Romano", "Ferreira",
    "Silva", "Kowalski", "Nowak", "Wiśniewska", "Novák", "Dvořák", "Nagy", "Kovács", "Svensson", "Olsen", "Koch", "Wouters",
    "O'Brien", "Moreau", "Ricci", "Santos",
)  # fmt: skip

CUSTOMER_PREFIXES = (
    "Alder", "Aurora", "Baltic", "Beacon", "Birch", "Blue Harbour", "Boreal", "Cobalt", "Copper", "Crest", "Danube", "Delta",
    "Ember", "Evergreen", "Fjord", "Granite", "Harbour", "Helix", "Horizon", "Iris", "Juniper", "Keystone", "Lakeside",
    "Linden", "Lumen", "Maple", "Meridian", "Nordic Star", "North Sea", "Oakridge", "Orion", "Pinnacle", "Polar", "Quarry",
    "Rhine", "Riverside", "Saffron", "Silverline", "Solstice", "Summit", "Tidewater", "Trident", "Tulip", "Union",
    "Vanguard", "Vega", "Westbrook", "Willow", "Zenith", "Atlas",
)  # fmt: skip
CUSTOMER_SECTORS = (
    "Logistics", "Health", "Retail", "Bank", "Insurance", "Energy", "Foods", "Pharma", "Media", "Engineering", "Hotels",
    "Airlines", "Shipping", "Telecom", "Software", "Manufacturing", "Motors", "Foods Group", "Capital", "Education",
    "Property", "Utilities", "Chemicals", "Games", "Fashion", "Clinics", "Farms", "Steel", "Robotics", "Travel",
)  # fmt: skip
