"""What the merchant tablet decides, screen by screen, in plain Python (no Kivy).

The Kivy screens only show :class:`TerminalFlow`'s state and forward taps to its methods; tests
drive this object directly through every path. All checks on a card and a redemption are the
tablet engine's (:mod:`terminal.redeem`); the flow only sequences them, keeps the basket, counts
PIN attempts, and turns every refusal into a sentence with what to do next.

Its parts by concern live beside it and are mixed into the one class the screens use: the basket
(:mod:`terminal.basket`), enrolment (:mod:`terminal.enrolment`), settings
(:mod:`terminal.settings`), today's receipts and voids (:mod:`terminal.today`); sentences are
the steps :mod:`terminal.steps`; sentences, the PIN pad and the base flow that opens the
home and starts the syncer are the devices' flow kit (:mod:`device.flowkit`).

Threading: the app calls the methods that may touch the network (:meth:`confirm`, :meth:`void`,
:meth:`enrol`) on a worker thread and reads the resulting state on the UI thread afterwards.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from bank import clock, devices, policy
from bank.errors import BankError
from device.flowkit import DeviceFlow, Message, from_error, msg, pin_after
from device.syncing import Syncer
from sync import home as home_mod, replica
from sync.faults import DeviceFault

from . import redeem as engine
from .basket import BasketSteps, OfferView
from .enrolment import EnrolmentSteps
from .settings import SETTINGS_FILE, Settings, SettingsSteps
from .steps import Step
from .today import TodaySteps

RECEIPT_SECONDS = 6           # the receipt goes back to scanning by itself after this
ENROL_PREFIX = devices.ENROL_QR_PREFIX   # enrolment QR text: MPB-ENROL:<office URL>#<code>#<fingerprint>
NEAR_CAP_SHARE = 0.8          # warn when a card used this share of its daily cap here


# A card whose account has no PIN is spent with no check of who holds it (the PIN is asked only
# of accounts that have one): the shop owner is the only check, so the card screen says so.
NO_PIN = "card_no_pin"


# What to do next, for refusals whose sentence does not already say it.
NEXT_STEP = {
    "insufficient": "请减少数量或换一个项目。",
    "insufficient_held": "请减少数量,或请储户到社区办公室了解异议进度。",
    "daily_cap": "请明天再来,或减少数量。",
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


@dataclass
class TerminalFlow(BasketSteps, EnrolmentSteps, SettingsSteps, TodaySteps, DeviceFlow):
    """The one flow the screens use; its parts by concern are the basket (:mod:`terminal.basket`),
    enrolment (:mod:`terminal.enrolment`), settings (:mod:`terminal.settings`) and today's
    receipts (:mod:`terminal.today`)."""

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
        self.open_home(self.home_dir)          # a damaged home: say so, offer to re-enrol
        self.message = self.fault
        self.step = Step.SCAN if self.home else Step.ENROL
        if self.home:
            self.start_syncer(factory=self.syncer_factory)

    # --- basics ---------------------------------------------------------------------------------

    @property
    def language(self) -> str:
        return self.settings.language

    def _replica(self) -> sqlite3.Connection:
        return self.home.replica()

    def _policy(self):
        return engine.policy(self.home)

    def status(self) -> dict:
        """The engine's status of this tablet (last sync, pending, limits left)."""
        return engine.status(self.home, now=self.now())

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
            offers = replica.offers(conn)
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

    def to_confirm(self) -> None:
        if self.basket:
            self.pin, self.pin_asked = "", self.pin_needed
            self.step, self.message = Step.CONFIRM, None

    # --- PIN pad --------------------------------------------------------------------------------

    def pin_key(self, key: str) -> None:
        """A PIN pad key: a digit, 'back' or 'clear'."""
        self.pin = pin_after(self.pin, key)

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
            transport = self.office(engine.ONLINE_TIMEOUT)
        else:
            transport = engine.Deferred()
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
        self.request_sync("after_redemption")
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

