"""Review-group members at the kiosk: their staff cards and online sessions, the rule items with each
household's use this period, entries checked before they are offered (recusal, caps per period,
the second member's confirmation above the threshold), this month's entries and same-day undo of
one's own entry. The office applies the same rules again at settlement; checking them here first
tells a member at once why an entry cannot be made. No Kivy here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from bank import clock, recorders, reviewers, settings
from sync import replica

from . import refusals, residents

UNDO_REASON = "记录人当天撤销"


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


def members(conn) -> list[Member]:
    return [Member(*r) for r in replica.state(conn, "kiosk_reviewers", [])]


def staff_member(conn, card: residents.Card) -> Member:
    if card.role != "staff":
        raise refusals.Refusal("not_staff")
    for m in members(conn):
        if m.card_id == card.card_id:
            return m
    raise refusals.Refusal("not_staff")


def staff_login(home, conn, transport, card: residents.Card, pin: str, now: dt.datetime) -> Member:
    """Open a member's session: the office checks their PIN online and authorises this kiosk to
    record in their name until the session expires (offline, staff mode needs the network)."""
    member = staff_member(conn, card)
    answer = residents.check_pin_online(home, conn, transport, card, "staff", pin, "staff_offline", now)
    return replace(member, auth=answer["auth"])


def second_confirm(home, conn, transport, card: residents.Card, pin: str, now: dt.datetime) -> Member:
    """A second member confirms one entry with their own card and PIN, checked by the office."""
    member = staff_member(conn, card)
    answer = residents.check_pin_online(home, conn, transport, card, "second", pin, "staff_offline", now)
    return replace(member, auth=answer["auth"])


def items_for(conn, account_id: int, now: dt.datetime) -> list[tuple[list, list[Item]]]:
    """Rule items grouped by product, each with its cap and the account's use this period."""
    used: dict[tuple[str, str], int] = {}
    reversed_ids = replica.kiosk_reversed(conn, account_id)
    for e in replica.kiosk_entries(conn, account_id=account_id, kinds=("award", "deduction")):
        if e.entry_id not in reversed_ids:
            used[(e.item_code, e.period_key)] = used.get((e.item_code, e.period_key), 0) + 1
    pending = residents.pending_events(conn, account_id)
    undone = {e["body"]["reverses_seq"] for _, e, _ in residents.pending_events(conn) if e["kind"] == "reversal"}
    out = []
    for product, items in residents.convention(conn):
        key = clock.period_key(product[3], now)
        rows = []
        for code, _p, _heading, name, points, cap, _desc in items:
            n = used.get((code, key), 0) + sum(
                1 for seq, e, _ in pending if e["kind"] in ("award", "deduction") and e["body"]["item"] == code
                and seq not in undone and clock.period_key(product[3], clock.from_text(e["at"])) == key)
            rows.append(Item(code, product[1], name, points, cap, residents.cap_text(cap, product[3]), n))
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
        raise refusals.Refusal("recusal")
    acct = replica.account(conn, account_id)
    if acct is None or acct.status != "active":
        raise refusals.Refusal("account_inactive")
    for _product, items in items_for(conn, account_id, now):
        for item in items:
            if item.code == item_code:
                if item.full:
                    raise refusals.Refusal("cap_reached", item=item.name, cap_text=item.cap_text, cap=item.cap)
                return item
    raise refusals.Refusal("unknown_item")


def record_entry(conn, member: Member, account_id: int, item_code: str, *, note: str = "",
                 second: Member | None = None, now: dt.datetime) -> dict:
    """Record an award or deduction event signed by this kiosk, naming the member (and the second)."""
    if member.auth is None:
        raise refusals.Refusal("staff_offline")
    item = check_entry(conn, member, account_id, item_code, now)
    if len(note) > 200:
        raise refusals.Refusal("bad_note")
    if needs_second(conn, item.points):
        if second is None:
            raise refusals.Refusal("needs_second", above=second_above(conn))
        if second.reviewer_id == member.reviewer_id or second.account_id == account_id or second.auth is None:
            raise refusals.Refusal("second_invalid")
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
    names = replica.masked_names(conn)
    homes = replica.kiosk_households(conn)
    reversed_ids = replica.kiosk_reversed(conn)
    pending = residents.pending_events(conn)
    undone = {e["body"]["reverses_seq"] for _, e, _ in pending if e["kind"] == "reversal"}
    staff_of_seq = {seq: e["body"].get("staff") for seq, e, _ in replica.events(conn, kinds=("award", "deduction"))}
    lines = []
    for e in replica.kiosk_entries(conn, kinds=("award", "deduction"), since=start):
        ref = e.ref
        seq = int(ref.rsplit(":", 1)[1]) if ref and ref.startswith(f"dev:{device_id}:") else None
        lines.append(MonthLine(f"e{e.entry_id}", residents.local_day(e.recorded_at),
                               residents.address_of(homes.get(e.account_id)), names.get(e.account_id, ""), e.title,
                               e.points, recorders.label(e.recorded_by), e.entry_id in reversed_ids or (seq in undone),
                               False, seq, staff_of_seq.get(seq)))
    items = residents.catalog_items(conn)
    by_id = {m.reviewer_id: m.name for m in members(conn)}
    for seq, e, _ in pending:
        if e["kind"] not in ("award", "deduction") or e["at"] < start:
            continue
        b = e["body"]
        item = items.get(b["item"])
        lines.append(MonthLine(f"s{seq}", residents.local_day(e["at"]), residents.address_of(homes.get(b["account"])),
                               names.get(b["account"], ""), item[3] if item else b["item"], b["points"],
                               recorders.label(recorders.of_member(by_id.get(b['staff'], str(b['staff'])))), seq in undone, True, seq, b["staff"]))
    return lines[::-1]


def can_undo(line: MonthLine, member: Member, today: dt.date) -> bool:
    return (line.seq is not None and line.staff == member.reviewer_id and not line.reversed
            and line.day == today.isoformat())


def undo(conn, member: Member, line: MonthLine, now: dt.datetime) -> dict:
    """A reversal event of one's own entry of today."""
    if not can_undo(line, member, clock.local_date(now)):
        raise refusals.Refusal("undo_not_allowed")
    if member.auth is None:
        raise refusals.Refusal("staff_offline")
    return replica.record(conn, "reversal", {"reverses_seq": line.seq, "reason": UNDO_REASON, "staff": member.reviewer_id,
                                             "staff_auth": member.auth},
                          now=now, account_id=_account_of_seq(conn, line.seq), points=line.points)


def _account_of_seq(conn, seq: int) -> int | None:
    row = replica.event_row(conn, seq)
    return row[4] if row else None
