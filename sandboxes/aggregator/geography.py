"""Countries (from Babel's CLDR territories), regions and mobile operators for the catalogue."""

from __future__ import annotations

from babel import Locale

# CLDR territories that are not countries a travel eSIM covers: groupings, placeholders,
# uninhabited islands, and small territories the real catalogue does not list.
NOT_SOLD = frozenset(
    "AC AQ BV CP CQ DG EA EU EZ HM IC IO QO TA TF UM UN XA XB ZZ GS "
    "KP EH PN NF CC CX TK NU SH SJ FK WF PM BL MF NR TV KI MH FM PW AX BQ VA ER SS "
    "AS MP CK SX MS YT TL".split()
)


def countries() -> dict[str, str]:
    """ISO alpha-2 code -> English name, for every country the catalogue sells."""
    names = Locale("en").territories
    return {
        code: names[code]
        for code in sorted(names)
        if len(code) == 2 and code.isalpha() and code not in NOT_SOLD
    }


# Region members; the location code is "<area>-<number of members>" as the real ones are.
REGIONS: dict[str, tuple[str, list[str]]] = {
    "EU": (
        "Europe",
        (
            "AD AL AT BA BE BG CH CY CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE "
            "LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS SE SI SK SM UA XK TR"
        ).split(),
    ),
    "AS": ("Asia", "BD CN HK ID IN JP KH KR LA LK MM MN MO MY NP PH PK SG TH TW VN BN".split()),
    "ME": ("Middle East", "AE BH EG IL IQ JO KW LB OM PS QA SA TR YE".split()),
    "BK": ("Balkans", "AL BA BG GR HR ME MK RO RS SI XK".split()),
    "CB": (
        "Caribbean",
        ("AG AI AW BB BM BS CW DM DO GD GP HT JM KN KY LC MQ PR TC TT VC VG VI").split(),
    ),
    "SA": ("South America", "AR BO BR CL CO EC GF GY PE PY SR UY VE".split()),
    "AF": (
        "Africa",
        (
            "BF BJ BW CD CF CG CI CM DZ EG ET GA GH GM GN KE LR LS MA MG ML MU MW MZ NA NE NG "
            "RW SC SD SN SZ TD TG TN TZ UG ZA ZM ZW"
        ).split(),
    ),
    "NA": ("North America", "US CA MX".split()),
    "CAS": ("Central Asia", "KZ KG UZ TJ TM".split()),
    "CNHKMO": ("China, Hong Kong and Macau", "CN HK MO".split()),
    "AUNZ": ("Australia and New Zealand", "AU NZ".split()),
    "GCC": ("Gulf states", "AE BH KW OM QA SA".split()),
}


def global_members(all_countries: dict[str, str]) -> list[str]:
    """The 139 countries of the global plan: every region member, then the rest by name."""
    members: list[str] = []
    for _, codes in REGIONS.values():
        members += [c for c in codes if c in all_countries and c not in members]
    rest = sorted((c for c in all_countries if c not in members), key=lambda c: all_countries[c])
    return (members + rest)[:139]


# Operators of the countries most of our buyers travel to; others get a generic partner.
OPERATORS: dict[str, list[str]] = {
    "TR": ["Turkcell", "Vodafone", "Türk Telekom"],
    "AE": ["Etisalat", "du"],
    "GE": ["Magti", "Silknet", "Cellfie"],
    "UZ": ["Beeline", "Ucell", "Mobiuz"],
    "KG": ["Beeline", "MegaCom", "O!"],
    "KZ": ["Beeline", "Kcell", "Tele2", "Altel"],
    "TJ": ["Tcell", "Megafon", "Babilon-M"],
    "TM": ["TMCell"],
    "AM": ["Team", "Viva", "Ucom"],
    "AZ": ["Azercell", "Bakcell", "Nar"],
    "RU": ["MTS", "MegaFon", "Beeline", "Tele2"],
    "CN": ["China Mobile", "China Unicom", "China Telecom"],
    "HK": ["CSL", "SmarTone", "3"],
    "MO": ["CTM", "3"],
    "TH": ["AIS", "DTAC", "TrueMove H"],
    "VN": ["Viettel", "Vinaphone", "Mobifone"],
    "KR": ["SK Telecom", "KT", "LG U+"],
    "JP": ["NTT Docomo", "SoftBank", "KDDI"],
    "MY": ["Maxis", "CelcomDigi", "U Mobile"],
    "SG": ["Singtel", "StarHub", "M1"],
    "ID": ["Telkomsel", "Indosat", "XL"],
    "IN": ["Airtel", "Jio", "Vi"],
    "LK": ["Dialog", "Mobitel"],
    "MV": ["Dhiraagu", "Ooredoo"],
    "EG": ["Vodafone", "Orange", "Etisalat"],
    "SA": ["STC", "Mobily", "Zain"],
    "QA": ["Ooredoo", "Vodafone"],
    "IL": ["Partner", "Cellcom", "Pelephone"],
    "US": ["AT&T", "T-Mobile", "Verizon"],
    "CA": ["Rogers", "Bell", "Telus"],
    "MX": ["Telcel", "AT&T", "Movistar"],
    "BR": ["Vivo", "Claro", "TIM"],
    "AR": ["Claro", "Movistar", "Personal"],
    "GB": ["EE", "Vodafone", "O2", "Three"],
    "DE": ["Telekom", "Vodafone", "O2"],
    "FR": ["Orange", "SFR", "Bouygues"],
    "IT": ["TIM", "Vodafone", "WindTre"],
    "ES": ["Movistar", "Vodafone", "Orange"],
    "PT": ["MEO", "Vodafone", "NOS"],
    "NL": ["KPN", "Vodafone", "Odido"],
    "CH": ["Swisscom", "Sunrise", "Salt"],
    "AT": ["A1", "Magenta", "Drei"],
    "PL": ["Orange", "Play", "Plus", "T-Mobile"],
    "CZ": ["O2", "T-Mobile", "Vodafone"],
    "GR": ["Cosmote", "Vodafone", "Nova"],
    "ME": ["One", "m:tel", "Telekom"],
    "RS": ["mts", "Yettel", "A1"],
    "AU": ["Telstra", "Optus", "Vodafone"],
    "NZ": ["Spark", "One NZ", "2degrees"],
    "ZA": ["Vodacom", "MTN", "Cell C"],
    "MA": ["Maroc Telecom", "Orange", "inwi"],
}

# Generic partners by region for the countries above does not name (realistic, not exact).
_REGIONAL_PARTNERS = {
    "AF": ["Orange", "MTN", "Airtel"],
    "CB": ["Digicel", "Flow"],
    "SA": ["Claro", "Movistar"],
    "EU": ["Vodafone", "Orange"],
    "AS": ["Partner network"],
    "ME": ["Zain", "Ooredoo"],
}
# Countries with 5G on their main operators in the catalogue's speed field.
FIVE_G = frozenset(
    "TR AE CN HK TH KR JP SG US CA GB DE FR IT ES NL CH AT AU SA QA KZ MY PH VN IN".split()
)


def operators(code: str) -> list[str]:
    if code in OPERATORS:
        return OPERATORS[code]
    for area, (_, members) in REGIONS.items():
        if code in members and area in _REGIONAL_PARTNERS:
            return _REGIONAL_PARTNERS[area]
    return ["Partner network"]
