"""What the merchant tablet decides, screen by screen, in plain Python (no Kivy).

The Kivy screens only show :class:`TerminalFlow`'s state and forward taps to its methods; tests
drive this object directly through every path. All checks on a card and a redemption are the
tablet engine's (:mod:`terminal.redeem`); the flow only sequences them, keeps the basket, counts
PIN attempts, and turns every refusal into a sentence with what to do next.

Threading: the app calls the methods that may touch the network (:meth:`confirm`, :meth:`void`,
:meth:`enrol`) on a worker thread and reads the resulting state on the UI thread afterwards.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from bank import accounts, clock, devices, policy
from bank.errors import BankError
from device import enrolment
from device.syncing import Syncer
from sync import client, home as home_mod, replica
from sync.faults import DeviceFault
from terminal import redeem as engine

SETTINGS_FILE = "terminal.json"
RECEIPT_SECONDS = 6           # the receipt goes back to scanning by itself after this
ENROL_PREFIX = devices.ENROL_QR_PREFIX   # enrolment QR text: MPB-ENROL:<office URL>#<code>#<fingerprint>
NEAR_CAP_SHARE = 0.8          # warn when a card used this share of its daily cap here


def N_(text: str) -> str:
    """Mark a msgid for extraction; translated when shown (see device.ui.i18n)."""
    return text


class Step(enum.StrEnum):
    ENROL = "enrol"
    SCAN = "scan"
    CARD = "card"
    OFFERS = "offers"
    CONFIRM = "confirm"
    RECEIPT = "receipt"
    TODAY = "today"
    SYNC = "sync"
    SETTINGS = "settings"


@dataclass(frozen=True)
class Message:
    """A sentence for the shop owner: a Chinese msgid (translated by the UI) or zh/en given."""

    zh: str
    en: str | None = None       # None: translate zh through the catalog
    values: tuple = ()          # (name, value) pairs for str.format
    level: str = "info"         # info, warn, error
    code: str = ""              # stable: what tests and the screens decide on, never the Chinese text

    def render(self, translate: Callable[[str], str] = lambda s: s, lang: str = "zh") -> str:
        """The sentence in ``lang``."""
        text = self.zh if lang.startswith("zh") or self.en is None else self.en
        if self.en is None:
            text = translate(self.zh)
        return text.format(**dict(self.values))


def msg(zh: str, level: str = "info", code: str = "", **values) -> Message:
    """A catalog message with format values."""
    return Message(zh, None, tuple(values.items()), level, code)


def from_error(exc: BankError, next_step: str | None = None) -> Message:
    """An engine refusal, with what to do next when the engine's sentence does not say it."""
    zh, en = exc.zh, exc.en
    if next_step:
        zh, en = zh + next_step, en
    return Message(zh, en, (), "error", exc.code)


# A card whose account has no PIN is spent with no check of who holds it (the PIN is asked only
# of accounts that have one): the shop owner is the only check, so the card screen says so.
NO_PIN = "card_no_pin"


# What to do next, for refusals whose sentence does not already say it.
NEXT_STEP = {
    "insufficient": "请减少数量或换一个项目。",
    "insufficient_held": "请减少数量,或请储户到社区办公室了解异议进度。",
    "daily_cap": "请明天再来,或减少数量。",
    "window_closed": "请在兑换时间内再来。",
    "unknown_offer": "请同步后重试。",
    "pin_wrong": "请储户重新输入。",
    "account_inactive": "请储户到社区办公室咨询。",
    "staff_card": "请储户出示自己的储户卡。",
    "bad_quantity": "",
}


@dataclass(frozen=True)
class CardView:
    card_text: str
    card_id: str
    account_id: int
    name: str                  # masked, e.g. 张*明
    available: int             # spendable on this tablet now
    used_today: int            # on this tablet, today
    daily_cap: int
    needs_pin_above: int | None    # total above which the PIN is asked; None: no PIN on the account
    warnings: tuple[Message, ...] = ()
    household: str | None = None   # 'household' or 'single' (None: not known on this tablet yet)
    held: int = 0                  # under an open objection, already left out of ``available``
    expiring: tuple[tuple[str, int], ...] = ()   # (last valid day, points) within 60 days
    closed: Message | None = None  # outside the shop's redemption hours: its hours, when it opens next

    def household_message(self) -> Message | None:
        """家庭账户 / 个人账户, or None when this tablet does not know yet."""
        if self.household is None:
            return None
        if self.household == "single":
            return msg("个人账户")
        return msg("家庭账户")

    @property
    def left_today(self) -> int:
        if self.closed is not None:
            return 0
        return max(0, min(self.available, self.daily_cap - self.used_today))


@dataclass(frozen=True)
class OfferView:
    offer_id: int
    name: str
    points: int
    max_qty: int               # how many this card can still take today here (0: none)


@dataclass(frozen=True)
class DayLine:
    """One receipt of the day (a basket: one or more offers)."""

    seq: int                   # the receipt number (its first event)
    at: str                    # local HH:MM
    card_id: str
    name: str
    offer: str                 # 小面 × 1、豌杂面 × 2
    qty: int                   # all lines together
    points: int
    voided: bool
    can_void: bool
    synced: bool
    seqs: tuple[int, ...] = ()
    office: str = ""           # the office's decision when it did not book it: open, posted, rejected
    office_reason: str = ""    # why (the rule it broke, or the council's reason for a rejection)


@dataclass
class Settings:
    language: str = "zh"
    camera: str = "0"
    staff_pin_hash: str | None = None

    @classmethod
    def load(cls, path: Path) -> "Settings":
        """Read settings; a missing or unreadable file gives the defaults."""
        try:
            data = json.loads(path.read_text("utf-8"))
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except (OSError, ValueError, TypeError):
            return cls()

    def save(self, path: Path) -> None:
        home_mod.write_json(path, vars(self))


class _NoNetwork:
    """A transport for the engine's immediate push: the background syncer pushes instead, so the
    receipt never waits for the network (the floor-limit path gets the real transport)."""

    def post(self, path, body, headers):
        raise client.Unreachable("稍后由后台同步上传。", "deferred to the background sync")


@dataclass
class TerminalFlow:
    home_dir: Path
    now: Callable[[], dt.datetime] = clock.now_utc
    transport: object = None          # None: HTTP to the enrolled office
    syncer_factory: Callable = None   # home -> Syncer
    camera: str | None = None         # from the command line; overrides the saved setting

    step: Step = Step.SCAN
    home: home_mod.Home | None = None
    card: CardView | None = None
    offers: list[OfferView] = field(default_factory=list)
    basket: dict[int, int] = field(default_factory=dict)   # offer_id -> qty, in the order added
    room: int = 0                             # points this card may still take here today (all caps)
    unsynced_room: int = 0                    # what the tablet's unsynced cap still allows
    pin: str = ""
    pin_asked: bool = False
    receipt: engine.Receipt | None = None
    message: Message | None = None            # the one-line banner on the current screen
    busy: bool = False
    settings_unlocked: bool = False
    syncer: Syncer | None = None

    def __post_init__(self):
        self.home_dir = Path(self.home_dir)
        self._lock = threading.Lock()
        self.settings = Settings.load(self.home_dir / SETTINGS_FILE)
        if self.camera is not None:
            self.settings.camera = str(self.camera)
        self.fault: Message | None = None      # the home could not be opened (damaged): see enrol
        try:
            self.home = home_mod.open_home(self.home_dir)
        except home_mod.HomeError:             # not enrolled yet
            self.home = None
        except BankError as exc:                # damaged, another device's: say so, offer to re-enrol
            self.home, self.fault = None, from_error(exc)
            self.message = self.fault
        self.step = Step.SCAN if self.home else Step.ENROL
        if self.home:
            self._start_syncer()

    # --- basics ---------------------------------------------------------------------------------

    @property
    def language(self) -> str:
        return self.settings.language

    def _start_syncer(self) -> None:
        if self.syncer_factory is not None:
            self.syncer = self.syncer_factory(self.home)
            return
        sync_fn = None
        if self.transport is not None:   # tests and benchmarks: the office in-process
            sync_fn = lambda h: client.sync_once(h, self.transport, now=self.now())  # noqa: E731
        self.syncer = Syncer(self.home, sync_fn=sync_fn, now=self.now)

    def _replica(self) -> sqlite3.Connection:
        return self.home.replica()

    def _policy(self):
        return engine.policy(self.home)

    def status(self) -> dict:
        """The engine's status of this tablet (last sync, pending, limits left)."""
        return engine.status(self.home, now=self.now())

    def fault_message(self) -> Message | None:
        """Why this tablet must not redeem at all, or None: its home could not be opened, the
        background sync found the replica damaged, or the replica is behind or forked."""
        if self.fault is not None or self.home is None:
            return self.fault
        state = self.syncer.state if self.syncer else None
        if state is not None and state.fault:
            code, zh, en = state.fault
            return Message(zh, en, (), "error", code)
        try:
            conn = self._replica()
        except BankError as exc:                 # the file went missing or was replaced meanwhile
            return from_error(exc)
        try:
            found = replica.fault(conn)
        finally:
            conn.close()
        return None if found is None else from_error(found)

    def merchant_name(self) -> str:
        conn = self._replica()
        try:
            return (replica.state(conn, "merchant") or {}).get("name", "")
        finally:
            conn.close()

    def go(self, step: Step) -> None:
        """Navigate; leaving a customer's screens forgets the customer."""
        if step in (Step.SCAN, Step.TODAY, Step.SYNC, Step.SETTINGS):
            self._forget_customer()
        if step != Step.SETTINGS:
            self.settings_unlocked = False
        self.message = None
        self.step = step

    def _forget_customer(self) -> None:
        self.card, self.offers, self.basket, self.receipt, self.room = None, [], {}, None, 0
        self.pin, self.pin_asked = "", False

    # --- enrolment ------------------------------------------------------------------------------

    def enrol(self, server: str, code: str, staff_pin: str = "", fingerprint: str | None = None) -> bool:
        """Enrol with the office; True and the scan screen, or False and a message. A typed code
        carries a check of the office certificate, a scanned QR (``fingerprint``) all of it."""
        server, code = server.strip(), code.strip()
        if not server or not code:
            self.message = msg("请填写办公室地址和登记码(或扫描登记二维码)。", "error")
            return False
        if not server.startswith(("http://", "https://")):
            server = "https://" + server
        if staff_pin:
            try:       # before the code is spent: a PIN refused afterwards would burn it
                accounts.check_pin_rule(staff_pin)
            except BankError as exc:
                self.message = from_error(exc)
                return False
        if self.fault is not None and self.home_dir.exists():
            self._set_aside()          # the damaged home is kept, never deleted, for the office
        try:
            h, pulled = enrolment.enroll(self.home_dir, server, code, kind="tablet", transport=self.transport,
                                         fingerprint=fingerprint)
        except client.Unreachable:
            self.message = msg("无法连接社区办公室。请检查网络和办公室地址后重试。", "error")
            return False
        except BankError as exc:
            self.message = from_error(exc, "请向社区办公室重新申请登记码。")
            return False
        self.home, self.fault = h, None
        if staff_pin:
            self.settings.staff_pin_hash = accounts.hash_pin(staff_pin)
        self.settings.save(self.home_dir / SETTINGS_FILE)
        self._start_syncer()
        self.step = Step.SCAN
        self.message = (msg("登记成功:{merchant}。", merchant=self.merchant_name()) if pulled else
                        msg("已登记,但首次同步未完成。联网后请点“立即同步”。", "warn"))
        return True

    def enrol_qr(self, text: str, staff_pin: str = "") -> bool:
        """Enrol from the office's enrolment QR text (``MPB-ENROL:<url>#<code>#<fingerprint>``)."""
        try:
            server, code, fingerprint = devices.parse_enrol_qr(text)
        except BankError:
            self.message = msg("这不是登记二维码。请扫描社区办公室打印的登记码,或手工输入。", "error")
            return False
        return self.enrol(server, code, staff_pin, fingerprint)

    # --- a card is shown ------------------------------------------------------------------------

    def scan(self, card_text: str) -> bool:
        """A QR text was read on the scan screen: show the card, or say why it is refused."""
        if self.step not in (Step.SCAN, Step.CARD, Step.RECEIPT):
            return False
        self._forget_customer()
        now = self.now()
        fault = self.fault_message()
        if fault is not None:
            self.message, self.step = fault, Step.SCAN
            return False
        try:
            view = engine.inspect(self.home, card_text, now=now)
        except engine.Refusal as exc:
            self.message = from_error(exc, {"not_synced": "请联网后点“立即同步”。"}.get(exc.reason)
                                      or NEXT_STEP.get(exc.reason))
            self.step = Step.SCAN
            return False
        except DeviceFault as exc:
            self.message, self.step = from_error(exc), Step.SCAN
            return False
        except sqlite3.DatabaseError as exc:
            self.message, self.step = from_error(DeviceFault("replica_damaged", detail=str(exc))), Step.SCAN
            return False
        pol = view.policy
        conn = self._replica()
        try:
            offers = conn.execute("SELECT offer_id, name, points FROM offers ORDER BY points, offer_id").fetchall()
        finally:
            conn.close()
        closed = None if view.closed is None else from_error(view.closed)
        self.card = CardView(card_text, view.card_id, view.account_id, view.name, view.available, view.used_today,
                             pol.per_card_daily_cap, pol.pin_above if view.has_pin else None,
                             tuple(self._card_warnings(view)), view.household, view.held,
                             view.expiring, closed)
        self.unsynced_room = max(0, pol.unsynced_cap - view.unsynced_points)
        room = self.room = min(self.card.left_today, self.unsynced_room)
        self.offers = [OfferView(o[0], o[1], o[2], min(99, room // o[2]) if o[2] > 0 else 0) for o in offers]
        self.step, self.message = Step.CARD, None   # an earlier card's refusal is not about this one
        return True

    @staticmethod
    def _card_warnings(view: engine.CardView) -> list[Message]:
        """What the shop owner should tell the customer before choosing, most pressing first."""
        cap = view.policy.per_card_daily_cap
        out = []
        if view.closed is not None:    # nothing can be chosen now: say so first, with when to come back
            out.append(Message(view.closed.zh, view.closed.en, (), "warn", "window_closed"))
        if view.held:
            out.append(msg("有 {held} 分在异议处理中,裁定前不能兑换,\n未计入可用积分。", "warn",
                           held=view.held))
        if view.used_today >= cap * NEAR_CAP_SHARE:
            out.append(msg("这张卡今天在本店已兑换 {used} 分,接近每日上限 {cap} 分。", "warn",
                           used=view.used_today, cap=cap))
        for day, points in view.expiring:
            out.append(msg("有 {points} 分将于 {day} 到期,请提醒储户尽快使用。", "warn", points=points, day=day))
        if view.available <= 0:
            out.append(msg("这张卡没有可用积分。", "warn"))
        if not view.has_pin:    # true of this card every time: after what is true only today
            out.append(msg("此卡未设密码,兑换时不核对身份:\n请确认持卡人是本户成员。", "warn", code=NO_PIN))
        return out

    def to_offers(self) -> None:
        if self.card is not None:
            self.step, self.message = Step.OFFERS, None

    # --- basket ---------------------------------------------------------------------------------

    def offer(self, offer_id: int) -> OfferView | None:
        return next((o for o in self.offers if o.offer_id == offer_id), None)

    def line_max(self, offer_id: int) -> int:
        """How many of an offer this basket line may hold, given the other lines and the caps."""
        o = self.offer(offer_id)
        if o is None or o.points <= 0:
            return 0
        others = self.total - o.points * self.basket.get(offer_id, 0)
        return max(0, min(99, (self.room - others) // o.points))

    def offer_note(self, offer_id: int) -> Message:
        """What an offer's tile says under its price: how many more may be added, or why none can
        (closed now, no points, too few points and how many more are needed, the card's daily cap
        here, the tablet's unsynced cap), given the basket's other lines."""
        o = self.offer(offer_id)
        most = self.line_max(offer_id)
        if o is None or self.card is None:
            return msg("")
        in_line = self.basket.get(offer_id, 0)
        if most > in_line:
            return msg("今天最多 {n} 份", code="offer_max", n=most)
        if self.card.closed is not None:
            return msg("现在不在兑换时间", "warn", code="window_closed")
        if self.card.available <= 0:
            return msg("没有可用积分", "warn", code="no_points")
        others = self.total - o.points * in_line + o.points * most     # the basket with this line at most
        need = others + o.points                                       # ... and one more of it
        limits = [(self.card.available, "insufficient"),
                  (self.card.daily_cap - self.card.used_today, "daily_cap"), (self.unsynced_room, "unsynced_cap")]
        have, why = min(limits, key=lambda x: x[0])
        if why == "insufficient":
            return msg("积分不足,还差 {n} 分", "warn", code="insufficient", n=need - have)
        if why == "daily_cap":
            return msg("已到本店今天每卡上限", "warn", code="daily_cap")
        return msg("本机未上传额度已满,请先同步", "warn", code="unsynced_cap")

    def choose(self, offer_id: int) -> None:
        """Tap an offer tile: add one of it to the basket (a new line, or one more on its line)."""
        self.set_qty(offer_id, self.basket.get(offer_id, 0) + 1)

    add = choose

    def inc(self, offer_id: int) -> None:
        self.set_qty(offer_id, self.basket.get(offer_id, 0) + 1)

    def dec(self, offer_id: int) -> None:
        """One fewer; the line goes at zero."""
        if offer_id in self.basket:
            self.set_qty(offer_id, self.basket[offer_id] - 1)

    def remove(self, offer_id: int) -> None:
        self.set_qty(offer_id, 0)

    def set_qty(self, offer_id: int, qty: int) -> None:
        """Set a line's quantity, kept within what is still available today with the other lines."""
        o = self.offer(offer_id)
        if o is None:
            return
        if qty <= 0:
            self.basket.pop(offer_id, None)
            self.message = None
            return
        most = self.line_max(offer_id)
        if most == 0:
            self.basket.pop(offer_id, None)
            note = self.offer_note(offer_id)
            self.message = self.card.closed if note.code == "window_closed" and self.card else note
            return
        if qty > most:
            qty = most
            self.message = msg("最多还能兑换 {n} 份“{offer}”。", "warn", n=most, offer=o.name)
        else:
            self.message = None
        self.basket[offer_id] = qty

    def change_qty(self, delta: int, offer_id: int | None = None) -> None:
        """+/- on a line (the last line added when none is named)."""
        if offer_id is None:
            if not self.basket:
                return
            offer_id = next(reversed(self.basket))
        if offer_id in self.basket:
            self.set_qty(offer_id, self.basket[offer_id] + delta)

    def lines(self) -> list[tuple[OfferView, int, int]]:
        """The basket's lines: (offer, qty, points), in the order added."""
        out = []
        for offer_id, qty in self.basket.items():
            o = self.offer(offer_id)
            if o is not None:
                out.append((o, qty, o.points * qty))
        return out

    @property
    def total(self) -> int:
        return sum(points for _o, _q, points in self.lines())

    @property
    def left_after(self) -> int:
        """What this card could still take here today once this basket is redeemed."""
        return max(0, self.room - self.total)

    @property
    def balance_after(self) -> int:
        return (self.card.available if self.card else 0) - self.total

    @property
    def pin_needed(self) -> bool:
        return bool(self.card and self.card.needs_pin_above is not None and self.total > self.card.needs_pin_above)

    def to_confirm(self) -> None:
        if self.basket:
            self.pin, self.pin_asked = "", self.pin_needed
            self.step, self.message = Step.CONFIRM, None

    # --- PIN pad --------------------------------------------------------------------------------

    def pin_key(self, key: str) -> None:
        """A PIN pad key: a digit, 'back' or 'clear'."""
        if key == "back":
            self.pin = self.pin[:-1]
        elif key == "clear":
            self.pin = ""
        elif key.isdigit() and len(self.pin) < accounts.PIN_LENGTHS[-1]:
            self.pin += key

    # --- the redemption -------------------------------------------------------------------------

    def confirm(self) -> bool:
        """Confirm tapped: redeem through the engine; receipt, or a refusal on the same screen."""
        if self.step != Step.CONFIRM or not self.basket or self.card is None or self.busy:
            return False
        if self.pin_asked and not self.pin:
            self.message = msg("请储户输入密码。", "warn")
            return False
        fault = self.fault_message()
        if fault is not None:
            self._forget_customer()
            self.message, self.step = fault, Step.SCAN
            return False
        lines = list(self.basket.items())
        # Above the floor limit, or above the PIN threshold of an account with a PIN, the engine
        # must reach the office; below them the receipt must not wait for the network, so the
        # background syncer pushes right after.
        if policy.needs_authorisation(self._policy(), self.total, self.card.needs_pin_above is not None):
            transport = self.transport or client.transport_for(self.home, engine.ONLINE_TIMEOUT)
        else:
            transport = _NoNetwork()
        self.busy = True
        try:
            receipt = engine.redeem_basket(self.home, self.card.card_text, lines, self.pin or None,
                                           now=self.now(), transport=transport)
        except engine.Refusal as exc:
            return self._refused(exc)
        except DeviceFault as exc:
            self._forget_customer()
            self.message, self.step = from_error(exc), Step.SCAN
            return False
        except (BankError, sqlite3.Error, OSError) as exc:
            self.message = Message("本机保存失败,这笔兑换没有完成。请重试;如果反复出现,请联系社区办公室。",
                                   f"Saving failed; this redemption did not happen. Try again. ({exc})",
                                   (), "error")
            return False
        finally:
            self.busy = False
        self.receipt, self.step, self.message = receipt, Step.RECEIPT, None
        self.pin = ""
        if self.syncer is not None:
            self.syncer.request("after_redemption")
        return True

    def _refused(self, exc: engine.Refusal) -> bool:
        if exc.reason == "pin_required":
            self.pin_asked, self.pin = True, ""
            self.message = msg("这笔兑换需要储户密码,请储户输入。", "warn")
            return False
        if exc.reason == "pin_wrong":     # the office counts the tries (5 wrong lock the card)
            self.pin = ""
            self.message = from_error(exc)
            return False
        if exc.reason == "pin_locked":
            self._forget_customer()
            self.step = Step.SCAN
            self.message = from_error(exc)
            return False
        self.message = from_error(exc, NEXT_STEP.get(exc.reason))
        if exc.reason.startswith("card_") or exc.reason in ("account_inactive", "card_on_hold", "staff_card",
                                                            "not_synced", "sync_too_old"):
            self._forget_customer()
            self.step = Step.SCAN
        return False

    def cancel(self) -> None:
        """Cancel the customer and go back to scanning."""
        self.go(Step.SCAN)

    def receipt_done(self) -> None:
        self.go(Step.SCAN)

    # --- today and void -------------------------------------------------------------------------

    def today(self) -> list[DayLine]:
        """Today's receipts on this tablet, newest first, with which may still be voided."""
        now = self.now()
        pol = engine.policy(self.home)
        conn = self._replica()
        try:
            names = dict(conn.execute("SELECT account_id, masked_name FROM accounts"))
            voided = {json.loads(r[0])["body"]["reverses_seq"] for r in conn.execute(
                "SELECT event FROM outbox WHERE kind = 'reversal'")}
            rows = conn.execute("SELECT o.seq, coalesce(r.receipt, o.seq), o.created_at, o.card_id, o.account_id, "
                                "o.points, o.event, o.acked FROM outbox o LEFT JOIN tablet_receipt_lines r "
                                "ON r.seq = o.seq WHERE o.kind = 'redemption' AND o.local_day = ? ORDER BY o.seq",
                                (clock.local_date(now).isoformat(),)).fetchall()
            offer_names = dict(conn.execute("SELECT offer_id, name FROM offers"))
            decisions = {r[0]: (r[1], r[3] if r[1] == "rejected" and r[3] else r[2])
                         for r in conn.execute("SELECT seq, status, rule_text, reason FROM decisions")}
        finally:
            conn.close()
        receipts: dict[int, list] = {}
        for seq, receipt, *rest in rows:
            receipts.setdefault(receipt, []).append((seq, *rest))
        out = []
        for number, events in sorted(receipts.items(), reverse=True):
            at = clock.from_text(events[0][1])
            bodies = [json.loads(e[5])["body"] for e in events]
            seqs = tuple(e[0] for e in events)
            is_voided = all(seq in voided for seq in seqs)
            out.append(DayLine(
                number, clock.local(at).strftime("%H:%M"), events[0][2], names.get(events[0][3], "?"),
                "、".join(f"{offer_names.get(b.get('offer'), '#' + str(b.get('offer')))} × {b.get('qty', 1)}"
                         for b in bodies),
                sum(b.get("qty", 1) for b in bodies), sum(e[4] for e in events), is_voided,
                not is_voided and now - at <= dt.timedelta(minutes=pol.void_minutes),
                all(e[6] for e in events), seqs, *decisions.get(seqs[0], ("", ""))))
        return out

    def day_totals(self) -> tuple[int, int]:
        """(receipts, points) today, voided and rejected ones left out."""
        lines = [x for x in self.today() if not x.voided and x.office != "rejected"]
        return len(lines), sum(x.points for x in lines)

    def void(self, seq: int) -> bool:
        """Void one of today's receipts, every line of it (reversal events); a message either way."""
        try:
            out = engine.void(self.home, seq, now=self.now(), transport=_NoNetwork())
        except engine.Refusal as exc:
            self.message = from_error(exc)
            return False
        self.message = msg("已撤销第 {seq} 号兑换,退回 {points} 分。", seq=out["reverses_seq"], points=out["points"])
        if self.syncer is not None:
            self.syncer.request("after_void")
        return True

    def _set_aside(self) -> None:
        stamp = clock.local(self.now()).strftime("%Y%m%d-%H%M%S")
        os.replace(self.home_dir, self.home_dir.with_name(f"{self.home_dir.name}.replaced-{stamp}"))

    # --- sync -----------------------------------------------------------------------------------

    def sync_now(self) -> None:
        if self.syncer is not None:
            self.syncer.request("sync_now")
            self.message = msg("正在同步……")

    def sync_line(self) -> Message:
        """The always-visible sync badge: online, or offline since when, and events waiting."""
        fault = self.fault_message()
        if fault is not None:      # the whole sentence is on the sync screen and on every scan
            return msg("本机已停止兑换,原因见“同步”页", "error", code=fault.code)
        s = self.syncer.state if self.syncer else None
        pending = self.status()["pending_events"] if self.home else 0
        if s is None or s.online is None:
            text = msg("正在连接办公室 · 待上传 {n} 条", n=pending)
        elif s.running:
            text = msg("正在同步 · 待上传 {n} 条", n=pending)
        elif s.online:
            text = msg("在线 · 待上传 {n} 条", n=pending)
        else:
            since = clock.local(clock.from_text(s.offline_since)).strftime("%m-%d %H:%M")
            text = msg("离线(自 {since})· 待上传 {n} 条", "warn", since=since, n=pending)
        return text

    # --- settings -------------------------------------------------------------------------------

    def unlock_settings(self, staff_pin: str) -> bool:
        """Open settings with the staff PIN; a tablet enrolled without one opens directly."""
        h = self.settings.staff_pin_hash
        if h is None or accounts.check_pin(h, staff_pin):
            self.settings_unlocked, self.step, self.message = True, Step.SETTINGS, None
            return True
        self.message = msg("店员密码不正确。", "error")
        return False

    def set_language(self, lang: str) -> None:
        if lang in ("zh", "en"):
            self.settings.language = lang
            self._save_settings()

    def set_camera(self, camera: str) -> None:
        self.settings.camera = camera
        self._save_settings()

    def set_server(self, server: str) -> bool:
        """Change the office address (e.g. the office moved); saved in the device config."""
        server = server.strip().rstrip("/")
        try:
            client.check_server_address(server)
        except BankError:
            self.message = msg("办公室地址须以 https:// 开头(如 https://192.168.1.10:8080)。", "error")
            return False
        self.home = self.home.with_config(server=server)
        if self.syncer is not None:
            self.syncer.home = self.home
        self.message = msg("办公室地址已保存。")
        return True

    def _save_settings(self) -> None:
        if self.home is not None:
            self.settings.save(self.home_dir / SETTINGS_FILE)

    def reenrol(self) -> bool:
        """Set this home aside (never deleted) and go to enrolment; only when nothing is waiting,
        or when this tablet must not redeem any more (behind, forked, damaged): its events can
        never be acknowledged then, and the set-aside directory keeps them for the office."""
        fault = self.fault_message()
        pending = self.status()["pending_events"] if fault is None else 0
        if pending:
            self.message = msg("还有 {n} 条兑换没有上传,请先联网同步,再重新登记。", "error", n=pending)
            return False
        if self.syncer is not None:
            self.syncer.stop(0.5)
        self._set_aside()
        self.home, self.syncer, self.fault = None, None, None
        self.settings = Settings(language=self.settings.language, camera=self.settings.camera)
        self.step, self.settings_unlocked = Step.ENROL, False
        self.message = msg("旧的登记资料已另存。请扫描新的登记码。")
        return True
