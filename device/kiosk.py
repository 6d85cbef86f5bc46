"""The kiosk's offline engine: what a resident or a review-group member sees and records,
read from the kiosk's replica and written as events to its outbox.

Everything works on the last snapshot from the office plus this kiosk's own events that the
snapshot does not include yet (the same rule as a tablet's balance: :func:`sync.replica.spendable`).
The rules the office applies again at settlement are checked here first, so a member learns at
once why an entry cannot be made: recusal, caps per period, the second member's confirmation above
the threshold, the posting period for objections, same-day undo of one's own entry.

PINs are the office's to check (the kiosk holds no verifier): a member's session, a second
member's confirmation and a resident's passbook details need the office online
(:func:`staff_login`, :func:`second_confirm`, :func:`unlock_passbook`).

No Kivy here: the kiosk flow and the tests call these functions directly.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, replace

from bank import cardcode, clock, ledger, recorders, reviewers, settings, validity
from bank.errors import ReasonedRefusal
from bank.policy import Window

from sync import client, replica

OBJECTION_REASONS = (   # what a resident may choose (no typing at the kiosk)
    "我家没有做过这件事",
    "分数记错了",
    "记到了别人家的账上",
    "事情已经说清楚了,不应扣分",
    "其他原因,请评议会联系我",
)
UNDO_REASON = "记录人当天撤销"
ONLINE_TIMEOUT = 5.0    # seconds a member waits for the office to check a PIN

REASONS: dict[str, tuple[str, str]] = {
    "not_synced": ("本机还没有从社区办公室同步过数据,请稍后再试。", "This kiosk has never synced with the office."),
    "not_this_compound": ("这张卡不是本小区的,请到所在小区的服务点查询。",
                          "This card belongs to another compound; please use that compound's kiosk."),
    "unknown_card": ("本机没有这张卡的资料,请到社区办公室查询。", "This kiosk has no record of this card."),
    "not_staff": ("这不是本小区评议小组成员的工作卡。", "This is not a staff card of this compound's review group."),
    "pin_wrong": ("密码不正确,还可以再试 {left} 次。", "The PIN is wrong; {left} tries left."),
    "pin_locked": ("密码错误次数过多,请 {minutes} 分钟后再试。", "Too many wrong PINs: try again in {minutes} minutes."),
    "staff_offline": ("评议员模式需要联网:现在无法连接社区办公室,请稍后再试。",
                      "Staff mode needs the office online; it cannot be reached now."),
    "pin_offline": ("查看扣分明细需要联网核对密码,现在无法连接社区办公室。",
                    "The office must check the PIN online to show the details; it cannot be reached."),
    "recusal": ("不能为自己家庭记分,请由其他成员办理。", "You cannot record for your own household; ask another member."),
    "cap_reached": ("“{item}”{cap_text},本期已记满。", "'{item}' is capped ({cap} per period) and already full."),
    "account_inactive": ("该储户账户已暂停或销户,不能记分。", "The account is suspended or closed."),
    "needs_second": ("这一条超过 {above} 分,需要另一位成员刷卡确认。",
                     "Entries over {above} points need a second member's confirmation."),
    "second_invalid": ("确认人须是本小组的另一位成员,且不是这户的家人。",
                       "The confirming member must be another member, not of this household."),
    "posting_closed": ("现在不在公示期内,不能提出异议。", "No posting period is open now; objections are closed."),
    "not_objectable": ("这条记录不能提出异议。", "This entry cannot be objected to."),
    "already_objected": ("这条记录已经提出过异议。", "This entry already has an objection."),
    "undo_not_allowed": ("只能撤销自己今天记录的加扣分。", "You can only undo your own entries of today."),
    "unknown_item": ("积分细则中没有这一项。", "No such rule item."),
    "bad_note": ("备注不能超过200个字。", "The note is limited to 200 characters."),
}


class Refusal(ReasonedRefusal):
    REASONS = REASONS


# --- what is shown ----------------------------------------------------------------------------

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


@dataclass(frozen=True)
class Item:
    code: str
    product: str               # product name
    name: str
    points: int
    cap: int | None
    cap_text: str
    used: int                  # this account's entries of the item in the current period

    @property
    def full(self) -> bool:
        return self.cap is not None and self.used >= self.cap


@dataclass(frozen=True)
class Member:
    reviewer_id: int
    name: str                  # masked
    account_id: int
    card_id: str
    auth: str | None = None    # the office's authorisation after the member's PIN, cited by their events


@dataclass(frozen=True)
class MonthLine:
    key: str                   # 'e<entry_id>' or 's<seq>'
    day: str
    address: str
    name: str
    title: str
    points: int
    recorded_by: str
    reversed: bool
    pending: bool
    seq: int | None            # this kiosk's event number (undo needs it)
    staff: int | None


_CADENCE_TEXT = {"daily": "天", "weekly": "周", "monthly": "月", "yearly": "年"}


def ready(conn: sqlite3.Connection) -> None:
    """Synced at least once, and the replica not found behind or forked (a DeviceFault)."""
    replica.check_usable(conn)
    if replica.state(conn, "last_pull_at") is None or replica.state(conn, "kiosk_compound") is None:
        raise Refusal("not_synced")


def compound(conn) -> dict:
    return replica.state(conn, "kiosk_compound") or {"compound_id": 0, "name": "", "service_point": ""}


def identify(conn: sqlite3.Connection, text: str) -> Card:
    """Verify a scanned card offline; find its account and whether it is a resident or staff card."""
    ready(conn)
    try:
        claim, account_id, _on_hold = replica.verify_card(conn, text)
    except cardcode.CardRefused as exc:
        raise Refusal(f"card_{exc.reason}", zh=exc.zh, en=exc.en) from None
    if account_id is None:
        raise Refusal("unknown_card")
    if claim.role == "resident" and household(conn, account_id) is None:
        raise Refusal("not_this_compound")
    return Card(claim.role, claim.card_id, account_id, claim.version, text)


def household(conn, account_id: int):
    return conn.execute("SELECT account_id, kind, building, unit, room FROM kiosk_households WHERE account_id = ?",
                        (account_id,)).fetchone()


def _address(row) -> str:
    return f"{row[2]}栋{row[3]}单元" if row else ""


def account_view(conn: sqlite3.Connection, account_id: int, today: dt.date) -> AccountView:
    row = conn.execute("SELECT masked_name, status, has_pin FROM accounts WHERE account_id = ?",
                       (account_id,)).fetchone()
    lots = conn.execute("SELECT last_valid_day, points FROM kiosk_lots WHERE account_id = ?", (account_id,))
    expiring = tuple((day.isoformat(), pts) for day, pts in validity.expiring(lots, today))
    return AccountView(account_id, row[0], _address(household(conn, account_id)), replica.spendable(conn, account_id),
                       expiring, bool(row[2]), row[1])


def _online(home, conn, transport, card: Card, purpose: str, pin: str, offline: str, now: dt.datetime) -> dict:
    """Ask the office to check a PIN for ``card``; raise Refusal with the office's reason."""
    try:
        return client.authorise(home, conn, transport, purpose=purpose, card_text=card.text, card_id=card.card_id,
                                card_version=card.version, pin=pin, now=now)
    except client.Unreachable:
        raise Refusal(offline) from None
    except client.Refused as exc:
        if exc.code == "pin_wrong":
            raise Refusal("pin_wrong", left=exc.data.get("left", 0)) from None
        if exc.code == "pin_locked":
            raise Refusal("pin_locked", minutes=max(1, (int(exc.data.get("retry_after", 60)) + 59) // 60)) from None
        raise Refusal(exc.code, zh=exc.zh, en=exc.en) from None


def unlock_passbook(home, conn, transport, card: Card, pin: str, now: dt.datetime) -> None:
    """The office checks the resident's PIN (online) before the deduction details are shown."""
    _online(home, conn, transport, card, "passbook", pin, "pin_offline", now)


def _pending_events(conn, account_id: int | None = None) -> list[tuple[int, dict, bool]]:
    """This kiosk's events the last pull did not include: (seq, event, acked)."""
    applied = replica.state(conn, "applied_seq", 0)
    sql = "SELECT seq, event, acked FROM outbox WHERE seq > ?"
    args: list = [applied]
    if account_id is not None:
        sql += " AND account_id = ?"
        args.append(account_id)
    return [(r[0], json.loads(r[1]), bool(r[2])) for r in conn.execute(sql + " ORDER BY seq", args)]


def _items(conn) -> dict[str, list]:
    cat = replica.state(conn, "kiosk_catalog", {"products": [], "items": []})
    return {i[0]: i for i in cat["items"]}


def _local_day(text: str) -> str:
    return clock.local_date(clock.from_text(text)).isoformat()


def passbook(conn: sqlite3.Connection, account_id: int) -> list[PassLine]:
    """Newest first: the office's entries for the account, then this kiosk's newer events."""
    reversed_ids = {r[0] for r in conn.execute(
        "SELECT reverses FROM kiosk_entries WHERE account_id = ? AND reverses IS NOT NULL", (account_id,))}
    lines = [PassLine(r[0], _local_day(r[5]), r[1], r[3] or _kind_title(r[1]), r[2], r[0] in reversed_ids, False)
             for r in conn.execute("SELECT entry_id, kind, points, title, item_code, recorded_at FROM kiosk_entries "
                                   "WHERE account_id = ? ORDER BY entry_id", (account_id,))]
    items = _items(conn)
    undone = {e["body"]["reverses_seq"] for _, e, _ in _pending_events(conn) if e["kind"] == "reversal"}
    for seq, e, _ in _pending_events(conn, account_id):
        if e["kind"] in ("award", "deduction"):
            item = items.get(e["body"]["item"])
            lines.append(PassLine(None, _local_day(e["at"]), e["kind"], item[3] if item else e["body"]["item"],
                                  e["body"]["points"], seq in undone, True))
    # An entry undone on this kiosk before it was uploaded counts nothing: its undo is no line of its own.
    balances = ledger.running_balances(0 if line.pending and line.reversed else line.points for line in lines)
    return [replace(line, balance_after=b) for line, b in zip(lines, balances)][::-1]


def _kind_title(kind: str) -> str:
    return ledger.KIND_NAMES.get(kind, kind)


# --- the convention, merchants, boards, postings -----------------------------------------------

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
    hours: str


def where_to_redeem(conn, balance: int) -> list[Shop]:
    """Merchants with what the balance buys, those with an affordable offer first."""
    offers: dict[int, list] = {}
    for offer_id, mid, name, points in replica.state(conn, "kiosk_offers", []):
        offers.setdefault(mid, []).append((name, points, max(0, balance) // points if points else 0))
    hours: dict[int, list[str]] = {}
    for mid, place, weekdays, opens, closes in replica.state(conn, "kiosk_windows", []):
        hours.setdefault(mid, []).append(Window(0, mid, place, weekdays, opens, closes).describe())
    shops = [Shop(mid, name, address, tuple(sorted(offers.get(mid, []), key=lambda o: o[1])),
                  "、".join(hours.get(mid, [])) or "营业时间内")
             for mid, name, _category, address in replica.state(conn, "kiosk_merchants", [])]
    return sorted(shops, key=lambda s: (not any(o[2] for o in s.offers), s.merchant_id))


def boards(conn) -> dict:
    return replica.state(conn, "kiosk_boards") or {"label": "", "red": [], "black": []}


def postings(conn) -> list[dict]:
    """Every posting of the compound open now or later (a quarterly and a yearly one may overlap)."""
    return replica.state(conn, "kiosk_postings") or []


def posting(conn, today: dt.date | None = None) -> dict | None:
    """The posting to show: the first one open today, else the next one to open."""
    ps = postings(conn)
    if today is not None:
        ps = [p for p in ps if p["closes_on"] >= today.isoformat()]
        open_now = [p for p in ps if p["opens_on"] <= today.isoformat()]
        ps = open_now or ps
    return ps[0] if ps else None


def postings_open(conn, today: dt.date) -> list[dict]:
    return [p for p in postings(conn) if p["opens_on"] <= today.isoformat() <= p["closes_on"]]


def posting_open(conn, today: dt.date) -> dict | None:
    ps = postings_open(conn, today)
    return ps[0] if ps else None


# --- objections ---------------------------------------------------------------------------------

def _posting_of(conn, line: PassLine, today: dt.date) -> dict | None:
    """The open posting whose period holds the entry's day."""
    for p in postings_open(conn, today):
        if p["first_day"] <= line.day <= p["last_day"]:
            return p
    return None


def objectable(conn, account_id: int, today: dt.date) -> list[PassLine]:
    """The household's awards and deductions of the periods posted now that it may object to."""
    if not postings_open(conn, today):
        raise Refusal("posting_closed")
    objected = {e["body"]["entry"] for _, e, _ in _all_events(conn, "objection")}
    return [line for line in passbook(conn, account_id)
            if line.entry_id is not None and line.kind in ("award", "deduction") and not line.reversed
            and line.entry_id not in objected and _posting_of(conn, line, today) is not None]


def _all_events(conn, kind: str) -> list[tuple[int, dict, bool]]:
    return [(r[0], json.loads(r[1]), bool(r[2])) for r in conn.execute(
        "SELECT seq, event, acked FROM outbox WHERE kind = ? ORDER BY seq", (kind,))]


def object_to(conn, card: Card, entry_id: int, reason: str, now: dt.datetime) -> dict:
    """Record a resident's objection event (the resident's card in front of the kiosk proves it
    is theirs); the office opens the case when it arrives."""
    today = clock.local_date(now)
    if not postings_open(conn, today):
        raise Refusal("posting_closed")
    if reason not in OBJECTION_REASONS:
        raise Refusal("not_objectable")
    if entry_id in {e["body"]["entry"] for _, e, _ in _all_events(conn, "objection")}:
        raise Refusal("already_objected")
    line = next((line for line in objectable(conn, card.account_id, today) if line.entry_id == entry_id), None)
    if line is None:
        raise Refusal("not_objectable")
    p = _posting_of(conn, line, today)
    return replica.record(conn, "objection", {"account": card.account_id, "card": card.card_id, "entry": entry_id,
                                               "posting": p["posting_id"], "proof": "", "reason": reason},
                          now=now, account_id=card.account_id, points=0, card_text=card.text)


# --- staff --------------------------------------------------------------------------------------

def members(conn) -> list[Member]:
    return [Member(*r) for r in replica.state(conn, "kiosk_reviewers", [])]


def staff_member(conn, card: Card) -> Member:
    if card.role != "staff":
        raise Refusal("not_staff")
    for m in members(conn):
        if m.card_id == card.card_id:
            return m
    raise Refusal("not_staff")


def staff_login(home, conn, transport, card: Card, pin: str, now: dt.datetime) -> Member:
    """Open a member's session: the office checks their PIN online and authorises this kiosk to
    record in their name until the session expires (offline, staff mode needs the network)."""
    member = staff_member(conn, card)
    answer = _online(home, conn, transport, card, "staff", pin, "staff_offline", now)
    return replace(member, auth=answer["auth"])


def second_confirm(home, conn, transport, card: Card, pin: str, now: dt.datetime) -> Member:
    """A second member confirms one entry with their own card and PIN, checked by the office."""
    member = staff_member(conn, card)
    answer = _online(home, conn, transport, card, "second", pin, "staff_offline", now)
    return replace(member, auth=answer["auth"])


def households_at(conn, building: int, unit: int) -> list[tuple[int, str, str]]:
    """(account id, masked name, room) of the households at a building and unit."""
    return [tuple(r) for r in conn.execute(
        "SELECT h.account_id, a.masked_name, h.room FROM kiosk_households h JOIN accounts a USING (account_id) "
        "WHERE h.building = ? AND h.unit = ? AND a.status <> 'closed' ORDER BY h.room, h.account_id", (building, unit))]


def buildings(conn) -> list[int]:
    return [r[0] for r in conn.execute("SELECT DISTINCT building FROM kiosk_households ORDER BY building")]


def units(conn, building: int) -> list[int]:
    return [r[0] for r in conn.execute("SELECT DISTINCT unit FROM kiosk_households WHERE building = ? ORDER BY unit",
                                       (building,))]


def items_for(conn, account_id: int, now: dt.datetime) -> list[tuple[list, list[Item]]]:
    """Rule items grouped by product, each with its cap and the account's use this period."""
    used: dict[tuple[str, str], int] = {}
    reversed_ids = {r[0] for r in conn.execute("SELECT reverses FROM kiosk_entries WHERE account_id = ? "
                                               "AND reverses IS NOT NULL", (account_id,))}
    for entry_id, code, key in conn.execute("SELECT entry_id, item_code, period_key FROM kiosk_entries WHERE "
                                            "account_id = ? AND kind IN ('award', 'deduction')", (account_id,)):
        if entry_id not in reversed_ids:
            used[(code, key)] = used.get((code, key), 0) + 1
    pending = _pending_events(conn, account_id)
    undone = {e["body"]["reverses_seq"] for _, e, _ in _pending_events(conn) if e["kind"] == "reversal"}
    out = []
    for product, items in convention(conn):
        key = clock.period_key(product[3], now)
        rows = []
        for code, _p, _heading, name, points, cap, _desc in items:
            n = used.get((code, key), 0) + sum(
                1 for seq, e, _ in pending if e["kind"] in ("award", "deduction") and e["body"]["item"] == code
                and seq not in undone and clock.period_key(product[3], clock.from_text(e["at"])) == key)
            rows.append(Item(code, product[1], name, points, cap, cap_text(cap, product[3]), n))
        out.append((product, rows))
    return out


def second_above(conn) -> int:
    """The office's threshold from the last pull (its default before the first)."""
    return replica.state(conn, "kiosk_second_confirm_above", settings.default("review.second_confirm_above"))


def needs_second(conn, points: int) -> bool:
    return reviewers.needs_second(points, second_above(conn))


def check_entry(conn, member: Member, account_id: int, item_code: str, now: dt.datetime) -> Item:
    """The checks before an entry is offered for confirmation; returns the item."""
    if member.account_id == account_id:
        raise Refusal("recusal")
    row = conn.execute("SELECT status FROM accounts WHERE account_id = ?", (account_id,)).fetchone()
    if row is None or row[0] != "active":
        raise Refusal("account_inactive")
    for _product, items in items_for(conn, account_id, now):
        for item in items:
            if item.code == item_code:
                if item.full:
                    raise Refusal("cap_reached", item=item.name, cap_text=item.cap_text, cap=item.cap)
                return item
    raise Refusal("unknown_item")


def record_entry(conn, member: Member, account_id: int, item_code: str, *, note: str = "",
                 second: Member | None = None, now: dt.datetime) -> dict:
    """Record an award or deduction event signed by this kiosk, naming the member (and the second)."""
    if member.auth is None:
        raise Refusal("staff_offline")
    item = check_entry(conn, member, account_id, item_code, now)
    if len(note) > 200:
        raise Refusal("bad_note")
    if needs_second(conn, item.points):
        if second is None:
            raise Refusal("needs_second", above=second_above(conn))
        if second.reviewer_id == member.reviewer_id or second.account_id == account_id or second.auth is None:
            raise Refusal("second_invalid")
    confirm = second if second and needs_second(conn, item.points) else None
    body = {"account": account_id, "item": item.code, "points": item.points, "staff": member.reviewer_id,
            "staff_auth": member.auth, "second": confirm.reviewer_id if confirm else None,
            "second_auth": confirm.auth if confirm else None, "note": note.strip()}
    return replica.record(conn, "award" if item.points > 0 else "deduction", body, now=now,
                          account_id=account_id, points=-item.points)


def month_entries(conn, now: dt.datetime) -> list[MonthLine]:
    """This month's awards and deductions for the compound, newest first, this kiosk's pending ones too."""
    day = clock.local_date(now)
    start = clock.to_text(clock.local_midnight(day.replace(day=1)))
    device_id = replica.state(conn, "device_id")
    names = dict(conn.execute("SELECT account_id, masked_name FROM accounts"))
    homes = {r[0]: r for r in conn.execute("SELECT * FROM kiosk_households")}
    reversed_ids = {r[0] for r in conn.execute("SELECT reverses FROM kiosk_entries WHERE reverses IS NOT NULL")}
    pending = _pending_events(conn)
    undone = {e["body"]["reverses_seq"] for _, e, _ in pending if e["kind"] == "reversal"}
    staff_of_seq = {seq: json.loads(ev)["body"].get("staff") for seq, ev in conn.execute(
        "SELECT seq, event FROM outbox WHERE kind IN ('award', 'deduction')")}
    lines = []
    for entry_id, account_id, kind, points, title, at, by, ref in conn.execute(
            "SELECT entry_id, account_id, kind, points, title, recorded_at, recorded_by, ref FROM kiosk_entries "
            "WHERE kind IN ('award', 'deduction') AND recorded_at >= ? ORDER BY entry_id", (start,)):
        seq = int(ref.rsplit(":", 1)[1]) if ref and ref.startswith(f"dev:{device_id}:") else None
        lines.append(MonthLine(f"e{entry_id}", _local_day(at), _address(homes.get(account_id)), names.get(account_id, ""),
                               title, points, recorders.label(by), entry_id in reversed_ids or (seq in undone), False, seq,
                               staff_of_seq.get(seq)))
    items = _items(conn)
    by_id = {m.reviewer_id: m.name for m in members(conn)}
    for seq, e, _ in pending:
        if e["kind"] not in ("award", "deduction") or e["at"] < start:
            continue
        b = e["body"]
        item = items.get(b["item"])
        lines.append(MonthLine(f"s{seq}", _local_day(e["at"]), _address(homes.get(b["account"])),
                               names.get(b["account"], ""), item[3] if item else b["item"], b["points"],
                               recorders.label(recorders.of_member(by_id.get(b['staff'], str(b['staff'])))), seq in undone, True, seq, b["staff"]))
    return lines[::-1]


def can_undo(line: MonthLine, member: Member, today: dt.date) -> bool:
    return (line.seq is not None and line.staff == member.reviewer_id and not line.reversed
            and line.day == today.isoformat())


def undo(conn, member: Member, line: MonthLine, now: dt.datetime) -> dict:
    """A reversal event of one's own entry of today."""
    if not can_undo(line, member, clock.local_date(now)):
        raise Refusal("undo_not_allowed")
    if member.auth is None:
        raise Refusal("staff_offline")
    return replica.record(conn, "reversal", {"reverses_seq": line.seq, "reason": UNDO_REASON, "staff": member.reviewer_id,
                                             "staff_auth": member.auth},
                          now=now, account_id=_account_of_seq(conn, line.seq), points=line.points)


def _account_of_seq(conn, seq: int) -> int | None:
    row = conn.execute("SELECT account_id FROM outbox WHERE seq = ?", (seq,)).fetchone()
    return row[0] if row else None


def status(h, *, now: dt.datetime | None = None) -> dict:
    """A kiosk's state for ``python -m kiosk status``: last sync, events waiting, how far the
    office acknowledged, and whether it may record entries now. A kiosk never redeems."""
    now = now or clock.now_utc()
    conn = h.replica()
    try:
        last = replica.state(conn, "last_pull_at")
        count, _points = replica.pending_summary(conn)
        try:
            ready(conn)
            why = None
        except ReasonedRefusal as exc:     # not synced yet, or a fault found (behind, forked)
            why = exc
        fault = replica.fault(conn)
        return {
            "device_id": h.device_id, "kind": h.config.get("kind"), "server": h.server,
            "compound": compound(conn).get("name"), "last_sync_at": last,
            "last_sync_age_hours": None if last is None else round((now - clock.from_text(last)).total_seconds() / 3600, 2),
            "pending_events": count, "acked_seq": replica.state(conn, "acked_seq", 0),
            "last_seq": replica.last_seq(conn),
            "can_record": why is None,
            "cannot_record": None if why is None else {"code": why.code, "zh": why.zh, "en": why.en},
            "can_redeem": False,     # redemption is the merchants' tablets' job
            "fault": None if fault is None else {"code": fault.code, "zh": fault.zh, "en": fault.en},
        }
    finally:
        conn.close()
