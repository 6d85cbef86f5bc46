"""The offline redemption engine of a merchant tablet, and the tablet's status.

A redemption is decided on the tablet from its replica, without the office: the card's
signature, the deny list, the account's balance (last pull minus this tablet's later events), the
per-card daily cap on this tablet, the tablet's total unacknowledged points, the age of the last
sync and the redemption window (the rules are :mod:`bank.policy`'s, which the office applies
again at settlement). Above the floor limit, or above the PIN threshold for an account with a
PIN, the office must be online: it checks the PIN itself (the tablet holds no PIN verifier) and
authorises that card and amount; the events cite the authorisation. Each refusal names its
reason in Chinese and English. A redemption is committed to the replica (synchronous=FULL)
before it is reported as done; then the tablet tries to push it at once, silently staying
offline if the office does not answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, replace

from bank import cardcode, clock, policy as rules, validity
from bank.errors import ReasonedRefusal
from bank.policy import POLICY_FIELDS, OfflinePolicy, Window

from sync import client, home as home_mod, replica

ONLINE_TIMEOUT = 3.0   # seconds: a shop counter cannot wait longer for the office
QUIET_LOCK_WAIT = 0.5  # seconds the immediate push waits for another sync of this tablet to finish;
                       # that sync, or the next, pushes the event instead

REASONS: dict[str, tuple[str, str]] = {
    "not_synced": ("本机还没有从社区办公室同步过数据,暂不能兑换。", "This tablet has never synced with the office."),
    "device_on_hold": ("社区办公室已暂停本机兑换(所发数据多次违反规则),请联系社区办公室。",
                       "The office has put this tablet on hold (it sent events that broke the rules); call the office."),
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
    "window_closed": ("本店现在不在兑换时间内(兑换时间:{windows}),{opens} 开始兑换。",
                      "Redemption is closed now (hours: {windows}); it opens {opens_en}."),
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
    "pin_wrong": ("密码不正确,还可以再试 {left} 次。", "The PIN is wrong; {left} tries left."),
    "pin_locked": ("密码错误次数过多,请 {minutes} 分钟后再试,或到社区办公室重置密码。",
                   "Too many wrong PINs: try again in {minutes} minutes, or ask the office to reset it."),
    "pin_offline": ("超过 {above} 分需要联网核对储户密码,现在无法连接社区办公室。",
                    "Over {above} points the office must check the PIN online; it cannot be reached."),
    "not_a_tablet": ("本设备不是商户平板,不能兑换。", "This device is not a merchant tablet; it does not redeem."),
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

    def as_dict(self) -> dict:
        out = asdict(self)
        out["seqs"] = list(self.seqs)
        return out

    def lines(self) -> list[str]:
        return [f"兑换成功 (redeemed) · 单号 {self.device_id}-{self.seq}",
                *(f"{self.merchant} · {i.offer} ×{i.qty} · {i.points} 分" for i in self.items),
                f"合计 {self.points} 分 · 储户 {self.account} (卡 {self.card_id}) · 余额 {self.balance_after} 分",
                f"{self.at} · {'已上传' if self.pushed else '待上传 (will sync later)'}"]


class Deferred:
    """A transport for the immediate push: the background syncer pushes instead, so the
    receipt never waits for the network (the floor-limit path gets the real transport)."""

    def post(self, path, body, headers):
        raise client.Unreachable("稍后由后台同步上传。", "deferred to the background sync")


def _policy(conn) -> OfflinePolicy:
    # fields this program does not know yet (a newer office) are left out, not a crash at the counter
    return OfflinePolicy(**{k: v for k, v in replica.state(conn, "policy", {}).items() if k in POLICY_FIELDS})


def policy(h: home_mod.Home) -> OfflinePolicy:
    """The offline policy this tablet last pulled."""
    conn = h.replica()
    try:
        return _policy(conn)
    finally:
        conn.close()


def _windows(conn) -> list[Window]:
    return [Window(0, None, *w) for w in replica.state(conn, "windows", [])]


def _closed(conn, now: dt.datetime) -> Refusal | None:
    """``window_closed`` with the shop's hours and when it opens next, or None while it is open."""
    closed = rules.closed_now(_windows(conn), now)
    if closed is None:
        return None
    return Refusal("window_closed", windows=closed.hours, opens=closed.opens_text,
                   opens_en=clock.local(closed.opens_next).strftime("%a %H:%M") if closed.opens_next else "")


def _sync_age_ok(conn, now: dt.datetime, pol: OfflinePolicy) -> None:
    """Also refuses (:class:`sync.faults.DeviceFault`) on a replica found behind or forked."""
    replica.check_usable(conn)
    last = replica.state(conn, "last_pull_at")
    if last is None:
        raise Refusal("not_synced")
    if replica.state(conn, "device_on_hold"):
        raise Refusal("device_on_hold")
    if rules.sync_too_old(pol, clock.from_text(last), now):
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
    household: str                  # 'household' or 'single'
    balance: int                    # last pull minus this tablet's later events
    held: int                       # under an open objection: not redeemable
    available: int                  # what may be redeemed here now (balance - held, never < 0)
    used_today: int                 # points this card took on this tablet today
    expiring: tuple[tuple[str, int], ...]   # (last valid day, points) within the warning window
    has_pin: bool                   # the office asks for the PIN above the policy's threshold
    policy: OfflinePolicy
    unsynced_points: int            # this tablet's points not yet acknowledged by the office
    closed: Refusal | None = None   # the shop is outside its redemption hours now (hours, next opening)


def inspect(h: home_mod.Home, card_text: str, *, now: dt.datetime | None = None) -> CardView:
    """Check a scanned card as a redemption would (sync age, signature, deny list, account) and
    say what its account has here; raise Refusal otherwise. Nothing is written."""
    now = now or clock.now_utc()
    conn = h.replica()
    try:
        pol = _policy(conn)
        _sync_age_ok(conn, now, pol)
        claim, account_id = _check_card(conn, card_text)
        acct = _account(conn, account_id)
        today = clock.local_date(now)
        expiring = tuple((day.isoformat(), pts) for day, pts in validity.expiring(replica.lots(conn, account_id), today))
        return CardView(claim.card_id, claim.version, account_id, acct.masked_name, acct.kind,
                        replica.spendable(conn, account_id), replica.held(conn, account_id),
                        replica.available(conn, account_id),
                        replica.redeemed_today(conn, claim.card_id, today.isoformat()), expiring,
                        acct.has_pin, pol, replica.pending_summary(conn)[1], _closed(conn, now))
    finally:
        conn.close()


def _account(conn, account_id: int):
    """An active account (:class:`sync.replica.AccountRow`), or Refusal."""
    acct = replica.account(conn, account_id)
    if acct is None or acct.status != "active":
        raise Refusal("account_inactive")
    return acct


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
        # every offline check first, so the counter hears the plain reason (too few points, a
        # cap) before being told the office is needed; then, above the limits, the office
        plan = _plan(conn, card_text, basket, now, authorised=True)
        auth = None
        if rules.needs_authorisation(plan.policy, plan.points, plan.has_pin):
            auth = _authorise(h, conn, transport, plan, card_text, pin, now)
        with replica._txn(conn):   # checks and every line's write see the same replica, one commit
            receipt = _record(h, conn, _plan(conn, card_text, basket, now, authorised=auth is not None),
                              card_text, auth, now)
    finally:
        conn.close()
    return replace(receipt, pushed=_push_quietly(h, transport, now))


@dataclass(frozen=True)
class _Plan:
    """A basket that passed the tablet's checks, ready to be written."""

    policy: OfflinePolicy
    claim: cardcode.CardClaim
    account_id: int
    name: str
    has_pin: bool
    offers: tuple[tuple[tuple, int, int], ...]    # ((offer_id, name, points), qty, line points)
    points: int
    have: int


def _authorise(h, conn, transport, plan: _Plan, card_text: str, pin: str | None, now: dt.datetime) -> str:
    """The office's online authorisation for this card and total: sync first (fresh balance and
    deny list), then ask, with the PIN where the account has one. Raises Refusal."""
    pol, total = plan.policy, plan.points
    needs_pin = plan.has_pin and total > pol.pin_above
    if needs_pin and not pin:
        raise Refusal("pin_required", above=pol.pin_above)
    offline = ("floor_limit_offline", {"floor": pol.floor_limit}) if total > pol.floor_limit else \
        ("pin_offline", {"above": pol.pin_above})
    try:
        client.sync_once(h, transport, now=now)
        answer = client.authorise(h, conn, transport, purpose="redeem", card_text=card_text,
                                  card_id=plan.claim.card_id, card_version=plan.claim.version,
                                  pin=pin if needs_pin else None, points=total, now=now)
    except client.Unreachable:
        raise Refusal(offline[0], **offline[1]) from None
    except client.Refused as exc:
        if exc.code == "pin_wrong":
            raise Refusal("pin_wrong", left=exc.data.get("left", 0)) from None
        if exc.code == "pin_locked":
            raise Refusal("pin_locked", minutes=max(1, (int(exc.data.get("retry_after", 60)) + 59) // 60)) from None
        if exc.code == "pin_required":
            raise Refusal("pin_required", above=pol.pin_above) from None
        if exc.code == "insufficient":
            raise Refusal("insufficient", need=total, have=exc.data.get("have", 0)) from None
        raise Refusal(exc.code, zh=exc.zh, en=exc.en) from None
    return answer["auth"]


def _plan(conn, card_text: str, basket, now: dt.datetime, *, authorised: bool) -> _Plan:
    """Every offline check of a basket (:func:`bank.policy.redemption_breach` and the rest);
    ``authorised``: the office authorised it online, so the floor and PIN limits are met."""
    pol = _policy(conn)
    _sync_age_ok(conn, now, pol)
    claim, account_id = _check_card(conn, card_text)
    acct = _account(conn, account_id)
    offers = []
    for offer_id, qty in basket:
        offer = replica.offer(conn, offer_id)
        if offer is None:
            raise Refusal("unknown_offer")
        offers.append((offer, qty, offer[2] * qty))
    points = sum(p for _o, _q, p in offers)
    closed = _closed(conn, now)
    if closed is not None:
        raise closed
    used = replica.redeemed_today(conn, claim.card_id, clock.local_date(now).isoformat())
    unsynced = replica.pending_summary(conn)[1]
    breach = rules.redemption_breach(pol, points=points, used_today=used, unsynced=unsynced,
                                     has_pin=acct.has_pin, authorised=authorised)
    if breach == "floor_limit":
        raise Refusal("floor_limit_offline", floor=pol.floor_limit)
    if breach == "pin_required":
        raise Refusal("pin_required", above=pol.pin_above)
    if breach == "daily_cap":
        raise Refusal("daily_cap", used=used, cap=pol.per_card_daily_cap)
    if breach == "unsynced_cap":
        raise Refusal("unsynced_cap", used=unsynced, cap=pol.unsynced_cap)
    have = replica.available(conn, account_id)   # points held by an open objection are not spendable
    if have < points:
        held = replica.held(conn, account_id)
        if held:
            raise Refusal("insufficient_held", need=points, have=have, held=held)
        raise Refusal("insufficient", need=points, have=have)
    return _Plan(pol, claim, account_id, acct.masked_name, acct.has_pin, tuple(offers), points, have)


def _record(h, conn, plan: _Plan, card_text: str, auth: str | None, now: dt.datetime) -> Receipt:
    """Write one redemption event per line of a checked basket; the receipt."""
    items = []
    for offer, qty, line_points in plan.offers:
        event = replica.record(conn, "redemption",
                               {"card": plan.claim.card_id, "card_version": plan.claim.version, "offer": offer[0],
                                "qty": qty, "points": line_points, "receipt": items[0].seq if items else None,
                                "proof": "", "auth": auth},
                               now=now, card_id=plan.claim.card_id, account_id=plan.account_id, points=line_points,
                               card_text=card_text)
        items.append(ReceiptLine(event["seq"], offer[0], offer[1], qty, line_points))
    first = items[0].seq
    replica.add_receipt(conn, [i.seq for i in items])
    merchant = (replica.state(conn, "merchant") or {}).get("name", "")
    return Receipt(first, h.device_id, merchant, plan.claim.card_id, plan.name, tuple(items), plan.points,
                   plan.have - plan.points, clock.local(now).strftime("%Y-%m-%d %H:%M"), False)


def _push_quietly(h: home_mod.Home, transport, now: dt.datetime) -> bool:
    """Push at once if the office answers quickly; the event stays in the outbox otherwise."""
    conn = h.replica()
    try:
        client.push(h, conn, transport, now=now, lock_wait=QUIET_LOCK_WAIT)
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
            seqs = replica.receipt_seqs(conn, seq)
            rows = [replica.event_row(conn, s) for s in seqs]
            if any(r is None for r in rows):
                raise Refusal("void_unknown")
            if any(r[1] != "redemption" for r in rows):
                raise Refusal("void_unknown" if len(rows) == 1 else "void_not_redemption")
            done = set(seqs) & replica.reversed_seqs(conn)
            if len(done) == len(seqs):
                raise Refusal("void_done")
            pol = _policy(conn)
            if rules.void_too_late(pol, clock.from_text(rows[0][2]), now):
                raise Refusal("void_too_late", minutes=pol.void_minutes)
            reversals = [replica.record(conn, "reversal", {"reverses_seq": r[0], "reason": reason[:200]}, now=now,
                                        card_id=r[3], account_id=r[4], points=-r[5])["seq"]
                         for r in rows if r[0] not in done]
    finally:
        conn.close()
    pushed = _push_quietly(h, transport or client.transport_for(h, ONLINE_TIMEOUT), now)
    return {"seq": reversals[0], "reverses_seq": seqs[0], "reversals": reversals, "voided": seqs,
            "points": sum(r[5] for r in rows if r[0] not in done), "pushed": pushed}


def status(h: home_mod.Home, *, now: dt.datetime | None = None) -> dict:
    """Last sync, pending events, and what the policy leaves this tablet today.

    ``can_redeem`` is False with ``cannot_redeem`` (a stable code) and its sentence when this
    device may not redeem now: a kiosk (it never redeems), a replica found behind or forked, never
    synced, synced too long ago, put on hold by the office, or outside the shop's redemption hours
    (``hours`` and ``opens_next`` say when it opens).
    """
    now = now or clock.now_utc()
    conn = h.replica()
    try:
        pol = _policy(conn)
        last = replica.state(conn, "last_pull_at")
        count, points = replica.pending_summary(conn)
        today = clock.local_date(now).isoformat()
        day = replica.redemptions_on(conn, today)
        age_h = None if last is None else round((now - clock.from_text(last)).total_seconds() / 3600, 2)
        fault = replica.fault(conn)
        if h.config.get("kind") != "tablet":
            why = Refusal("not_a_tablet")
        elif fault is not None:
            why = fault
        elif last is None:
            why = Refusal("not_synced")
        elif age_h > pol.max_sync_age_hours:
            why = Refusal("sync_too_old", hours=pol.max_sync_age_hours)
        elif replica.state(conn, "device_on_hold"):
            why = Refusal("device_on_hold")
        else:
            why = _closed(conn, now)
        windows = _windows(conn)
        return {
            "device_id": h.device_id, "kind": h.config.get("kind"),
            "merchant": (replica.state(conn, "merchant") or {}).get("name"),
            "server": h.server, "last_sync_at": last, "last_sync_age_hours": age_h,
            "server_time_at_last_sync": replica.state(conn, "server_time"),
            "pending_events": count, "pending_points": points,
            "acked_seq": replica.state(conn, "acked_seq", 0),
            "last_seq": replica.last_seq(conn),
            "today_redemptions": day[0], "today_points": day[1],
            "unsynced_points_left": max(0, pol.unsynced_cap - points),
            "sync_hours_left": None if age_h is None else max(0.0, round(pol.max_sync_age_hours - age_h, 2)),
            "per_card_daily_cap": pol.per_card_daily_cap, "floor_limit": pol.floor_limit,
            "deny_list_version": replica.state(conn, "deny_version"),
            "accounts": replica.account_count(conn),
            "on_hold": bool(replica.state(conn, "device_on_hold")),
            "hours": rules.hours_text(windows) if windows else None,    # None: no hours set, always open
            "window_open": rules.open_at(windows, now),
            "opens_next": None if (opens := rules.next_opening(windows, now)) is None else clock.to_text(opens),
            "can_redeem": why is None,
            "cannot_redeem": None if why is None else {"code": why.code, "zh": why.zh, "en": why.en},
            "fault": None if fault is None else {"code": fault.code, "zh": fault.zh, "en": fault.en},
        }
    finally:
        conn.close()
