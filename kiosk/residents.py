"""What a resident sees at the kiosk, read from its replica: a card verified offline, the account
(balance, what expires soon), the passbook with this kiosk's own newer events, the convention,
where to redeem (shops nearest first by kind), the boards and the postings, and the compound's
households by building and unit.

Everything works on the last snapshot from the office plus this kiosk's own events that the
snapshot does not include yet (the same rule as a tablet's balance: :func:`sync.replica.spendable`).
PINs are the office's to check (the kiosk holds no verifier): a resident's passbook details and a
member's session need the office online (:func:`check_pin_online`).

No Kivy here: the kiosk flow and the tests call these functions directly.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, replace

from bank import accounts, cardcode, clock, ledger, merchants, validity
from bank.policy import Window
from sync import client, replica

from . import refusals, status

ONLINE_TIMEOUT = 5.0    # seconds a member waits for the office to check a PIN


@dataclass(frozen=True)
class Card:
    role: str                  # resident or staff
    card_id: str
    account_id: int
    version: int = 1
    text: str = ""             # the scanned QR text: kept only while the card is in front of the kiosk


@dataclass(frozen=True)
class AccountView:
    account_id: int
    name: str                  # masked
    address: str               # '3栋2单元'
    balance: int
    expiring: tuple[tuple[str, int], ...]   # (last valid day, points) within 60 days
    has_pin: bool
    status: str


@dataclass(frozen=True)
class PassLine:
    entry_id: int | None       # None: this kiosk's event not in the office's ledger yet
    day: str                   # local date
    kind: str
    title: str
    points: int
    reversed: bool
    pending: bool
    balance_after: int = 0     # the running balance (余额) after this line


_CADENCE_TEXT = {"daily": "天", "weekly": "周", "monthly": "月", "yearly": "年"}


def identify(conn: sqlite3.Connection, text: str) -> Card:
    """Verify a scanned card offline; find its account and whether it is a resident or staff card."""
    status.ready(conn)
    try:
        claim, account_id, _on_hold = replica.verify_card(conn, text)
    except cardcode.CardRefused as exc:
        raise refusals.Refusal(f"card_{exc.reason}", zh=exc.zh, en=exc.en) from None
    if account_id is None:
        raise refusals.Refusal("unknown_card")
    if claim.role == "resident" and household(conn, account_id) is None:
        raise refusals.Refusal("not_this_compound")
    return Card(claim.role, claim.card_id, account_id, claim.version, text)


def household(conn, account_id: int) -> tuple | None:
    """(account id, kind, building, unit, room) of a household of this kiosk's compound."""
    return replica.kiosk_household(conn, account_id)


def address_of(row) -> str:
    return f"{row[2]}栋{row[3]}单元" if row else ""


def account_view(conn: sqlite3.Connection, account_id: int, today: dt.date) -> AccountView:
    acct = replica.account(conn, account_id)
    lots = replica.kiosk_lots(conn, account_id)
    expiring = tuple((day.isoformat(), pts) for day, pts in validity.expiring(lots, today))
    return AccountView(account_id, acct.masked_name, address_of(household(conn, account_id)),
                       replica.spendable(conn, account_id), expiring, acct.has_pin, acct.status)


def check_pin_online(home, conn, transport, card: Card, purpose: str, pin: str, offline: str, now: dt.datetime) -> dict:
    """Ask the office to check a PIN for ``card``; raise Refusal with the office's reason."""
    try:
        return client.authorise(home, conn, transport, purpose=purpose, card_text=card.text, card_id=card.card_id,
                                card_version=card.version, pin=pin, now=now)
    except client.Unreachable:
        raise refusals.Refusal(offline) from None
    except client.Refused as exc:
        if exc.code == "pin_wrong":
            raise refusals.Refusal("pin_wrong", left=exc.data.get("left", 0)) from None
        if exc.code == "pin_locked":
            raise refusals.Refusal("pin_locked", minutes=max(1, (int(exc.data.get("retry_after", 60)) + 59) // 60)) from None
        raise refusals.Refusal(exc.code, zh=exc.zh, en=exc.en) from None


def unlock_passbook(home, conn, transport, card: Card, pin: str, now: dt.datetime) -> None:
    """The office checks the resident's PIN (online) before the deduction details are shown."""
    check_pin_online(home, conn, transport, card, "passbook", pin, "pin_offline", now)


def pending_events(conn, account_id: int | None = None) -> list[tuple[int, dict, bool]]:
    """This kiosk's events the last pull did not include: (seq, event, acked)."""
    return replica.events(conn, after=replica.state(conn, "applied_seq", 0), account_id=account_id)


def catalog_items(conn) -> dict[str, list]:
    cat = replica.state(conn, "kiosk_catalog", {"products": [], "items": []})
    return {i[0]: i for i in cat["items"]}


def local_day(text: str) -> str:
    return clock.local_date(clock.from_text(text)).isoformat()


def passbook(conn: sqlite3.Connection, account_id: int) -> list[PassLine]:
    """Newest first: the office's entries for the account, then this kiosk's newer events."""
    reversed_ids = replica.kiosk_reversed(conn, account_id)
    lines = [PassLine(e.entry_id, local_day(e.recorded_at), e.kind, e.title or _kind_title(e.kind), e.points,
                      e.entry_id in reversed_ids, False)
             for e in replica.kiosk_entries(conn, account_id=account_id)]
    items = catalog_items(conn)
    undone = {e["body"]["reverses_seq"] for _, e, _ in pending_events(conn) if e["kind"] == "reversal"}
    for seq, e, _ in pending_events(conn, account_id):
        if e["kind"] in ("award", "deduction"):
            item = items.get(e["body"]["item"])
            lines.append(PassLine(None, local_day(e["at"]), e["kind"], item[3] if item else e["body"]["item"],
                                  e["body"]["points"], seq in undone, True))
    # An entry undone on this kiosk before it was uploaded counts nothing: its undo is no line of its own.
    balances = ledger.running_balances(0 if line.pending and line.reversed else line.points for line in lines)
    return [replace(line, balance_after=b) for line, b in zip(lines, balances)][::-1]


def _kind_title(kind: str) -> str:
    return ledger.KIND_NAMES.get(kind, kind)


def convention(conn) -> list[tuple[list, list[list]]]:
    """[(product [code, name, slogan, cadence], [items])], in catalog order."""
    cat = replica.state(conn, "kiosk_catalog", {"products": [], "items": []})
    return [(p, [i for i in cat["items"] if i[1] == p[0]]) for p in cat["products"]]


def cap_text(cap: int | None, cadence: str) -> str:
    return "不限次数" if cap is None else f"每{_CADENCE_TEXT[cadence]}最多{cap}次"


@dataclass(frozen=True)
class Shop:
    merchant_id: int
    name: str
    address: str
    offers: tuple[tuple[str, int, int], ...]   # (name, points, how many the balance buys)
    hours: str                 # the merchant's redemption windows (bank.policy), in plain words
    category: str = ""
    nearby: bool = False       # in this kiosk's compound


def where_to_redeem(conn, balance: int, category: str | None = None) -> list[Shop]:
    """Merchants with their address, hours and what the balance buys, nearest first: those of
    this kiosk's compound, then the others by compound; among equals, those with an affordable
    offer first. ``category``: only that kind of shop."""
    offers: dict[int, list] = {}
    for offer_id, mid, name, points in replica.state(conn, "kiosk_offers", []):
        offers.setdefault(mid, []).append((name, points, max(0, balance) // points if points else 0))
    hours: dict[int, list[str]] = {}
    for mid, place, weekdays, opens, closes in replica.state(conn, "kiosk_windows", []):
        hours.setdefault(mid, []).append(Window(0, mid, place, weekdays, opens, closes).describe())
    own = status.compound(conn).get("compound_id")
    shops = []
    for mid, name, kind, address, *rest in replica.state(conn, "kiosk_merchants", []):
        where = rest[0] if rest else None
        if category is not None and kind != category:
            continue
        shop = Shop(mid, name, address, tuple(sorted(offers.get(mid, []), key=lambda o: o[1])),
                    "、".join(hours.get(mid, [])) or "营业时间内", kind, where == own)
        shops.append((not shop.nearby, where is None, where or 0, not any(o[2] for o in shop.offers), mid, shop))
    return [row[-1] for row in sorted(shops, key=lambda r: r[:-1])]


def shop_categories(conn) -> list[tuple[str, str, int]]:
    """(category, its name, how many shops) of the kinds of shop there are, in the office's order."""
    counts: dict[str, int] = {}
    for _mid, _name, kind, *_rest in replica.state(conn, "kiosk_merchants", []):
        counts[kind] = counts.get(kind, 0) + 1
    return [(code, name, counts[code]) for code, name in merchants.CATEGORIES.items() if code in counts]


def boards(conn) -> dict:
    return replica.state(conn, "kiosk_boards") or {"label": "", "red": [], "black": []}


def postings(conn) -> list[dict]:
    """Every posting of the compound open now or later (a quarterly and a yearly one may overlap)."""
    return replica.state(conn, "kiosk_postings") or []


def current_postings(conn, today: dt.date) -> list[dict]:
    """The postings to show on ``today``: those open now, then those that open later, each by
    its first day (an open one is never hidden by a later one)."""
    day = today.isoformat()
    ps = [p for p in postings(conn) if p["closes_on"] >= day]
    return sorted(ps, key=lambda p: (p["opens_on"] > day, p["opens_on"], p["posting_id"]))


def is_open(p: dict, today: dt.date) -> bool:
    return p["opens_on"] <= today.isoformat() <= p["closes_on"]


def postings_open(conn, today: dt.date) -> list[dict]:
    return [p for p in postings(conn) if is_open(p, today)]


def posting_open(conn, today: dt.date) -> dict | None:
    ps = postings_open(conn, today)
    return ps[0] if ps else None


def households_at(conn, building: int, unit: int) -> list[tuple[int, str, str]]:
    """(account id, masked name, room) of the households at a building and unit, rooms in the order
    people read them (803 before 2603)."""
    return sorted(replica.kiosk_households_at(conn, building, unit), key=lambda r: (accounts.natural_key(r[2]), r[0]))


def buildings(conn) -> list[int]:
    return sorted(replica.kiosk_buildings(conn), key=accounts.natural_key)


def units(conn, building: int) -> list[int]:
    return sorted(replica.kiosk_units(conn, building), key=accounts.natural_key)
