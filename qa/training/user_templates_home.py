"""Document templates of home and travel life (trips, recipes, insurance, bills, offers, appointments);
see user_templates for how they are written."""

from __future__ import annotations

import random

from qa.training import user_values as v
from qa.training.user_templates import Doc, register


def itinerary(rng: random.Random) -> Doc:
    a, b = rng.sample(v.TOWNS, 2)
    d = Doc(rng, "itinerary", rng.choice(("Booking confirmation", "Your trip itinerary", f"Trip to {b}")))
    d.fact(
        "booking",
        v.code(rng),
        "Booking reference|Confirmation number|Ref",
        "Your booking reference is {}.",
        "booking ref|confirmation code?|what's my reference number",
    )
    d.fact(
        "flight",
        f"{v.choice(rng, 'BA|FR|U2|LH|KL|AA')}{rng.randint(100, 9999)}",
        "Flight|Flight number",
        "You are on flight {}.",
        "flight number?|which flight am i on",
    )
    d.fact(
        "dep",
        v.time(rng, 6, 12),
        f"Departs {a}|Departure",
        f"The flight leaves {a} at {{}}.",
        "when do we take off|departure time|what time does the flight leave",
    )
    d.fact(
        "arr",
        v.time(rng, 13, 21),
        f"Arrives {b}|Arrival",
        f"It lands in {b} at {{}}.",
        "when do we land|arrival time?|what time do we get there",
    )
    d.fact(
        "hotel",
        f"{v.choice(rng, 'Hotel|The')} {v.choice(rng, 'Regent|Harbourside|Lindenhof|Alma|Grand Central')}",
        "Hotel|Accommodation",
        "You are staying at {}.",
        "where are we staying|hotel name|which hotel",
    )
    d.fact(
        "checkin",
        v.time(rng, 14, 17),
        "Check-in|Check-in from",
        "Check-in opens at {}.",
        "checkin time?|when can we check in|what time is check in",
    )
    if d.maybe():
        d.fact(
            "checkout",
            v.time(rng, 9, 11),
            "Check-out|Check-out by",
            "Please check out by {}.",
            "checkout time|when do we have to leave the room|check out?",
        )
    else:
        d.near("checkin", "checkout time|when do we have to check out|check out by when")
    d.fact(
        "wifi",
        v.password(rng),
        "Wi-Fi password|WiFi code",
        "The Wi-Fi password is {}.",
        "wifi password|internet code|what's the wifi pw",
    )
    d.fact(
        "bags",
        v.quantity(rng, "kg", 7, 32),
        "Baggage allowance|Luggage",
        "Each passenger may bring {} of luggage.",
        "how much luggage can i take|bag allowance|baggage weight",
    )
    d.near("bags", "how much does an extra bag cost|excess baggage fee")
    return d


def recipe(rng: random.Random) -> Doc:
    dish = v.choice(
        rng, "Lemon drizzle cake|Banana bread|Shepherd's pie|Vegetable lasagne|Chicken tagine|Carrot soup"
    )
    d = Doc(rng, "recipe", dish)
    d.fact(
        "serves",
        v.count(rng, 2, 12),
        "Serves|Servings",
        "This makes enough for {} people.",
        "how many does it feed|servings?|how many people",
    )
    d.fact(
        "prep",
        v.duration(rng, hours=False),
        "Prep time|Preparation",
        "Preparation takes about {}.",
        "prep time|how long to prepare",
    )
    d.fact(
        "cook",
        v.duration(rng),
        "Cooking time|Bake for|Cook time",
        "Cook for {}.",
        "how long does it cook|cooking time?|how long in the oven",
    )
    d.fact(
        "oven",
        v.quantity(rng, "°C", 150, 230),
        "Oven|Oven temperature",
        "Preheat the oven to {}.",
        "oven temp|what temperature|how hot should the oven be",
    )
    d.head("Ingredients")
    for slot, (item, unit, lo, hi) in zip(("i1", "i2", "i3"), rng.sample(_INGREDIENTS, 3), strict=True):
        d.line(
            f"- {{{slot}}} {item}",
            **{slot: v.quantity(rng, unit, lo, hi)},
            asks={slot: f"how much {item}|amount of {item}|{item} quantity"},
        )
    if d.maybe(0.3):
        d.near("i1", "how many eggs|how much salt")
    d.near("oven", "gas mark?|can i freeze it|how long does it keep")
    return d


_INGREDIENTS = [
    ("flour", "g", 100, 500),
    ("sugar", "g", 50, 300),
    ("butter", "g", 50, 250),
    ("milk", "ml", 100, 600),
    ("stock", "ml", 250, 1200),
    ("rice", "g", 150, 400),
    ("onions", "x", 1, 4),
    ("cheese", "g", 50, 300),
]


def insurance(rng: random.Random) -> Doc:
    what = v.choice(rng, "Home contents|Car|Travel|Pet|Buildings")
    d = Doc(rng, "insurance", f"{what} insurance — policy schedule")
    d.fact(
        "policy",
        v.code(rng),
        "Policy number|Policy no.",
        "Your policy number is {}.",
        "policy number?|what's my policy no",
    )
    d.fact(
        "holder",
        v.person(rng),
        "Policyholder|Insured",
        "The insured person is {}.",
        "who is insured|policy holder name|whose policy is it",
    )
    d.fact(
        "insurer",
        v.company(rng),
        "Insurer|Underwritten by",
        "This policy is underwritten by {}.",
        "which company insures me|who's the insurer",
    )
    d.fact(
        "premium",
        v.money(rng, 80, 1500),
        "Annual premium|Premium",
        "The yearly premium is {}.",
        "how much do i pay a year|premium?|what does the cover cost",
    )
    d.fact(
        "excess",
        v.money(rng, 50, 500),
        "Excess|Voluntary excess",
        "You pay the first {} of any claim.",
        "what's the excess|how much do i pay towards a claim",
    )
    d.fact(
        "limit",
        v.money(rng, 5000, 100000),
        "Cover limit|Sum insured",
        "Claims are covered up to {}.",
        "maximum payout|how much am i covered for|cover limit",
    )
    d.fact(
        "from",
        v.date(rng),
        "Cover starts|Period from",
        "Cover begins on {}.",
        "when does cover start|start date of policy",
    )
    if d.maybe():
        d.fact(
            "renew",
            v.date(rng),
            "Renewal date|Expires",
            "The policy renews on {}.",
            "when does it renew|renewal date?|when does the policy run out",
        )
    else:
        d.near("from", "renewal date|when does the policy expire")
    d.near("excess", "is flood damage covered|no claims discount?")
    return d


def invoice(rng: random.Random) -> Doc:
    seller = v.company(rng)
    d = Doc(rng, "invoice", rng.choice((f"Invoice — {seller}", "INVOICE", f"Receipt from {seller}")))
    d.fact(
        "inv",
        v.code(rng),
        "Invoice number|Invoice no.|Receipt #",
        "This is invoice {}.",
        "invoice number|invoice #?|what's the reference on the bill",
    )
    d.fact(
        "idate",
        v.date(rng),
        "Invoice date|Date issued",
        "Issued on {}.",
        "when was the invoice issued|invoice date",
    )
    d.text("Item | Qty | Amount")
    for slot, item in zip(
        ("a1", "a2"),
        rng.sample(["Consultation", "Labour", "Parts", "Delivery", "Annual licence", "Cleaning"], 2),
        strict=True,
    ):
        d.line(
            f"{item} | {rng.randint(1, 5)} | {{{slot}}}",
            **{slot: v.money(rng, 10, 900, cents=True)},
            asks={slot: f"how much was the {item.lower()}|cost of {item.lower()}|{item.lower()} charge"},
        )
    d.fact(
        "vat",
        v.money(rng, 5, 300, cents=True),
        "VAT (20%)|Tax",
        "VAT comes to {}.",
        "how much vat|tax amount|tax?",
    )
    d.fact(
        "total",
        v.money(rng, 100, 3000, cents=True),
        "Total due|Amount due|TOTAL",
        "The total to pay is {}.",
        "how much do i owe|total?|what's the bill|amount to pay",
    )
    if d.maybe():
        d.fact(
            "due",
            v.date(rng),
            "Payment due|Pay by",
            "Please pay by {}.",
            "when is payment due|deadline to pay|pay by when",
        )
    else:
        d.near("idate", "when is payment due|by when do i pay")
    d.near("total", "is there a late payment fee|discount for paying early")
    return d


def job_offer(rng: random.Random) -> Doc:
    org, cand = v.company(rng), v.person(rng)
    d = Doc(rng, "job_offer", f"Offer of employment — {org}")
    d.text(f"Dear {cand},")
    d.fact(
        "role",
        v.choice(rng, "Data Analyst|Senior Nurse|Warehouse Supervisor|Software Engineer|Marketing Assistant"),
        "Position|Job title",
        "We are pleased to offer you the position of {}.",
        "what's the job|job title?|which role",
    )
    d.fact(
        "salary",
        v.money(rng, 21000, 90000),
        "Salary|Annual salary",
        "Your starting salary will be {} a year.",
        "how much will i earn|pay?|what's the salary",
    )
    d.fact(
        "start",
        v.date(rng),
        "Start date|Commencing",
        "Your first day will be {}.",
        "when do i start|first day?|start date",
    )
    d.fact(
        "hours",
        v.choice(rng, "37.5 hours|40 hours|35 hours|22.5 hours"),
        "Hours|Working hours",
        "The role is {} per week.",
        "how many hours a week|working hours?",
    )
    d.fact(
        "manager",
        v.person(rng),
        "Reporting to|Line manager",
        "You will report to {}.",
        "who's my boss|who do i report to|line manager?",
    )
    d.fact(
        "probation",
        v.choice(rng, "3 months|six months|90 days"),
        "Probation|Probationary period",
        "There is a probation period of {}.",
        "how long is probation|trial period",
    )
    d.fact(
        "accept",
        v.date(rng),
        "Please reply by|Accept by",
        "Please confirm your acceptance by {}.",
        "when do i have to accept|deadline to reply|respond by?",
    )
    if d.maybe():
        d.fact(
            "pension",
            v.percent(rng, 3, 10),
            "Employer pension|Pension contribution",
            "The company contributes {} to your pension.",
            "pension contribution|how much pension do they pay",
        )
    else:
        d.near("salary", "is there a bonus|pension contribution?")
    d.near("manager", "manager's email|how do i contact my manager")
    return d


def medical_appointment(rng: random.Random) -> Doc:
    place = v.choice(rng, "Riverside|Park Lane|St Luke’s|Northfield")
    clinic = f"{place} {v.choice(rng, 'Surgery|Clinic|Hospital|Dental Practice')}"
    d = Doc(rng, "medical_appointment", f"{clinic} — appointment letter")
    d.fact(
        "patient",
        v.person(rng),
        "Patient|Name",
        "This letter is for {}.",
        "patient name|who is the appointment for",
    )
    d.fact(
        "nhs",
        v.code(rng),
        "NHS number|Patient ID|Hospital number",
        "Your patient number is {}.",
        "my patient number|nhs no?|hospital number",
    )
    d.fact(
        "adate",
        v.date(rng),
        "Appointment date|Date",
        "Your appointment is on {}.",
        "when is my appointment|appt date|what day do i go",
    )
    d.fact(
        "atime",
        v.time(rng),
        "Time|Appointment time",
        "Please arrive at {}.",
        "what time is my appointment|appt time?|what time should i get there",
    )
    d.fact(
        "with",
        v.person(rng),
        "Clinician|Seeing|Consultant",
        "You will be seen by {}.",
        "which doctor|who am i seeing|consultant?",
    )
    d.fact(
        "where",
        v.choice(rng, "Outpatients, Level 2|Room 14|Clinic B, ground floor|the Eye Unit"),
        "Location|Department",
        "Please go to {}.",
        "where do i go|which department|location?",
    )
    d.fact(
        "fast",
        v.choice(rng, "6 hours|8 hours|12 hours|4 hours"),
        "Fasting|Nil by mouth",
        "Do not eat for {} beforehand.",
        "how long should i fast|no food for how long|fasting?",
    )
    d.fact(
        "rebook",
        v.phone(rng),
        "To rearrange|Cancellations",
        "To change your appointment call {}.",
        "how do i cancel|number to rebook|reschedule phone",
    )
    d.near("atime", "how long will the appointment take|how long will i be there")
    d.near("rebook", "email to cancel|cancel by email")
    return d


register(itinerary, recipe, insurance, invoice, job_offer, medical_appointment)
