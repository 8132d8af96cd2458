"""Random values for synthetic user documents: names, places, dates, times, money, codes, quantities.

Every function takes a random.Random, so a seed fixes every value. Formats vary on purpose (a date
may be "3 March 2025", "03/03/2025", "Tue 4 Feb" or "March 3rd") so the reader learns the value's
role from the words around it, not from one spelling.
"""

from __future__ import annotations

import random
import string


def _split(words: str) -> list[str]:
    """A "|"-separated list, or a space-separated one."""
    return words.split("|") if "|" in words else words.split()


# fmt: off
FIRST = _split(
    "Emma Oliver Sophie James Amelia Harry Chloe George Aisha Mohammed Priya Arjun Ananya Rohan Wei Mei "
    "Jun Hana Kenji Yuki Olga Piotr Agnieszka Tomasz Chidi Ngozi Emeka Adaeze Lucia Diego Carmen Javier "
    "Fatima Omar Layla Youssef Sean Niamh Siobhan Lars Ingrid Sven Amara Kofi Zara Ravi Leila Marco Giulia"
)
LAST = _split(
    "Smith Jones Taylor Brown Wilson Evans Patel Sharma Singh Gupta Chen Wang Li Zhang Tanaka Sato Kowalski "
    "Nowak Wisniewska Okafor Adeyemi Nwosu Garcia Martinez Lopez Fernandez Haddad Khan Rahman Hussain "
    "O'Brien Murphy Kelly Andersson Johansson Mensah Osei Rossi Bianchi Novak Dubois Moreau"
)
COMPANY_A = _split(
    "Northgate Bluewater Ashford Meridian Kestrel Harbour Oakridge Silverline Brightwell Redfern Lumen "
    "Crescent Highfield Westbrook Pinnacle Riverside Fernhill Alder Granite Beacon"
)
COMPANY_B = _split(
    "Lettings|Property Management|Insurance|Software|Logistics|Consulting|Dental Practice|Travel|Energy|"
    "Appliances|Homes|Health Centre|Academy|Bakery|Motors|Solutions|Systems|Foods|Labs|Partners"
)
TOWNS = _split(
    "Leeds|Bristol|Manchester|Norwich|Cardiff|Glasgow|Dundee|Exeter|York|Brighton|Leicester|Reading|"
    "Dublin|Galway|Lyon|Porto|Kraków|Utrecht|Ghent|Malaga|Bologna|Gdańsk|Aarhus|Toronto|Boston|Denver"
)
STREETS = _split(
    "Station Road|Church Street|Mill Lane|Victoria Avenue|Park Road|High Street|Queen's Drive|"
    "Elm Grove|Canal Walk|Orchard Close|Harbour View|Maple Way|King Street|Bridge End"
)
WEEKDAYS = _split("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
MONTHS = _split("January February March April May June July August September October November December")
# fmt: on
_DAYS_IN = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def choice(rng: random.Random, options: str) -> str:
    """One of a "|"-separated list."""
    return rng.choice(options.split("|"))


def first(rng: random.Random) -> str:
    return rng.choice(FIRST)


def person(rng: random.Random) -> str:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    return rng.choice((name, name, name, f"{choice(rng, 'Mr|Ms|Dr|Mrs')} {name.split()[1]}"))


def company(rng: random.Random) -> str:
    return f"{rng.choice(COMPANY_A)} {rng.choice(COMPANY_B)}" + rng.choice(("", "", " Ltd", " Ltd."))


def town(rng: random.Random) -> str:
    return rng.choice(TOWNS)


def address(rng: random.Random) -> str:
    flat = rng.choice(("", "", f"Flat {rng.randint(1, 12)}, "))
    return f"{flat}{rng.randint(1, 240)} {rng.choice(STREETS)}, {rng.choice(TOWNS)}"


def postcode(rng: random.Random) -> str:
    u = string.ascii_uppercase
    outward = f"{rng.choice(u)}{rng.choice(u)}{rng.randint(1, 20)}"
    return f"{outward} {rng.randint(1, 9)}{rng.choice(u)}{rng.choice(u)}"


def date(rng: random.Random, year: int | None = None) -> str:
    y = year or rng.choice((2024, 2025, 2026))
    m = rng.randint(1, 12)
    d = rng.randint(1, _DAYS_IN[m - 1])
    wd = WEEKDAYS[(d + m * 2 + y) % 7]
    suffix = "th" if 10 <= d % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")
    month = MONTHS[m - 1]
    forms = (
        f"{d} {month} {y}",
        f"{d} {month} {y}",
        f"{d:02d}/{m:02d}/{y}",
        f"{wd[:3]} {d} {month[:3]}",
        f"{month} {d}{suffix}",
        f"{wd} {d} {month}",
        f"{y}-{m:02d}-{d:02d}",
        f"{d} {month[:3]} {y}",
    )
    return rng.choice(forms)


def weekday(rng: random.Random) -> str:
    return rng.choice(WEEKDAYS)


def time(rng: random.Random, low: int = 6, high: int = 21) -> str:
    """A time of day between the hours low and high, as "14:30", "2.30pm", "2:30 pm" or "2pm"."""
    h, m = rng.randint(low, high), rng.choice((0, 0, 15, 30, 45, 5, 10, 20, 35, 40, 50, 55))
    h12 = h - 12 if h > 12 else h
    ap = "pm" if h >= 12 else "am"
    forms = (f"{h:02d}:{m:02d}", f"{h:02d}:{m:02d}", f"{h12}.{m:02d}{ap}", f"{h12}:{m:02d} {ap}")
    return rng.choice(forms) if m else rng.choice((f"{h:02d}:00", f"{h12}{ap}", f"{h12} {ap}"))


def money(rng: random.Random, low: float = 5, high: float = 2000, cents: bool | None = None) -> str:
    v = rng.uniform(low, high)
    with_cents = rng.random() < 0.4 if cents is None else cents
    amount = f"{v:,.2f}" if with_cents else f"{round(v):,}"
    cur = rng.choice(("£", "£", "$", "€", "EUR ", "GBP ", "USD "))
    return rng.choice((f"{cur}{amount}", f"{cur}{amount}", f"{amount} euros", f"{amount} pounds"))


def percent(rng: random.Random, low: int = 1, high: int = 40) -> str:
    v = rng.randint(low, high)
    return rng.choice((f"{v}%", f"{v}%", f"{v} per cent", f"{v}.5%"))


def code(rng: random.Random) -> str:
    u, n = string.ascii_uppercase, rng.randint(1000, 99999)
    forms = (
        f"{rng.choice(u)}{rng.choice(u)}-{n}",
        f"REF {rng.randint(1000, 9999)}-{rng.choice(u)}",
        f"{rng.choice(u)}{rng.choice(u)}{rng.choice(u)}{rng.randint(100, 999)}",
        f"#{n}",
        f"{rng.choice(u)}{n}{rng.choice(u)}",
    )
    return rng.choice(forms)


def email(rng: random.Random, name: str | None = None) -> str:
    local = (name or person(rng)).lower().replace("'", "").replace(".", "")
    domain = rng.choice(("mail.com", "outlook.com", "example.org", "company.co.uk", "post.net", "hq.io"))
    return (
        f"{local[0]}.{local[-1]}@{domain}"
        if rng.random() < 0.6
        else f"{local[-1]}{rng.randint(1, 99)}@{domain}"
    )


def phone(rng: random.Random) -> str:
    forms = (
        f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
        f"+44 20 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
        f"0{rng.randint(100, 199)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        f"+1 ({rng.randint(200, 999)}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
    )
    return rng.choice(forms)


def version(rng: random.Random) -> str:
    return f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 15)}"


def duration(rng: random.Random, hours: bool = True) -> str:
    h, m = rng.randint(1, 9), rng.choice((5, 10, 15, 20, 25, 30, 40, 45, 50))
    if not hours:
        return rng.choice((f"{m} minutes", f"{m} mins", f"{m} min"))
    return rng.choice((f"{h} h {m} min", f"{h}h {m}m", f"{h} hours {m} minutes", f"{h} hours"))


def quantity(rng: random.Random, unit: str, low: int, high: int) -> str:
    v = rng.randint(low, high)
    return f"{v} {unit}" if rng.random() < 0.7 else f"{v}{unit}"


def count(rng: random.Random, low: int, high: int, noun: str = "") -> str:
    v = str(rng.randint(low, high))
    return f"{v} {noun}".strip()


def password(rng: random.Random) -> str:
    word = rng.choice(("Sunflower", "blueHarbour", "maple", "Kestrel", "orchard", "Lantern", "river"))
    return (
        f"{word}{rng.randint(10, 999)}{rng.choice('!#$')}"
        if rng.random() < 0.5
        else f"{word}-{rng.randint(1000, 9999)}"
    )
