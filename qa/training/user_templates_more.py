"""More document templates (policies, notices, letters, FAQs); see user_templates for how they are written."""

from __future__ import annotations

import random

from qa.training import user_values as v
from qa.training.user_templates import Doc, register


def hr_policy(rng: random.Random) -> Doc:
    org = v.company(rng)
    d = Doc(
        rng,
        "hr_policy",
        f"{org} — {v.choice(rng, 'Expenses policy|Leave policy|Hybrid working policy|Staff handbook')}",
    )
    d.fact(
        "owner",
        v.person(rng),
        "Policy owner|Owner",
        "This policy is owned by {}.",
        "who owns this policy|policy owner?|who maintains the policy",
    )
    d.fact(
        "signoff",
        v.person(rng),
        "Expenses approved by|Approver",
        "Expense claims are signed off by {}.",
        "who signs off expenses|who approves my expenses|approver for claims",
    )
    d.fact(
        "claim",
        v.choice(rng, "30 days|60 days|the end of the month|two weeks"),
        "Claim deadline|Submit claims within",
        "Claims must be submitted within {} of spending.",
        "how long do i have to claim|deadline for expense claims",
    )
    d.fact(
        "meal",
        v.money(rng, 10, 60),
        "Meal allowance|Daily subsistence",
        "You may claim up to {} per day for meals.",
        "how much can i spend on food|daily meal limit|lunch allowance",
    )
    d.fact(
        "mileage",
        f"{rng.randint(25, 60)}p per mile",
        "Mileage rate|Car mileage",
        "Business mileage is paid at {}.",
        "mileage rate?|how much per mile|car allowance",
    )
    d.fact(
        "leave",
        v.count(rng, 20, 33, "days"),
        "Annual leave|Holiday entitlement",
        "Full-time staff get {} of paid holiday.",
        "how many holiday days|annual leave?|vacation days",
    )
    d.fact(
        "carry",
        v.count(rng, 2, 10, "days"),
        "Carry-over|Unused leave carried over",
        "Up to {} may be carried into next year.",
        "how many days can i roll over|carry over leave",
    )
    if d.maybe():
        d.fact(
            "wfh",
            v.count(rng, 1, 4, "days"),
            "Remote working|Home working",
            "Staff may work from home up to {} a week.",
            "how many wfh days|work from home allowance|remote days per week",
        )
    else:
        d.near("leave", "how many days can i work from home|wfh days?")
    d.near("signoff", "who do i report sickness to|sick leave contact")
    return d


def event_notice(rng: random.Random) -> Doc:
    event = v.choice(rng, "Summer Fair|Quiz Night|Charity Fun Run|Open Day|Winter Market|Community Clean-up")
    d = Doc(rng, "event_notice", rng.choice((event, f"{event} — newsletter", f"Coming up: {event}")))
    d.fact(
        "edate",
        v.date(rng),
        "Date|When",
        f"The {event} takes place on {{}}.",
        "when is it|what day is the event|event date?",
    )
    d.fact(
        "start",
        v.time(rng, 9, 14),
        "Starts|Doors open",
        "Doors open at {}.",
        "what time does it start|start time|when do doors open",
    )
    d.fact(
        "venue",
        v.choice(rng, "St Mary’s Hall|the Town Square|Riverside Park|the Community Centre")
        + f", {v.town(rng)}",
        "Venue|Where|Location",
        "It will be held at {}.",
        "where is it|location?|venue",
    )
    d.fact(
        "ticket",
        v.money(rng, 2, 40),
        "Tickets|Entry",
        "Tickets cost {} on the door.",
        "how much are tickets|entry price|cost to get in",
    )
    d.fact(
        "child",
        v.choice(rng, "free|£2|half price|EUR 3"),
        "Under-12s|Children",
        "Children under 12 go in {}.",
        "kids price|do children pay|child ticket",
    )
    d.fact(
        "org",
        v.person(rng),
        "Organiser|Contact",
        "The organiser is {}.",
        "who's organising|organizer?|who runs it",
    )
    d.fact(
        "contact",
        v.email(rng),
        "Email|Enquiries",
        "Questions to {}.",
        "contact email|who do i email|email for questions",
    )
    if d.maybe():
        d.fact(
            "end",
            v.time(rng, 15, 21),
            "Ends|Finishes",
            "Everything wraps up by {}.",
            "what time does it finish|end time|when does it end",
        )
    else:
        d.near("start", "what time does it finish|when does it end")
    d.near("contact", "organiser phone number|number to call")
    return d


def school_letter(rng: random.Random) -> Doc:
    place = v.choice(rng, "Oakfield|St Anne’s|Hillside|Brook Lane|Greenway")
    school = f"{place} {v.choice(rng, 'Primary School|Academy|High School')}"
    trip = v.choice(rng, "the Science Museum|the zoo|a farm|the castle|the seaside")
    d = Doc(rng, "school_letter", f"{school} — letter to parents")
    d.text("Dear Parents and Carers,")
    d.line(
        "Year {year} will visit {trip} on {tdate}.",
        year=str(rng.randint(1, 9)),
        trip=trip,
        tdate=v.date(rng),
        asks={
            "tdate": "when is the school trip|trip date?|what day is the outing",
            "trip": "where are they going|trip destination",
        },
    )
    d.fact(
        "cost",
        v.money(rng, 5, 60),
        "Cost|Contribution",
        "We ask for a contribution of {}.",
        "how much is the trip|trip cost|what do we pay",
    )
    d.fact(
        "reply",
        v.date(rng),
        "Reply by|Consent form due",
        "Please return the consent form by {}.",
        "when is the form due|deadline for the slip|reply by?",
    )
    d.fact(
        "leave",
        v.time(rng, 8, 9),
        "Coach leaves|Departure",
        "The coach leaves at {}.",
        "what time does the bus go|departure time|when do they leave",
    )
    d.fact(
        "back",
        v.time(rng, 15, 17),
        "Return|Back at school",
        "We expect to be back by {}.",
        "when are they back|pick up time|return time?",
    )
    d.fact(
        "bring",
        v.choice(rng, "a packed lunch|a waterproof coat|a water bottle and sun hat|wellies"),
        "Bring|Pupils need",
        "Children should bring {}.",
        "what do they need to bring|what to pack|kit list",
    )
    d.fact(
        "teacher",
        v.person(rng),
        "Trip leader|Teacher",
        "The trip is led by {}.",
        "which teacher is in charge|who leads the trip|trip leader",
    )
    d.near("teacher", "teacher's phone number|how do i call the trip leader")
    d.near("cost", "is there help with the cost|can i pay in instalments")
    return d


def faq(rng: random.Random) -> Doc:
    org = v.company(rng)
    d = Doc(rng, "faq", f"{org} — frequently asked questions")
    d.head("How long does delivery take?")
    d.line(
        "Standard delivery takes {std}; express arrives in {exp}.",
        std=v.choice(rng, "3-5 working days|2-4 days|a week"),
        exp=v.choice(rng, "1 working day|24 hours|2 days"),
        asks={
            "std": "how long is shipping|delivery time?|standard shipping time",
            "exp": "how fast is express|next day delivery?",
        },
    )
    d.head("Can I return an item?")
    d.line(
        "Yes, within {ret} of delivery, unused and in its packaging.",
        ret=v.choice(rng, "14 days|30 days|28 days|60 days"),
        asks={"ret": "return window|how long do i have to send it back|returns period"},
    )
    d.head("How much is postage?")
    d.line(
        "Postage is {post}, and free on orders over {free}.",
        post=v.money(rng, 2, 9, cents=True),
        free=v.money(rng, 20, 100),
        asks={
            "post": "shipping cost|delivery charge?|how much is p&p",
            "free": "free shipping threshold|minimum order for free delivery",
        },
    )
    d.head("How do I contact you?")
    d.line(
        "Email {mail} or call {tel}, {hours}.",
        mail=v.email(rng),
        tel=v.phone(rng),
        hours=v.choice(rng, "Monday to Friday 9-5|weekdays 8am-6pm|every day 10-4"),
        asks={
            "mail": "support email|email address for help",
            "tel": "phone number|customer service number|helpline?",
            "hours": "opening hours|when can i call|what hours are you open",
        },
    )
    d.near("ret", "who pays for return postage|do you refund shipping")
    d.near("std", "do you ship abroad|international delivery time")
    return d


def service_change(rng: random.Random) -> Doc:
    route = f"{v.choice(rng, 'Bus|Route|Line|Service')} {rng.randint(1, 99)}{v.choice(rng, '|A|X')}"
    d = Doc(rng, "service_change", f"{route}: timetable change")
    d.fact(
        "from",
        v.date(rng),
        "Effective from|From",
        "From {} the timetable changes.",
        "when does it change|from what date|start of new timetable",
    )
    d.fact(
        "first",
        v.time(rng, 5, 7),
        "First bus|First departure",
        "The first departure will be at {}.",
        "earliest bus|what time is the first one|first service?",
    )
    d.fact(
        "last",
        v.time(rng, 21, 23),
        "Last bus|Last departure",
        "The last departure will be at {}.",
        "latest bus home|last one at night|last service?",
    )
    d.fact(
        "freq",
        v.choice(rng, "every 10 minutes|every 15 minutes|every 20 minutes|half-hourly|hourly"),
        "Frequency|Runs",
        "Buses will run {} during the day.",
        "how often does it run|frequency?|how frequent are buses",
    )
    d.fact(
        "stop",
        f"{v.choice(rng, 'Market Square|the Railway Station|Elm Road|the Hospital')}",
        "Diversion via|Stop closed",
        "Buses will not serve {} during the works.",
        "which stop is closed|what stop is skipped|diverted stop",
    )
    d.fact(
        "fare",
        v.money(rng, 1, 6, cents=True),
        "Single fare|Adult single",
        "An adult single costs {}.",
        "how much is a ticket|fare?|price of a single",
    )
    d.fact(
        "info",
        v.phone(rng),
        "Travel line|Information",
        "For details call {}.",
        "number for information|travel line number",
    )
    d.near("fare", "how much is a return ticket|day ticket price")
    d.near("last", "last bus on sundays|sunday service times")
    return d


register(hr_policy, event_notice, school_letter, faq, service_change)
