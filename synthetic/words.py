"""Small word lists from which names, NINOs and addresses are built.

The names are invented or rare so that a test can search logs for them and not find them by
accident; postcodes and NINOs have the real shapes but are drawn at random.
"""

from __future__ import annotations

import numpy as np
from numpy.dtypes import StringDType

TEXT = StringDType()

SURNAMES = (
    "Ashcombe", "Blackthorne", "Brackenridge", "Carrowmore", "Dunhallow", "Eddleston",
    "Fairbrass", "Gorringe", "Hathersage", "Inchbold", "Jessamine", "Kettlewell",
    "Lanchester", "Marchbanks", "Netherby", "Oakenshaw", "Pennicott", "Quillfeather",
    "Rattenbury", "Scarisbrick", "Thistlewood", "Underhay", "Vowden", "Wetherell",
    "Yarwood", "Abernethy", "Bellingham", "Cotterill", "Drinkwater", "Eastaugh",
    "Fothergill", "Greatorex", "Hebblethwaite", "Illingworth", "Jellicoe", "Kinnersley",
    "Loveridge", "Mossop", "Nettleship", "Ormerod", "Pagnell", "Rowbotham", "Sidebottom",
    "Tremayne", "Uttley", "Verrall", "Winstanley", "Youngsmith",
)

FORENAMES = (
    "Alaric", "Briony", "Cosmo", "Delphine", "Eamon", "Fenella", "Gideon", "Henrietta",
    "Ignatius", "Juniper", "Kester", "Leontine", "Marcus", "Nerys", "Orlando", "Petronella",
    "Quentin", "Rosalind", "Sebastian", "Tamsin", "Ulric", "Verity", "Wilfred", "Xanthe",
    "Yannick", "Zinnia", "Ambrose", "Bethan", "Crispin", "Dulcie", "Evander", "Flavia",
    "Gwilym", "Hermione", "Isolde", "Jolyon", "Kerensa", "Lysander", "Morwenna", "Niamh",
)

STREETS = (
    "Acorn", "Beacon", "Chandlers", "Dovecote", "Elderberry", "Foxglove", "Granary",
    "Hollybush", "Inkerman", "Juniper", "Kingfisher", "Lavender", "Millpond", "Nightingale",
    "Orchard", "Pinfold", "Quarry", "Rookery", "Saddlers", "Tanyard", "Upperfield",
    "Vicarage", "Wheelwright", "Yew Tree",
)
STREET_KINDS = ("Road", "Street", "Lane", "Close", "Avenue", "Crescent", "Gardens", "Way")
LOCALITIES = (
    "Westfield", "Northgate", "Southmead", "Eastbrook", "Highcroft", "Lowmoor", "Brookside",
    "Hillcrest", "Meadowbank", "Riverside",
)
TOWNS = (
    "Ambridge", "Borchester", "Casterbridge", "Dunmore", "Elmhurst", "Felpersham",
    "Grimsbury", "Hollowfield", "Inglestone", "Kingsmarkham", "Lowdham", "Midwich",
    "Newtonbury", "Oxbridge", "Penwithick", "Quarrington", "Radstowe", "Summerbridge",
    "Tollworth", "Wintringham",
)
ABROAD_STREETS = ("Calle Mayor", "Rue des Lilas", "Via Roma", "Avenida do Mar", "Hauptstrasse")
ABROAD_TOWNS = ("Malaga, Spain", "Lyon, France", "Bari, Italy", "Faro, Portugal", "Essen, Germany")
POSTCODE_AREAS = (
    "AB", "B", "BA", "BS", "CF", "CV", "DN", "EH", "EX", "G", "GL", "HU", "L", "LE", "LS", "M",
    "NE", "NG", "NR", "OX", "PL", "S", "SO", "SY", "TQ", "WR", "YO",
)
POSTCODE_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
NINO_PREFIXES = (
    "AB", "CE", "EH", "GJ", "HK", "JL", "KM", "LP", "MR", "NS", "PT", "RW", "SX", "TY", "WZ",
)
NINO_SUFFIXES = "ABCD"


def pick(rng: np.random.Generator, words: tuple[str, ...] | str, size: int) -> np.ndarray:
    """``size`` words (or letters) drawn uniformly, as a string array."""
    return np.array(list(words), dtype=TEXT)[rng.integers(0, len(words), size)]


def join(*parts: np.ndarray | str) -> np.ndarray:
    """Concatenate string arrays (or constants) element by element."""
    out = parts[0]
    for part in parts[1:]:
        out = np.strings.add(out, part)
    return np.asarray(out, dtype=TEXT)


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """Integers as zero-padded decimal text."""
    return np.strings.zfill(np.asarray(values, dtype=np.int64).astype(TEXT), width)


def ninos(rng: np.random.Generator, size: int) -> np.ndarray:
    """National Insurance numbers shaped like 'AB123456C'."""
    return join(
        pick(rng, NINO_PREFIXES, size),
        digits(rng.integers(0, 1_000_000, size), 6),
        pick(rng, NINO_SUFFIXES, size),
    )


def postcodes(rng: np.random.Generator, size: int) -> np.ndarray:
    """UK-shaped postcodes: area, district, space, sector digit, two unit letters."""
    return join(
        pick(rng, POSTCODE_AREAS, size),
        rng.integers(1, 30, size).astype(TEXT),
        " ",
        rng.integers(0, 10, size).astype(TEXT),
        pick(rng, POSTCODE_UNIT_LETTERS, size),
        pick(rng, POSTCODE_UNIT_LETTERS, size),
    )


def street_lines(rng: np.random.Generator, size: int, abroad: np.ndarray) -> np.ndarray:
    """First address lines: house number and street, a foreign street for parents abroad."""
    number = rng.integers(1, 240, size).astype(TEXT)
    home = join(number, " ", pick(rng, STREETS, size), " ", pick(rng, STREET_KINDS, size))
    away = join(number, " ", pick(rng, ABROAD_STREETS, size))
    return np.where(abroad, away, home).astype(TEXT)


def towns(rng: np.random.Generator, size: int, abroad: np.ndarray) -> np.ndarray:
    return np.where(abroad, pick(rng, ABROAD_TOWNS, size), pick(rng, TOWNS, size)).astype(TEXT)
