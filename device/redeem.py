"""The offline redemption engine of a merchant tablet, and the tablet's status.

A redemption is decided on the tablet from its replica, without the office: the card's
signature, the deny list, the account's balance (last pull minus this tablet's later events), the
per-card daily cap on this tablet, the floor limit (above it the office must be reachable), the
tablet's total unacknowledged points, the age of the last sync, the redemption window, and the
PIN above the policy's threshold. Each refusal names its reason in Chinese and English. A
redemption is committed to the replica (synchronous=FULL) before it is reported as done; then the
tablet tries to push it at once, silently staying offline if the office does not answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, replace

from bank import accounts, cardcode, clock
from bank.errors import ReasonedRefusal
from bank.policy import OfflinePolicy, Window

from sync import client, home as home_mod, replica

ONLINE_TIMEOUT = 3.0   # seconds: a shop counter cannot wait longer for the office

REASONS: dict[str, tuple[str, str]] = {
    "not_synced": ("本机还没有从社区办公室同步过数据,暂不能兑换。", "This tablet has never synced with the office."),
    "sync_too_old": ("本机已超过{hours}小时没有同步,请先联网同步后再兑换。",
                     "Last sync is older than {hours} hours; sync before redeeming."),
    "card_on_hold": ("这张卡因积分透支已暂停兑换,请到社区办公室处理。",
                     "This card is on hold after an overdraft; the office must clear it."),
    "staff_card": ("工作人员卡不能用于兑换。", "A staff card cannot redeem points."),
    "account_inactive": ("该储户账户已暂停或销户,不能兑换。", "The account is suspended or closed."),
    "unknown_offer": ("本店没有这个兑换项目。", "This shop has no such offer."),
    "bad_quantity": ("数量须为1到99。", "Quantity must be 1 to 99."),
    "empty_basket": ("请至少选择一个兑换项目。", "Choose at least one offer."),
    "basket_too_long": ("一次最多兑换 {n} 种项目。", "At most {n} different offers at once."),
    "window_closed": ("现在不在兑换时间内({windows})。", "Redemption is closed now (open: {windows})."),
    "insufficient": ("积分不足:需要 {need} 分,可用 {have} 分。", "Not enough points: {need} needed, {have} available."),
    "insufficient_held": ("积分不足:需要 {need} 分,可用 {have} 分(另有 {held} 分正在异议处理中,裁定前不能兑换)。",
                          "Not enough points: {need} needed, {have} available ({held} more are held by an open "
                          "objection until it is ruled)."),
    "daily_cap": ("这张卡今天在本机已兑换 {used} 分,每天最多 {cap} 分。",
                  "This card already redeemed {used} points on this tablet today; the daily cap is {cap}."),
    "unsynced_cap": ("本机未上传的兑换已有 {used} 分,再兑换将超过上限 {cap} 分,请先联网同步。",
                     "This tablet holds {used} unsynced points; this would pass the cap of {cap}. Sync first."),
    "floor_limit_offline": ("单笔超过 {floor} 分需要联网确认,现在无法连接社区办公室。",
                            "Redemptions over {floor} points need the office online; it cannot be reached."),
    "pin_required": ("超过 {above} 分需要输入储户密码。", "Over {above} points the account's PIN is required."),
    "pin_wrong": ("密码不正确。", "The PIN is wrong."),
    "not_a_tablet": ("本设备不是商户平板,不能兑换。", "This device is not a merchant tablet."),
    "void_unknown": ("本机没有这条兑换记录。", "No such redemption on this tablet."),
    "void_too_late": ("超过 {minutes} 分钟的兑换不能在本机撤销,请到社区办公室处理。",
                      "Redemptions older than {minutes} minutes cannot be voided here; ask the office."),
    "void_done": ("这条兑换已经撤销过。", "This redemption was already voided."),
    "void_not_redemption": ("只有兑换记录可以撤销。", "Only a redemption can be voided."),
}


class Refusal(ReasonedRefusal):
    """A redemption the tablet refuses; ``reason`` is a key of :data:`REASONS` or ``card_*``."""

    REASONS = REASONS


MAX_LINES = 20   # different offers in one basket


@dataclass(frozen=True)
class ReceiptLine:
    """One offer of a receipt: its own redemption event (``seq``) on this tablet."""

    seq: int
    offer_id: int
    offer: str
    qty: int
    points: int


@dataclass(frozen=True)
class Receipt:
    """A basket redeemed together; ``seq`` (its first line's event) is the receipt number."""

    seq: int
    device_id: str
    merchant: str
    card_id: str
    account: str            # masked display name
    items: tuple[ReceiptLine, ...]
    points: int             # the basket's total
    balance_after: int
    at: str                 # local time, for the printed receipt
    pushed: bool

    @property
    def seqs(self) -> tuple[int, ...]:
        return tuple(i.seq for i in self.items)

    def _only(self) -> ReceiptLine:
        if len(self.items) != 1:
            raise AttributeError("a receipt of several lines has no single offer; see items")
        return self.items[0]

    # a one-line receipt reads as before
    offer_id = property(lambda self: self._only().offer_id)
    offer = property(lambda self: self._only().offer)
    qty = property(lambda self: self._only().qty)

    def as_dict(self) -> dict:
        out = asdict(self)
        out["seqs"] = list(self.seqs)
        if len(self.items) == 1:
            out.update(offer_id=self.offer_id, offer=self.offer, qty=self.qty)
        return out

    def lines(self) -> list[str]:
        return [f"兑换成功 (redeemed) · 单号 {self.device_id}-{self.seq}",
                *(f"{self.merchant} · {i.offer} ×{i.qty} · {i.points} 分" for i in self.items),
                f"合计 {self.points} 分 · 储户 {self.account} (卡 {self.card_id}) · 余额 {self.balance_after} 分",
                f"{self.at} · {'已上传' if self.pushed else '待上传 (will sync later)'}"]


def _policy(conn) -> OfflinePolicy:
    return OfflinePolicy(**replica.state(conn, "policy", {}))


def policy(h: home_mod.Home) -> OfflinePolicy:
    """The offline policy this tablet last pulled."""
    conn = h.replica()
    try:
        return _policy(conn)
    finally:
        conn.close()


def _windows(conn) -> list[Window]:
    return [Window(0, None, *w) for w in replica.state(conn, "windows", [])]


def _sync_age_ok(conn, now: dt.datetime, pol: OfflinePolicy) -> None:
    last = replica.state(conn, "last_pull_at")
    if last is None:
        raise Refusal("not_synced")
    if now - clock.from_text(last) > dt.timedelta(hours=pol.max_sync_age_hours):
        raise Refusal("sync_too_old", hours=pol.max_sync_age_hours)


def _check_card(conn, text: str) -> tuple[cardcode.CardClaim, int]:
    """Verify the card offline and find its account; raise Refusal."""
    try:
        claim, account_id, on_hold = replica.verify_card(conn, text)
    except cardcode.CardRefused as exc:
        raise Refusal(f"card_{exc.reason}", zh=exc.zh, en=exc.en) from None
    if on_hold:
        raise Refusal("card_on_hold")
    if claim.role != "resident":
        raise Refusal("staff_card")
    return claim, account_id


@dataclass(frozen=True)
class CardView:
    """What the tablet knows of a scanned card's account, before anything is chosen."""

    card_id: str
    card_version: int
    account_id: int
    name: str                       # masked, e.g. 张*明
    household: str | None           # 'household' or 'single'; None if the last pull did not say
    members: int | None
    balance: int                    # last pull minus this tablet's later events
    held: int                       # under an open objection: not redeemable
    available: int                  # what may be redeemed here now (balance - held, never < 0)
    used_today: int                 # points this card took on this tablet today
    expiring: tuple[tuple[str, int], ...]   # (last valid day, points) within EXPIRY_WARN_DAYS
    has_pin: bool
    policy: OfflinePolicy
    unsynced_points: int            # this tablet's points not yet acknowledged by the office


EXPIRY_WARN_DAYS = 60


def inspect(h: home_mod.Home, card_text: str, *, now: dt.datetime | None = None) -> CardView:
    """Check a scanned card as a redemption would (sync age, signature, deny list, account) and
    say what its account has here; raise Refusal otherwise. Nothing is written."""
    now = now or clock.now_utc()
    conn = h.replica()
    try:
        pol = _policy(conn)
        _sync_age_ok(conn, now, pol)
        claim, account_id = _check_card(conn, card_text)
        acct = conn.execute("SELECT status, masked_name, pin_hash FROM accounts WHERE account_id = ?",
                            (account_id,)).fetchone()
        if acct is None or acct[0] != "active":
            raise Refusal("account_inactive")
        today = clock.local_date(now)
        horizon = (today + dt.timedelta(days=EXPIRY_WARN_DAYS)).isoformat()
        expiring = tuple((day, pts) for day, pts in replica.lots(conn, account_id)
                         if today.isoformat() <= day <= horizon)
        kind, members = replica.household(conn, account_id) or (None, None)
        return CardView(claim.card_id, claim.version, account_id, acct[1], kind, members,
                        replica.spendable(conn, account_id), replica.held(conn, account_id),
                        replica.available(conn, account_id),
                        replica.redeemed_today(conn, claim.card_id, today.isoformat()), expiring,
                        bool(acct[2]), pol, replica.pending_summary(conn)[1])
    finally:
        conn.close()


def redeem(h: home_mod.Home, card_text: str, offer_id: int, qty: int = 1, pin: str | None = None, *,
           now: dt.datetime | None = None, transport=None, online_timeout: float = ONLINE_TIMEOUT) -> Receipt:
    """Redeem ``qty`` of an offer with a scanned card, offline; return the receipt or raise Refusal."""
    return redeem_basket(h, card_text, [(offer_id, qty)], pin, now=now, transport=transport,
                         online_timeout=online_timeout)


def _basket(lines) -> list[tuple[int, int]]:
    """(offer, qty) lines in order, the same offer's lines merged; raise Refusal if malformed."""
    merged: dict[int, int] = {}
    for line in lines:
        offer_id, qty = line
        if type(qty) is not int or not 1 <= qty <= 99:
            raise Refusal("bad_quantity")
        merged[offer_id] = merged.get(offer_id, 0) + qty
    if not merged:
        raise Refusal("empty_basket")
    if len(merged) > MAX_LINES:
        raise Refusal("basket_too_long", n=MAX_LINES)
    if any(q > 99 for q in merged.values()):
        raise Refusal("bad_quantity")
    return list(merged.items())


def redeem_basket(h: home_mod.Home, card_text: str, lines, pin: str | None = None, *,
                  now: dt.datetime | None = None, transport=None,
                  online_timeout: float = ONLINE_TIMEOUT) -> Receipt:
    """Redeem several (offer, qty) lines together, all or nothing.

    Every check is on the basket's total; one redemption event per line is written in one replica
    transaction (synchronous=FULL) before the receipt is returned; then a quiet push."""
    now = now or clock.now_utc()
    if h.config.get("kind") != "tablet":
        raise Refusal("not_a_tablet")
    basket = _basket(lines)
    transport = transport or client.transport_for(h, online_timeout)
    conn = h.replica()
    try:
        pol = _policy(conn)
        prices = dict(conn.execute("SELECT offer_id, points FROM offers"))
        if sum(prices.get(o, 0) * q for o, q in basket) > pol.floor_limit:
            # Above the floor limit the office must be reachable: sync now, then decide on fresh data.
            try:
                client.sync_once(h, transport, now=now)
            except (client.Unreachable, client.Refused):
                raise Refusal("floor_limit_offline", floor=pol.floor_limit) from None
        with replica._txn(conn):   # checks and every line's write see the same replica, one commit
            receipt = _decide_and_record(h, conn, card_text, basket, pin, now)
    finally:
        conn.close()
    return replace(receipt, pushed=_push_quietly(h, transport, now))


def _decide_and_record(h, conn, card_text, basket, pin, now) -> Receipt:
    pol = _policy(conn)
    _sync_age_ok(conn, now, pol)
    claim, account_id = _check_card(conn, card_text)
    acct = conn.execute("SELECT status, masked_name, pin_hash FROM accounts WHERE account_id = ?",
                        (account_id,)).fetchone()
    if acct is None or acct[0] != "active":
        raise Refusal("account_inactive")
    offers = []
    for offer_id, qty in basket:
        offer = conn.execute("SELECT offer_id, name, points FROM offers WHERE offer_id = ?",
                             (offer_id,)).fetchone()
        if offer is None:
            raise Refusal("unknown_offer")
        offers.append((offer, qty, offer[2] * qty))
    points = sum(p for _o, _q, p in offers)
    windows = _windows(conn)
    if windows and not any(w.is_open(now) for w in windows):
        raise Refusal("window_closed", windows="; ".join(w.describe() for w in windows))
    if points > pol.floor_limit and replica.state(conn, "last_pull_at") < clock.to_text(now - dt.timedelta(minutes=1)):
        raise Refusal("floor_limit_offline", floor=pol.floor_limit)
    used = replica.redeemed_today(conn, claim.card_id, clock.local_date(now).isoformat())
    if used + points > pol.per_card_daily_cap:
        raise Refusal("daily_cap", used=used, cap=pol.per_card_daily_cap)
    _, unsynced = replica.pending_summary(conn)
    if unsynced + points > pol.unsynced_cap:
        raise Refusal("unsynced_cap", used=unsynced, cap=pol.unsynced_cap)
    if acct[2] and points > pol.pin_above:
        if not pin:
            raise Refusal("pin_required", above=pol.pin_above)
        if not accounts.check_pin(acct[2], pin):
            raise Refusal("pin_wrong")
    have = replica.available(conn, account_id)   # points held by an open objection are not spendable
    if have < points:
        held = replica.held(conn, account_id)
        if held:
            raise Refusal("insufficient_held", need=points, have=have, held=held)
        raise Refusal("insufficient", need=points, have=have)
    items = []
    for offer, qty, line_points in offers:
        event = replica.record(conn, "redemption", {"card": claim.card_id, "card_version": claim.version,
                                                    "offer": offer[0], "qty": qty, "points": line_points},
                               now=now, card_id=claim.card_id, account_id=account_id, points=line_points)
        items.append(ReceiptLine(event["seq"], offer[0], offer[1], qty, line_points))
    first = items[0].seq
    conn.executemany("INSERT INTO tablet_receipt_lines (seq, receipt) VALUES (?, ?)",
                     [(i.seq, first) for i in items])
    merchant = (replica.state(conn, "merchant") or {}).get("name", "")
    return Receipt(first, h.device_id, merchant, claim.card_id, acct[1], tuple(items), points,
                   have - points, clock.local(now).strftime("%Y-%m-%d %H:%M"), False)


def receipt_seqs(conn, seq: int) -> list[int]:
    """The events of the receipt that ``seq`` belongs to (one event for redemptions made before
    baskets, which have no receipt rows)."""
    row = conn.execute("SELECT receipt FROM tablet_receipt_lines WHERE seq = ?", (seq,)).fetchone()
    if row is None:
        return [seq]
    return [r[0] for r in conn.execute("SELECT seq FROM tablet_receipt_lines WHERE receipt = ? ORDER BY seq",
                                       (row[0],))]


def _push_quietly(h: home_mod.Home, transport, now: dt.datetime) -> bool:
    """Push at once if the office answers quickly; the event stays in the outbox otherwise."""
    conn = h.replica()
    try:
        client.push(h, conn, transport, now=now)
        return replica.pending_summary(conn)[0] == 0
    except (client.Unreachable, client.Refused):
        return False
    finally:
        conn.close()


def void(h: home_mod.Home, seq: int, reason: str = "商户撤销", *, now: dt.datetime | None = None,
         transport=None) -> dict:
    """Reverse one of this tablet's own recent receipts (within the policy's void minutes): one
    reversal event per line, in one transaction. ``seq`` is any of the receipt's events."""
    now = now or clock.now_utc()
    conn = h.replica()
    try:
        with replica._txn(conn):
            seqs = receipt_seqs(conn, seq)
            rows = [conn.execute("SELECT seq, kind, created_at, card_id, account_id, points FROM outbox "
                                 "WHERE seq = ?", (s,)).fetchone() for s in seqs]
            if any(r is None for r in rows):
                raise Refusal("void_unknown")
            if any(r[1] != "redemption" for r in rows):
                raise Refusal("void_unknown" if len(rows) == 1 else "void_not_redemption")
            done = {s for s in seqs if conn.execute(
                "SELECT 1 FROM outbox WHERE kind = 'reversal' AND json_extract(event, '$.body.reverses_seq') = ?",
                (s,)).fetchone()}
            if len(done) == len(seqs):
                raise Refusal("void_done")
            minutes = _policy(conn).void_minutes
            if now - clock.from_text(rows[0][2]) > dt.timedelta(minutes=minutes):
                raise Refusal("void_too_late", minutes=minutes)
            reversals = [replica.record(conn, "reversal", {"reverses_seq": r[0], "reason": reason[:200]}, now=now,
                                        card_id=r[3], account_id=r[4], points=-r[5])["seq"]
                         for r in rows if r[0] not in done]
    finally:
        conn.close()
    pushed = _push_quietly(h, transport or client.transport_for(h, ONLINE_TIMEOUT), now)
    return {"seq": reversals[0], "reverses_seq": seqs[0], "reversals": reversals, "voided": seqs,
            "points": sum(r[5] for r in rows if r[0] not in done), "pushed": pushed}


def status(h: home_mod.Home, *, now: dt.datetime | None = None) -> dict:
    """Last sync, pending events, and what the policy leaves this tablet today."""
    now = now or clock.now_utc()
    conn = h.replica()
    try:
        pol = _policy(conn)
        last = replica.state(conn, "last_pull_at")
        count, points = replica.pending_summary(conn)
        today = clock.local_date(now).isoformat()
        day = conn.execute("SELECT count(*), coalesce(sum(points), 0) FROM outbox WHERE kind = 'redemption' "
                           "AND local_day = ?", (today,)).fetchone()
        age_h = None if last is None else round((now - clock.from_text(last)).total_seconds() / 3600, 2)
        return {
            "device_id": h.device_id, "kind": h.config.get("kind"),
            "merchant": (replica.state(conn, "merchant") or {}).get("name"),
            "server": h.server, "last_sync_at": last, "last_sync_age_hours": age_h,
            "server_time_at_last_sync": replica.state(conn, "server_time"),
            "pending_events": count, "pending_points": points,
            "acked_seq": replica.state(conn, "acked_seq", 0),
            "last_seq": conn.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()[0],
            "today_redemptions": day[0], "today_points": day[1],
            "unsynced_points_left": max(0, pol.unsynced_cap - points),
            "sync_hours_left": None if age_h is None else max(0.0, round(pol.max_sync_age_hours - age_h, 2)),
            "per_card_daily_cap": pol.per_card_daily_cap, "floor_limit": pol.floor_limit,
            "deny_list_version": replica.state(conn, "deny_version"),
            "accounts": conn.execute("SELECT count(*) FROM accounts").fetchone()[0],
            "can_redeem": last is not None and age_h <= pol.max_sync_age_hours,
        }
    finally:
        conn.close()
