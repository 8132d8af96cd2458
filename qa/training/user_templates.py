"""Templates of the documents people keep, each filled with random values, with questions about them.

A template writes lines through a `Doc`: `fact` puts one value under a label, rendered in the
document's layout ("Key: value", a bullet, a table row or a sentence), `line` writes a sentence or a
row with several values, `ask` adds how users would ask for a value (other words than the label's),
`near` adds a question the document almost answers (the check-out time when only check-in is given),
tied to the line that comes closest.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from qa.training import user_values as v

_SLOT = re.compile(r"\{(\w+)\}")
_LAYOUTS = ("kv", "bullet", "prose", "table")


@dataclass
class Line:
    text: str
    spans: dict[str, tuple[int, str]] = field(default_factory=dict)  # slot -> (start, value)
    heading: bool = False


class Doc:
    def __init__(self, rng: random.Random, kind: str, title: str) -> None:
        self.rng, self.kind, self.title = rng, kind, title
        self.lines: list[Line] = [Line(title, heading=True)]
        self.asks: list[tuple[str, list[str]]] = []  # (slot, phrasings)
        self.nears: list[tuple[str, list[str]]] = []  # (closest slot, phrasings)
        self.style = rng.choice((*_LAYOUTS, "mixed", "mixed"))
        self.bullet = rng.choice(("-", "•", "*", "–"))

    def head(self, text: str) -> None:
        self.lines.append(Line(text, heading=True))

    def text(self, text: str) -> None:
        self.lines.append(Line(text))

    def line(self, template: str, asks: dict[str, str] | None = None, **values: str) -> None:
        """A line with the values put in its {slots}; `asks` maps a slot to how users ask for it."""
        self._add(template, values, asks or {})

    def _add(self, template: str, values: dict[str, str], asks: dict[str, str]) -> None:
        parts, text, spans = _SLOT.split(template), "", {}
        for i, part in enumerate(parts):
            if i % 2:
                spans[part] = (len(text), values[part])
                text += values[part]
            else:
                text += part
        self.lines.append(Line(text, spans))
        for slot, qs in asks.items():
            self.ask(slot, qs)

    def fact(self, slot: str, value: str, labels: str, prose: str = "", asks: str = "") -> None:
        style = self.rng.choice(_LAYOUTS) if self.style == "mixed" else self.style
        if prose and (style == "prose" or not labels):
            template = v.choice(self.rng, prose).replace("{}", "{" + slot + "}")
        else:
            label = v.choice(self.rng, labels)
            template = {"bullet": f"{self.bullet} {label}: {{{slot}}}", "table": f"{label} | {{{slot}}}"}.get(
                style, f"{label}: {{{slot}}}"
            )
        self._add(template, {slot: value}, {slot: asks} if asks else {})

    def ask(self, slot: str, phrasings: str) -> None:
        self.asks.append((slot, phrasings.split("|")))

    def near(self, slot: str, phrasings: str) -> None:
        self.nears.append((slot, phrasings.split("|")))

    def maybe(self, p: float = 0.5) -> bool:
        return self.rng.random() < p


def email_thread(rng: random.Random) -> Doc:
    topic = v.choice(rng, "budget review|office move|supplier contract|team offsite|audit|product launch")
    d = Doc(rng, "email", f"Re: {topic}")
    sender, to = v.person(rng), v.person(rng)
    d.fact("from", sender, "From|Sender", asks="who sent this|who wrote the email|sender?")
    d.fact(
        "mail",
        v.email(rng, sender),
        "Email|Reply-to",
        asks=f"{sender.split()[-1].lower()} email address|email of the sender|contact email",
    )
    d.fact("to", to, "To|Recipient", asks="who was it sent to|recipient?|who is the email addressed to")
    d.fact("sent", v.date(rng), "Date|Sent", asks="when was the email sent|date sent")
    d.text(f"Hi {to.split()[-1]},")
    d.line(
        "The {topic} meeting has moved to {meet} at {mtime}, in {room}.",
        asks={
            "meet": "when's the meeting now|new meeting date|what day was the meeting moved to",
            "mtime": "what time is the meeting|meeting time?|what time do we meet",
            "room": "where is the meeting|which room|meeting location",
        },
        topic=topic,
        meet=v.date(rng),
        mtime=v.time(rng),
        room=v.choice(rng, "Room 3B|the Boardroom|Meeting Room 2|the Harbour suite"),
    )
    d.line(
        "Please send your figures by {due}; the cap for this quarter is {cap}.",
        asks={
            "due": "deadline for the figures|when do i need to send my numbers|by when are figures due",
            "cap": "what's the spending limit|quarterly cap|how much can we spend this quarter",
        },
        due=v.date(rng),
        cap=v.money(rng, 1000, 50000),
    )
    if d.maybe():
        d.line(
            "{approver} will sign off anything over {limit}.",
            approver=v.person(rng),
            limit=v.money(rng, 100, 5000),
            asks={
                "approver": "who signs off expenses|who approves big spends|approver?",
                "limit": "above what amount do i need approval|approval threshold",
            },
        )
    else:
        d.near("cap", "who signs off expenses|who approves spending")
    d.near("mail", f"{sender.split()[-1].lower()} phone number|sender's phone|what's the sender's mobile")
    d.text(rng.choice(("Thanks,", "Best regards,", "Cheers,")))
    d.text(sender)
    return d


def lease(rng: random.Random) -> Doc:
    d = Doc(
        rng,
        "lease",
        rng.choice(("Assured Shorthold Tenancy Agreement", "Tenancy Agreement", "Lease summary")),
    )
    d.fact(
        "landlord",
        v.person(rng),
        "Landlord|Lessor",
        "This agreement is made by {} (the Landlord).",
        "who is the landlord|landlord name|who owns the flat",
    )
    d.fact(
        "tenant",
        v.person(rng),
        "Tenant|Lessee",
        "The tenant is {}.",
        "who's the tenant|tenant name|who rents the place",
    )
    d.fact(
        "property",
        v.address(rng),
        "Property|Premises|Address",
        "The property let is {}.",
        "address of the flat|where is the property|which property",
    )
    d.fact(
        "rent",
        v.money(rng, 450, 2600),
        "Monthly rent|Rent|Rent (per month)",
        "The rent is {} per calendar month.",
        "how much is the rent|rent?|monthly cost|how much do i pay each month",
    )
    d.fact(
        "payday",
        v.choice(rng, "1st|5th|15th|28th|last working day"),
        "Rent due on|Payment day",
        "Rent is payable on the {} of each month.",
        "when is rent due|which day do i pay rent|rent due date",
    )
    if d.maybe(0.6):
        d.fact(
            "deposit",
            v.money(rng, 500, 3000),
            "Deposit|Security deposit",
            "A deposit of {} is held in a protection scheme.",
            "how much is the deposit|deposit amount|bond?",
        )
    else:
        d.near("rent", "how much is the deposit|deposit amount|security bond?")
    d.fact(
        "start",
        v.date(rng),
        "Start date|Term begins|Commencement",
        "The tenancy starts on {}.",
        "when does the lease start|move in date|start of tenancy",
    )
    if d.maybe(0.6):
        d.fact(
            "end",
            v.date(rng),
            "End date|Term ends|Expiry",
            "The fixed term ends on {}.",
            "when does the lease end|when does the tenancy finish|end date?",
        )
    else:
        d.near("start", "when does the lease end|tenancy end date|when must i move out")
    d.fact(
        "notice",
        v.choice(rng, "one month|two months|8 weeks|30 days"),
        "Notice period|Notice to quit",
        "Either party may end the tenancy by giving {} written notice.",
        "how much notice to leave|notice period?|how long notice do i give",
    )
    d.fact(
        "pets",
        v.choice(rng, "Not permitted|Allowed with written consent|One cat permitted"),
        "Pets",
        asks="can i keep a pet|are pets allowed|pets?",
    )
    d.near("landlord", "landlord phone number|how do i call the landlord")
    return d


def minutes(rng: random.Random) -> Doc:
    body = v.choice(rng, "Residents' Association|Parish Council|Project Steering Group|PTA|Board of Trustees")
    d = Doc(rng, "minutes", f"Minutes of the {body} meeting")
    d.fact(
        "mdate",
        v.date(rng),
        "Date|Held on",
        "The meeting was held on {}.",
        "when was the meeting|meeting date|date of the meeting",
    )
    d.fact(
        "chair",
        v.person(rng),
        "Chair|Chaired by",
        "{} chaired the meeting.",
        "who chaired|who ran the meeting|chairperson?",
    )
    d.fact(
        "minuted",
        v.person(rng),
        "Minutes taken by|Secretary",
        "Minutes were taken by {}.",
        "who took the minutes|who wrote these notes|note taker",
    )
    d.fact(
        "present",
        v.count(rng, 5, 30),
        "Attendees|Present",
        "{} members were present.",
        "how many people came|attendance?|how many attended",
    )
    d.head("Actions")
    item = v.choice(
        rng, "repair the gate|book the hall|update the website|chase the contractor|order new chairs"
    )
    d.line(
        "- {owner} to {item} by {bydate}.",
        owner=v.person(rng),
        item=item,
        bydate=v.date(rng),
        asks={
            "owner": f"who is doing the {item.split()[-1]}|who's responsible for {item}|who will {item}",
            "bydate": f"deadline for {item}|when should the {item.split()[-1]} be done",
        },
    )
    d.line(
        "- Budget of {bud} agreed for {what}.",
        bud=v.money(rng, 100, 20000),
        what=v.choice(rng, "the summer fete|new signage|IT equipment|the roof survey"),
        asks={"bud": "how much money was approved|agreed budget|how much was agreed"},
    )
    if d.maybe():
        d.fact(
            "next",
            v.date(rng),
            "Next meeting",
            "The next meeting will be on {}.",
            "when's the next meeting|next meeting date|date of next mtg",
        )
    else:
        d.near("mdate", "when is the next meeting|next meeting date")
    d.near("chair", "who is the treasurer|treasurer name")
    return d


def release_notes(rng: random.Random) -> Doc:
    product = v.choice(rng, "Tally|Harbor CLI|PhotoDesk|Nimbus Sync|Ledgerly|Quill Notes")
    d = Doc(rng, "release_notes", f"{product} release notes")
    d.fact(
        "ver",
        v.version(rng),
        "Version|Release",
        f"{product} {{}} is now available.",
        "what's the latest version|current version number|which release is this",
    )
    d.fact(
        "rdate",
        v.date(rng),
        "Released|Release date",
        "Released on {}.",
        "when was it released|release date?|when did this version come out",
    )
    d.head(rng.choice(("Fixed", "Bug fixes", "### Fixed")))
    d.line(
        "- Sync no longer stalls when a file is larger than {fsize}.",
        fsize=v.quantity(rng, "MB", 50, 900),
        asks={"fsize": "size limit that caused sync to hang|file size bug|which file size broke sync"},
    )
    d.line(
        "- Fixed a crash on start-up with {os}.",
        os=v.choice(rng, "Windows 10|macOS 12|Android 11|iOS 15|Ubuntu 22.04"),
        asks={"os": "which os did it crash on|startup crash platform|crash on launch on what system"},
    )
    d.head(rng.choice(("Changed", "Improvements", "### Changed")))
    d.line(
        "- Minimum supported version of Python is now {py}.",
        py=v.choice(rng, "3.9|3.10|3.11|3.12"),
        asks={"py": "which python do i need|minimum python version|python requirement"},
    )
    d.line(
        "- Exports are {speed} faster.",
        speed=v.percent(rng, 10, 80),
        asks={"speed": "how much faster are exports|export speed up"},
    )
    if d.maybe():
        d.fact(
            "eol",
            v.date(rng),
            "End of support for 3.x",
            "Version 3.x stops receiving updates on {}.",
            "when does support end for the old version|end of life date|eol?",
        )
    else:
        d.near("rdate", "when does support for the old version end|end of life date")
    d.near("ver", "when is the next release due|next version date")
    return d


def manual(rng: random.Random) -> Doc:
    brand = v.choice(rng, "Aqualine|Brixo|Heatwise|CleanPro|Frostel")
    machine = v.choice(rng, "dishwasher|washing machine|boiler|dehumidifier|coffee machine")
    d = Doc(rng, "manual", f"{brand} {machine} — troubleshooting")
    d.fact(
        "model",
        v.code(rng),
        "Model|Model number",
        "This guide covers model {}.",
        "model number?|what model is it|which model",
    )
    d.text("Code | Meaning | What to do")
    codes = rng.sample(["E1", "E2", "E3", "E4", "E5", "F07", "F12", "H2", "C9"], 3)
    for code, (meaning, action) in zip(codes, rng.sample(_FAULTS, 3), strict=True):
        slot = code.lower()
        d.line(
            f"{{{slot}}} | {{{slot}_m}} | {{{slot}_a}}",
            **{slot: code, f"{slot}_m": meaning, f"{slot}_a": action},
            asks={
                f"{slot}_m": f"what does {code.lower()} mean|{code} error?|meaning of code {code}|"
                f"{machine} shows {code}",
                f"{slot}_a": f"how do i fix {code}|what to do for {code.lower()}|{code.lower()} fix",
            },
        )
    d.fact(
        "temp",
        v.quantity(rng, "°C", 30, 90),
        "Max temperature|Maximum temperature",
        "Do not exceed {}.",
        "hottest setting|max temp|how hot does it go",
    )
    d.fact(
        "warranty",
        v.choice(rng, "2 years|12 months|5 years|3 years"),
        "Warranty|Guarantee",
        "The appliance is guaranteed for {}.",
        "how long is the warranty|guarantee period",
    )
    d.fact(
        "helpline",
        v.phone(rng),
        "Helpline|Customer service",
        "Call our helpline on {}.",
        "support phone number|who do i call|customer service number",
    )
    d.near("helpline", "support email address|email for customer service")
    d.near(f"{codes[0].lower()}_m", "what does E9 mean|error E99?")
    return d


_FAULTS = [
    ("Water leak", "Turn off the tap and call an engineer"),
    ("Door not closed", "Close the door firmly until it clicks"),
    ("Filter blocked", "Clean the filter under running water"),
    ("No water supply", "Check the inlet hose is not kinked"),
    ("Overheating", "Switch off and let it cool for 30 minutes"),
    ("Low pressure", "Top up the pressure to 1.5 bar"),
    ("Drain pump fault", "Remove debris from the pump cover"),
    ("Sensor error", "Unplug for one minute and restart"),
]


KINDS: dict[str, Callable[[random.Random], Doc]] = {}


def register(*builders: Callable[[random.Random], Doc]) -> None:
    for build in builders:
        KINDS[build.__name__] = build


register(email_thread, lease, minutes, release_notes, manual)
