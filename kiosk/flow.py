"""What the kiosk decides, screen by screen, in plain Python (no Kivy).

Residents: show the card, see the points, the passbook (deduction details behind the account's
PIN), the convention, where to redeem, the boards and postings, and object to an entry during a
posting period. Review-group members: show the staff card, enter the PIN, find a resident by
card or by building and unit, pick a rule item, confirm (with a second member above the
threshold), see this month's entries and undo their own of today.

Every rule is the kiosk engine's (:mod:`kiosk.residents`, :mod:`kiosk.objections`,
:mod:`kiosk.tips`, :mod:`kiosk.staff`); :class:`KioskFlow`, the one flow the screens use,
sequences the screens, counts PIN tries, keeps the idle timer and turns refusals into sentences.
Its parts by concern live beside it and are mixed in: the resident's screens
(:mod:`kiosk.resident_flow`) and the member's (:mod:`kiosk.staff_flow`); the steps and page sizes
are :mod:`kiosk.steps`; sentences, the PIN pad, paging and the base flow that opens the home and
starts the syncer are the devices' flow kit (:mod:`device.flowkit`). The app shows its state and
forwards taps; tests drive it directly.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable

from bank import clock
from bank.errors import BankError
from device.flowkit import DeviceFlow, Message, from_error, msg, page_count, page_of, pin_after, turned
from device.syncing import Syncer
from sync import replica

from . import refusals, residents, staff, status
from .resident_flow import ResidentSteps
from .staff_flow import StaffSteps
from .steps import (
    BOARD_ROWS_PER_PAGE,
    BOARD_TABS,
    FIND_CHOICES_PER_PAGE,
    IDLE_SECONDS,
    LANGUAGES,
    PAGE_SIZE,
    POSTINGS_PER_PAGE,
    POSTING_ROWS_PER_PAGE,
    RESIDENT_STEPS,
    SHOPS_PER_PAGE,
    SHOP_KINDS_PER_PAGE,
    SMALL_HEIGHT,
    SMALL_PAGE_SIZE,
    STAFF_IDLE_SECONDS,
    STAFF_STEPS,
    Step,
    TIP_CHOICES_PER_PAGE,
)


class KioskFlow(ResidentSteps, StaffSteps, DeviceFlow):
    """The kiosk's state. ``now`` is injectable so tests move time (idle reset, same-day undo)."""

    def __init__(self, home_dir: Path | str | None, *, now: Callable[[], dt.datetime] = clock.now_utc,
                 transport=None, syncer: Syncer | None = None, camera: str = "0"):
        self.now = now
        self.camera = camera
        self.transport = transport
        self.open_home(home_dir)      # the home could not be opened: self.fault, damaged, another device's
        if self.home is not None:
            self.start_syncer(syncer)
        self.conn = self.home.replica() if self.home else None
        self.lang = LANGUAGES[0]
        self.list_rows = PAGE_SIZE
        self.reset()

    # --- state ------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the attract screen with nothing of the last person left."""
        self.step = Step.ATTRACT
        self.message: Message | None = None
        self.account: residents.AccountView | None = None
        self.card: residents.Card | None = None          # the resident's card, while it is being used
        self.pending_card: residents.Card | None = None  # a member's staff card, PIN not yet checked
        self.pin = ""
        self.unlocked = False          # the account's PIN was entered: deduction details shown
        self.page = 0
        self.board_tab = BOARD_TABS[0]
        self.posting_id: int | None = None     # the posting shown on the posting tab
        self.object_entry: int | None = None
        self.tip_category: str | None = None   # 举报: the category chosen, the building not yet
        self.shop_kind: str | None = None      # 到哪里兑换: the kind of shop chosen
        self.shop_id: int | None = None        # ... and the shop shown
        self.member: staff.Member | None = None
        self.pending_member: staff.Member | None = None   # staff card shown, PIN not yet entered
        self.second: staff.Member | None = None
        self.second_pending: staff.Member | None = None
        self.target: residents.AccountView | None = None
        self.building: int | None = None
        self.unit: int | None = None
        self.item: staff.Item | None = None
        self.note = ""
        self.last_touch = self.now()

    def touch(self) -> None:
        self.last_touch = self.now()

    def idle_limit(self) -> int:
        return STAFF_IDLE_SECONDS if self.step in STAFF_STEPS else IDLE_SECONDS

    def tick(self) -> bool:
        """Called every second; True when the idle timer sent the kiosk back to the attract screen
        (or back to Chinese: the next person finds the kiosk in Chinese, wherever it was left)."""
        if (self.now() - self.last_touch).total_seconds() < self.idle_limit():
            return False
        if self.step is Step.ATTRACT:
            if self.lang == LANGUAGES[0]:
                return False
        else:
            self.reset()
        self.lang = LANGUAGES[0]
        return True

    def today(self) -> dt.date:
        return clock.local_date(self.now())

    def set_language(self, lang: str | None = None) -> None:
        """The 中文/English button: the given language, or the other one."""
        self.touch()
        if lang is None:
            lang = LANGUAGES[(LANGUAGES.index(self.lang) + 1) % len(LANGUAGES)]
        self.lang = lang if lang in LANGUAGES else LANGUAGES[0]

    def go(self, step: Step | str) -> None:
        self.touch()
        step = Step(step)
        self.message = None
        self.page = 0
        if step in RESIDENT_STEPS and self.account is None or step in STAFF_STEPS and self.member is None \
                and step is not Step.STAFF_PIN:
            step = Step.ATTRACT
        if step is Step.HOME and self.account is not None:
            self.account = residents.account_view(self.conn, self.account.account_id, self.today())
        if step is Step.OBJECT and residents.posting_open(self.conn, self.today()) is None:
            self.message = from_error(refusals.Refusal("posting_closed"))
            step = Step.HOME
        if step is Step.STAFF_MONTH:
            self.target = None
        if step is Step.BOARDS:
            self.board_tab = BOARD_TABS[0]
        if step is Step.TIP:
            self.tip_category = None
        if step is Step.REDEEM:
            self.shop_kind = self.shop_id = None
        self.step = step

    def replica_fault(self):
        """The replica's own fault (behind, forked), on the flow's connection."""
        return replica.fault(self.conn)

    # --- a card in front of the camera ------------------------------------------------------------

    def scan(self, text: str) -> None:
        self.touch()
        fault = self.fault_message()
        if fault is not None:
            self.reset()
            self.message = fault
            return
        try:
            card = residents.identify(self.conn, text)
        except BankError as exc:
            if self.step not in STAFF_STEPS:
                self.reset()
            self.message = from_error(exc)
            return
        if card.role == "staff":
            self._staff_card(card)
        elif self.member is not None and self.step in STAFF_STEPS:
            self.choose_household(card.account_id)
        else:
            self.reset()
            self.card = card
            self.account = residents.account_view(self.conn, card.account_id, self.today())
            self.step = Step.HOME

    # --- PIN pad (the account's PIN, a member's PIN, a second member's PIN) -----------------------

    def pin_key(self, key: str) -> None:
        self.touch()
        self.pin = pin_after(self.pin, key)

    def pin_submit(self) -> None:
        """Have the office check the PIN being entered, for whoever is asking (a kiosk holds no
        PIN verifier): the resident's passbook details, a member's session, a second member."""
        self.touch()
        pin, self.pin = self.pin, ""
        now = self.now()
        if self.step is Step.PIN and self.card is not None:
            try:
                residents.unlock_passbook(self.home, self.conn, self.office(residents.ONLINE_TIMEOUT), self.card, pin, now)
            except BankError as exc:
                return self._pin_refused(exc, then=Step.PASSBOOK)
            self.unlocked = True
            self.step, self.page = Step.PASSBOOK, 0
            self.message = None
        elif self.step is Step.STAFF_PIN and self.pending_card is not None:
            try:
                member = staff.staff_login(self.home, self.conn, self.office(residents.ONLINE_TIMEOUT), self.pending_card, pin, now)
            except BankError as exc:
                return self._pin_refused(exc, then=None)
            self.member, self.pending_member, self.pending_card = member, None, None
            self.step = Step.STAFF_FIND
            self.message = msg("{name},您好。请刷储户卡,或按楼栋单元查找。", name=self.member.name)
        elif self.step is Step.STAFF_CONFIRM and self.second_pending is not None:
            try:
                second = staff.second_confirm(self.home, self.conn, self.office(residents.ONLINE_TIMEOUT), self.pending_card, pin, now)
            except BankError as exc:
                self.message = from_error(exc)
                if getattr(exc, "reason", "") != "pin_wrong":
                    self.second_pending = self.pending_card = None
                return None
            self.second, self.second_pending, self.pending_card = second, None, None
            self.message = msg("{name}已确认,请按“确认记分”。", name=self.second.name)

    def pin_cancel(self) -> None:
        """Leave a PIN pad: back to the passbook, out of staff mode, or drop the second member."""
        self.touch()
        self.pin, self.message = "", None
        if self.step is Step.PIN:
            self.step = Step.PASSBOOK
        elif self.step is Step.STAFF_PIN:
            self.reset()
        else:
            self.second_pending = None

    def screen(self) -> str:
        """The screen that shows this state (the second member's PIN pad is part of confirming)."""
        if self.step is Step.STAFF_CONFIRM and self.second_pending is not None:
            return "second_pin"
        return self.step.value

    def _pin_refused(self, exc: BankError, then: Step | None) -> None:
        """A wrong PIN stays on the pad (the office says how many tries are left); a lock, no
        network or any other refusal leaves it: back to ``then``, or out of staff mode."""
        self.message = from_error(exc)
        if getattr(exc, "reason", "") == "pin_wrong":
            return
        message = self.message
        if then is None:
            self.reset()
        else:
            self.step = then
        self.message = message

    # --- paging: every list a screen shows is paged with big buttons, none is cut short -----------

    def fit(self, height: int) -> None:
        """The window's height decides how many big rows a page of a list holds (with a message
        on the banner, nothing runs under the top bar): the app tells the flow its height."""
        rows = PAGE_SIZE if height >= SMALL_HEIGHT else SMALL_PAGE_SIZE
        if rows != self.list_rows:
            self.list_rows, self.page = rows, 0

    def page_size(self) -> int:
        if self.step is Step.BOARDS:
            if self.board_tab == "boards":
                return BOARD_ROWS_PER_PAGE
            return POSTING_ROWS_PER_PAGE if self.posting() is not None else POSTINGS_PER_PAGE
        if self.step is Step.REDEEM:
            return SHOP_KINDS_PER_PAGE if self.shop_kind is None else SHOPS_PER_PAGE
        return {Step.STAFF_FIND: FIND_CHOICES_PER_PAGE, Step.TIP: TIP_CHOICES_PER_PAGE,
                Step.CONVENTION: 1, Step.STAFF_ITEMS: 1}.get(self.step, self.list_rows)

    def page_of(self, rows: list) -> list:
        """This page's part of the list the current screen shows."""
        return page_of(rows, self.page, self.page_size())

    def pages(self, n: int) -> int:
        return page_count(n, self.page_size())

    def paged(self) -> list:
        """The whole list the current screen pages through (empty where there is none)."""
        return {Step.PASSBOOK: self.passbook, Step.STAFF_MONTH: self.month, Step.OBJECT: self.objectable,
                Step.REDEEM: self.redeem_choices, Step.BOARDS: self.board_list, Step.CONVENTION: self.convention_pages,
                Step.STAFF_FIND: self.find_choices, Step.STAFF_ITEMS: self.item_pages,
                Step.TIP: self.tip_choices}.get(self.step, list)()

    def turn(self, delta: int) -> None:
        self.touch()
        self.page = turned(self.page, delta, len(self.paged()), self.page_size())

    # --- sync -------------------------------------------------------------------------------------

    def sync_line(self) -> Message:
        fault = self.fault_message()
        if fault is not None:
            return msg("本机暂停使用", "error", code=fault.code)
        if self.home is None:
            return msg("未登记", "warn")
        pending = replica.pending_summary(self.conn)[0]
        state = self.syncer.state if self.syncer else None
        if state is not None and state.online is False:
            return msg("离线 · 待上传 {n} 条", "warn", n=pending)
        return msg("在线 · 待上传 {n} 条", "info", n=pending)

    def compound_name(self) -> str:
        c = status.compound(self.conn) if self.conn else {}
        return c.get("service_point") or c.get("name") or ""
