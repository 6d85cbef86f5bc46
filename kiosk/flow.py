"""What the kiosk decides, screen by screen, in plain Python (no Kivy).

Residents: show the card, see the points, the passbook (deduction details behind the account's
PIN), the convention, where to redeem, the boards and postings, and object to an entry during a
posting period. Review-group members: show the staff card, enter the PIN, find a resident by
card or by building and unit, pick a rule item, confirm (with a second member above the
threshold), see this month's entries and undo their own of today.

Every rule is the device engine's (:mod:`device.kiosk`); this object sequences the screens,
counts PIN tries, keeps the idle timer and turns refusals into sentences. The app shows its state
and forwards taps; tests drive it directly.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bank import accounts, clock
from bank.errors import BankError
from device import kiosk as engine
from device.syncing import Syncer
from sync import client, home as home_mod

IDLE_SECONDS = 30            # residents: back to the attract screen, nothing of theirs left
STAFF_IDLE_SECONDS = 120     # members choose items and notes; still logged out when they walk away
PAGE_SIZE = 5                # passbook, month and objection rows per page: big rows, paging by tap
SMALL_PAGE_SIZE = 3          # the same on the 800-pixel-high kiosk model, with room for a message
SMALL_HEIGHT = 1000          # a window lower than this is the small kiosk model
SHOPS_PER_PAGE = 12          # 到哪里兑换: a kind of shop's shops as big buttons, four rows of three
SHOP_KINDS_PER_PAGE = 15     # the kinds of shop, three a row: all of them on one page
BOARD_ROWS_PER_PAGE = 5      # red and black boards side by side: five places of each per page
POSTING_ROWS_PER_PAGE = 5    # the posting has its own tab: five households per page, one line each
POSTINGS_PER_PAGE = 3        # more than one posting (a quarter's and the year's): big buttons to choose from
CONVENTION_ITEMS_PER_PAGE = 4   # the convention: one product per page, four of its items at a time
STAFF_ITEMS_PER_PAGE = 4     # staff: one product's items per page, two rows of two big buttons
FIND_CHOICES_PER_PAGE = 8    # staff: buildings, units or households, two rows of four buttons
TIP_CHOICES_PER_PAGE = 9     # 举报: the categories, then the buildings, three rows of three buttons
BOARD_TABS = ("boards", "posting")   # the two big tabs of the 红黑榜 / 本小区公示 screen
LANGUAGES = ("zh", "en")     # Chinese first: the kiosk goes back to it when the resident leaves


def N_(text: str) -> str:
    """Mark a msgid for extraction; translated when shown (see device.ui.i18n)."""
    return text


# The note is stored with the entry in Chinese (the office reads it); the buttons show it translated.
NOTES = (N_("本人申报,已核实"), N_("邻居反映,已核实"), N_("网格员报告"), N_("志愿服务队记录"), N_("评议小组会议决定"))


class Step(enum.StrEnum):
    ATTRACT = "attract"
    HOME = "home"
    PASSBOOK = "passbook"
    PIN = "pin"
    CONVENTION = "convention"
    REDEEM = "redeem"
    BOARDS = "boards"
    OBJECT = "object"
    TIP = "tip"
    STAFF_PIN = "staff_pin"
    STAFF_FIND = "staff_find"
    STAFF_ITEMS = "staff_items"
    STAFF_CONFIRM = "staff_confirm"
    STAFF_MONTH = "staff_month"


RESIDENT_STEPS = {Step.HOME, Step.PASSBOOK, Step.PIN, Step.CONVENTION, Step.REDEEM, Step.BOARDS, Step.OBJECT,
                  Step.TIP}
STAFF_STEPS = {Step.STAFF_PIN, Step.STAFF_FIND, Step.STAFF_ITEMS, Step.STAFF_CONFIRM, Step.STAFF_MONTH}


@dataclass(frozen=True)
class Message:
    """A sentence on the banner: a Chinese msgid (translated by the UI) or zh/en given."""

    zh: str
    en: str | None = None
    values: tuple = ()
    level: str = "info"
    code: str = ""              # stable: what tests decide on

    def render(self, translate: Callable[[str], str] = lambda s: s, lang: str = "zh") -> str:
        text = self.zh if lang.startswith("zh") or self.en is None else self.en
        if self.en is None:
            text = translate(self.zh)
        return text.format(**dict(self.values))


def _chunks(rows: list, n: int) -> list[list]:
    """``rows`` in pieces of at most ``n`` (one empty piece for no rows: a product still has its page)."""
    return [rows[i:i + n] for i in range(0, len(rows), n)] or [[]]


def msg(zh: str, level: str = "info", code: str = "", **values) -> Message:
    return Message(zh, None, tuple(values.items()), level, code)


def from_error(exc: BankError) -> Message:
    return Message(exc.zh, exc.en, (), "error", exc.code)


class KioskFlow:
    """The kiosk's state. ``now`` is injectable so tests move time (idle reset, same-day undo)."""

    def __init__(self, home_dir: Path | str | None, *, now: Callable[[], dt.datetime] = clock.now_utc,
                 transport=None, syncer: Syncer | None = None, camera: str = "0"):
        self.now = now
        self.camera = camera
        self.home = None
        self.syncer = None
        self.fault: Message | None = None    # the home could not be opened: damaged, another device's
        if home_dir is not None and (Path(home_dir) / home_mod.CONFIG).exists():
            try:
                self.home = home_mod.open_home(home_dir)
            except BankError as exc:
                self.fault = from_error(exc)
        if self.home is not None:
            fn = (lambda h: client.sync_once(h, transport)) if transport is not None else None
            self.syncer = syncer or Syncer(self.home, sync_fn=fn, now=now)
        self.conn = self.home.replica() if self.home else None
        self.transport = transport
        self.lang = LANGUAGES[0]
        self.list_rows = PAGE_SIZE
        self.reset()

    # --- state ----------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the attract screen with nothing of the last person left."""
        self.step = Step.ATTRACT
        self.message: Message | None = None
        self.account: engine.AccountView | None = None
        self.card: engine.Card | None = None          # the resident's card, while it is being used
        self.pending_card: engine.Card | None = None  # a member's staff card, PIN not yet checked
        self.pin = ""
        self.unlocked = False          # the account's PIN was entered: deduction details shown
        self.page = 0
        self.board_tab = BOARD_TABS[0]
        self.posting_id: int | None = None     # the posting shown on the posting tab
        self.object_entry: int | None = None
        self.tip_category: str | None = None   # 举报: the category chosen, the building not yet
        self.shop_kind: str | None = None      # 到哪里兑换: the kind of shop chosen
        self.shop_id: int | None = None        # ... and the shop shown
        self.member: engine.Member | None = None
        self.pending_member: engine.Member | None = None   # staff card shown, PIN not yet entered
        self.second: engine.Member | None = None
        self.second_pending: engine.Member | None = None
        self.target: engine.AccountView | None = None
        self.building: int | None = None
        self.unit: int | None = None
        self.item: engine.Item | None = None
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
            self.account = engine.account_view(self.conn, self.account.account_id, self.today())
        if step is Step.OBJECT and engine.posting_open(self.conn, self.today()) is None:
            self.message = from_error(engine.Refusal("posting_closed"))
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

    def fault_message(self) -> Message | None:
        """Why this kiosk must not show or record anything, or None: its home could not be opened,
        the background sync found the replica damaged, or the replica is behind or forked."""
        if self.fault is not None or self.conn is None:
            return self.fault
        state = self.syncer.state if self.syncer else None
        if state is not None and state.fault:
            code, zh, en = state.fault
            return Message(zh, en, (), "error", code)
        found = engine.replica.fault(self.conn)
        return None if found is None else from_error(found)

    # --- a card in front of the camera ---------------------------------------------------------

    def scan(self, text: str) -> None:
        self.touch()
        fault = self.fault_message()
        if fault is not None:
            self.reset()
            self.message = fault
            return
        try:
            card = engine.identify(self.conn, text)
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
            self.account = engine.account_view(self.conn, card.account_id, self.today())
            self.step = Step.HOME

    def _staff_card(self, card: engine.Card) -> None:
        try:
            member = engine.staff_member(self.conn, card)
        except BankError as exc:
            self.message = from_error(exc)
            return
        if self.step is Step.STAFF_CONFIRM and self.member is not None and self.item is not None:
            if member.reviewer_id == self.member.reviewer_id or (self.target and member.account_id == self.target.account_id):
                self.message = from_error(engine.Refusal("second_invalid"))
                return
            self.second_pending, self.pending_card, self.pin = member, card, ""
            self.message = msg("请{name}输入密码确认这一条。", name=member.name)
            return
        if self.member is not None and member.reviewer_id == self.member.reviewer_id:
            return   # the same member's card again: nothing to do
        self.reset()
        self.pending_member, self.pending_card = member, card
        self.step = Step.STAFF_PIN

    # --- PIN pad (the account's PIN, a member's PIN, a second member's PIN) -------------------

    def pin_key(self, key: str) -> None:
        self.touch()
        if key == "clear":
            self.pin = ""
        elif key == "back":
            self.pin = self.pin[:-1]
        elif key.isdigit() and len(self.pin) < accounts.PIN_LENGTHS[-1]:
            self.pin += key

    def _office(self):
        """The transport to the office for an online PIN check (the test's, or the home's server)."""
        return self.transport or client.transport_for(self.home, engine.ONLINE_TIMEOUT)

    def pin_submit(self) -> None:
        """Have the office check the PIN being entered, for whoever is asking (a kiosk holds no
        PIN verifier): the resident's passbook details, a member's session, a second member."""
        self.touch()
        pin, self.pin = self.pin, ""
        now = self.now()
        if self.step is Step.PIN and self.card is not None:
            try:
                engine.unlock_passbook(self.home, self.conn, self._office(), self.card, pin, now)
            except BankError as exc:
                return self._pin_refused(exc, then=Step.PASSBOOK)
            self.unlocked = True
            self.step, self.page = Step.PASSBOOK, 0
            self.message = None
        elif self.step is Step.STAFF_PIN and self.pending_card is not None:
            try:
                member = engine.staff_login(self.home, self.conn, self._office(), self.pending_card, pin, now)
            except BankError as exc:
                return self._pin_refused(exc, then=None)
            self.member, self.pending_member, self.pending_card = member, None, None
            self.step = Step.STAFF_FIND
            self.message = msg("{name},您好。请刷储户卡,或按楼栋单元查找。", name=self.member.name)
        elif self.step is Step.STAFF_CONFIRM and self.second_pending is not None:
            try:
                second = engine.second_confirm(self.home, self.conn, self._office(), self.pending_card, pin, now)
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

    # --- resident -------------------------------------------------------------------------------

    def passbook(self) -> list[engine.PassLine]:
        return engine.passbook(self.conn, self.account.account_id) if self.account else []

    def passbook_page(self) -> list[engine.PassLine]:
        return self.page_of(self.passbook())

    # --- paging: every list a screen shows is paged with big buttons, none is cut short ---------

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
        n = self.page_size()
        return rows[self.page * n:(self.page + 1) * n]

    def pages(self, n: int) -> int:
        size = self.page_size()
        return max(1, (n + size - 1) // size)

    def paged(self) -> list:
        """The whole list the current screen pages through (empty where there is none)."""
        return {Step.PASSBOOK: self.passbook, Step.STAFF_MONTH: self.month, Step.OBJECT: self.objectable,
                Step.REDEEM: self.redeem_choices, Step.BOARDS: self.board_list, Step.CONVENTION: self.convention_pages,
                Step.STAFF_FIND: self.find_choices, Step.STAFF_ITEMS: self.item_pages,
                Step.TIP: self.tip_choices}.get(self.step, list)()

    def turn(self, delta: int) -> None:
        self.touch()
        self.page = min(max(0, self.page + delta), self.pages(len(self.paged())) - 1)

    def hides_details(self, line: engine.PassLine) -> bool:
        """A deduction's reason is private: shown only after the account's PIN, if it has one."""
        return line.kind == "deduction" and self.account is not None and self.account.has_pin and not self.unlocked

    def ask_pin(self) -> None:
        self.touch()
        self.pin, self.message = "", None
        self.step = Step.PIN

    def convention_pages(self) -> list[tuple[list, list]]:
        """The convention's pages: (product, up to CONVENTION_ITEMS_PER_PAGE of its items), in catalog order."""
        if self.conn is None:
            return []
        return [(product, chunk) for product, items in engine.convention(self.conn)
                for chunk in _chunks(items, CONVENTION_ITEMS_PER_PAGE)]

    # --- 到哪里兑换: a kind of shop, then its shops nearest first, then one shop (three taps) ----

    def shops(self, kind: str | None = None) -> list[engine.Shop]:
        """Every shop of ``kind`` (None: all), nearest first, with what the balance buys."""
        if self.conn is None:
            return []
        return engine.where_to_redeem(self.conn, self.account.balance if self.account else 0, kind)

    def shop_kinds(self) -> list[tuple[str, str, int]]:
        return engine.shop_categories(self.conn) if self.conn is not None else []

    def redeem_choices(self) -> list:
        """What the redeem screen pages through: the kinds of shop, or the chosen kind's shops."""
        return self.shop_kinds() if self.shop_kind is None else self.shops(self.shop_kind)

    def shop(self) -> engine.Shop | None:
        """The shop shown (None: a list is shown)."""
        return next((s for s in self.shops(self.shop_kind) if s.merchant_id == self.shop_id), None) \
            if self.shop_id is not None else None

    def choose_shop_kind(self, kind: str | None) -> None:
        """Choose a kind of shop (None: back to the kinds)."""
        self.touch()
        self.shop_kind, self.shop_id, self.page = kind, None, 0

    def choose_shop(self, merchant_id: int | None) -> None:
        """Show one shop: address, hours and offers (None: back to the kind's shops)."""
        self.touch()
        self.shop_id = merchant_id

    def show_tab(self, tab: str) -> None:
        """The 红黑榜 / 本小区公示 tabs: two views of the boards screen. The posting tab shows the
        posting when there is one, else the list of postings to choose from."""
        self.touch()
        self.message = None
        self.board_tab = tab if tab in BOARD_TABS else BOARD_TABS[0]
        self.page = 0
        ps = self.postings()
        self.posting_id = None
        if self.board_tab == "posting" and len(ps) == 1:
            self.choose_posting(ps[0]["posting_id"])

    def postings(self) -> list[dict]:
        """Every posting of the compound open today or later: open ones first."""
        return engine.current_postings(self.conn, self.today()) if self.conn is not None else []

    def posting(self) -> dict | None:
        """The posting chosen on the posting tab (None: the list of postings is shown)."""
        return next((p for p in self.postings() if p["posting_id"] == self.posting_id), None)

    def choose_posting(self, posting_id: int | None) -> None:
        """Show one posting (None: back to the list), at the page of the resident's own household
        when the card was just scanned, else at its first page."""
        self.touch()
        self.message = None
        self.posting_id = posting_id
        self.page = 0
        own = self.own_row()
        if own is not None:
            self.page = own // POSTING_ROWS_PER_PAGE

    def own_row(self) -> int | None:
        """Where the resident's household is in the chosen posting's rows."""
        if self.account is None:
            return None
        return next((i for i, r in enumerate(self.posting_rows()) if r[0] == self.account.account_id), None)

    def board_list(self) -> list:
        """What the boards screen pages through: board lines, the posting's rows, or the postings."""
        if self.board_tab == "boards":
            return self.board_rows()
        return self.posting_rows() if self.posting() is not None else self.postings()

    def board_rows(self) -> list[tuple]:
        """This quarter's boards as lines of (place, red entry or None, black entry or None)."""
        b = engine.boards(self.conn) if self.conn is not None else {"red": [], "black": []}
        red, black = list(b.get("red", [])), list(b.get("black", []))
        return [(i + 1, red[i] if i < len(red) else None, black[i] if i < len(black) else None)
                for i in range(max(len(red), len(black)))]

    def posting_rows(self) -> list[tuple]:
        """The chosen posting's rows (names masked), in the office's order; none without one."""
        p = self.posting()
        return list(p["rows"]) if p else []

    def objectable(self) -> list[engine.PassLine]:
        try:
            return engine.objectable(self.conn, self.account.account_id, self.today()) if self.account else []
        except BankError:
            return []

    def choose_objection(self, entry_id: int) -> None:
        self.touch()
        self.object_entry = entry_id

    def object_back(self) -> None:
        self.touch()
        if self.object_entry is not None:
            self.object_entry = None
        else:
            self.go(Step.HOME)

    def speech(self) -> str:
        """What the voice readout says: the balance and what expires soon."""
        a = self.account
        if a is None:
            return ""
        text = f"您好,您的积分余额是{a.balance}分。"
        for day, points in a.expiring:
            d = dt.date.fromisoformat(day)
            text += f"有{points}分将在{d.year}年{d.month}月{d.day}日到期。"
        return text

    def object_with(self, reason: str) -> None:
        """Send the objection with the chosen reason."""
        self.touch()
        try:
            engine.object_to(self.conn, self.card, self.object_entry, reason, self.now())
        except BankError as exc:
            self.message = from_error(exc)
            return
        self.object_entry = None
        self.step = Step.HOME
        self.message = msg("异议已提交,评议会将调查并答复您。", "info")
        self._sync("objection")

    # --- 举报: an anonymous tip, chosen from lists (a category, then a building or none) ----------

    def tip_choices(self) -> list:
        """The tip screen's paged choices: (code, name) of the categories, then None (no building:
        first, so it is always on the first page) and the building numbers."""
        if self.tip_category is None:
            return engine.tip_categories()
        return [None, *(engine.buildings(self.conn) if self.conn is not None else [])]

    def choose_tip_category(self, code: str | None) -> None:
        """Choose what to report (None: choose again)."""
        self.touch()
        self.message = None
        self.tip_category, self.page = code, 0

    def send_tip(self, building: int | None) -> None:
        """Send the tip for a building of the compound, or for none; back to where the resident was."""
        self.touch()
        try:
            engine.report_tip(self.conn, self.tip_category or "", building, self.now())
        except BankError as exc:
            self.message = from_error(exc)
            return
        self.tip_category, self.page = None, 0
        self.step = Step.HOME
        self.message = msg("举报已收到,不记录您的姓名和卡号。道德评议会将核实处理。")
        self._sync("tip")

    # --- staff ----------------------------------------------------------------------------------

    def staff_logout(self) -> None:
        self.reset()

    def buildings(self) -> list[int]:
        return engine.buildings(self.conn)

    def units(self) -> list[int]:
        return engine.units(self.conn, self.building) if self.building else []

    def households(self) -> list[tuple[int, str, str]]:
        if self.building is None or self.unit is None:
            return []
        return engine.households_at(self.conn, self.building, self.unit)

    def find_level(self) -> str:
        """What the find screen offers: buildings, then the building's units, then the unit's households."""
        return "building" if self.building is None else "unit" if self.unit is None else "household"

    def find_choices(self) -> list:
        """The find screen's paged choices at its level: building numbers, unit numbers or households."""
        return {"building": self.buildings, "unit": self.units, "household": self.households}[self.find_level()]()

    def set_building(self, building: int | None) -> None:
        """Choose a building (None: back to the list of buildings)."""
        self.touch()
        self.building, self.unit, self.page = building, None, 0

    def set_unit(self, unit: int | None) -> None:
        """Choose a unit (None: back to the building's units)."""
        self.touch()
        self.unit, self.page = unit, 0

    def choose_household(self, account_id: int) -> None:
        self.touch()
        self.page = 0
        if self.member is not None and self.member.account_id == account_id:
            self.message = from_error(engine.Refusal("recusal"))
            self.step = Step.STAFF_FIND
            return
        self.target = engine.account_view(self.conn, account_id, self.today())
        self.item, self.second, self.second_pending, self.note = None, None, None, ""
        self.message = None
        self.step = Step.STAFF_ITEMS

    def items(self) -> list[tuple[list, list[engine.Item]]]:
        return engine.items_for(self.conn, self.target.account_id, self.now()) if self.target else []

    def item_pages(self) -> list[tuple[list, list[engine.Item]]]:
        """The item screen's pages: (product, up to STAFF_ITEMS_PER_PAGE of its items), grouped by product.
        Confirming an entry comes back to the same page."""
        return [(product, chunk) for product, items in self.items() for chunk in _chunks(items, STAFF_ITEMS_PER_PAGE)]

    def choose_item(self, code: str) -> None:
        self.touch()
        if self.target is None or self.member is None:
            return
        try:
            self.item = engine.check_entry(self.conn, self.member, self.target.account_id, code, self.now())
        except BankError as exc:
            self.message = from_error(exc)
            return
        self.second, self.second_pending, self.note, self.message = None, None, "", None
        self.step = Step.STAFF_CONFIRM
        if self.needs_second():
            self.message = msg("这一条超过{above}分,需要另一位成员刷工作卡并输入密码确认。", "warn",
                               above=engine.second_above(self.conn))

    def needs_second(self) -> bool:
        return self.item is not None and engine.needs_second(self.conn, self.item.points)

    def set_note(self, note: str) -> None:
        self.touch()
        self.note = "" if note == self.note else note

    def confirm(self) -> None:
        """Record the award or deduction event."""
        self.touch()
        fault = self.fault_message()
        if fault is not None:
            self.message = fault
            return
        try:
            engine.record_entry(self.conn, self.member, self.target.account_id, self.item.code, note=self.note,
                                second=self.second, now=self.now())
        except BankError as exc:
            self.message = from_error(exc)
            return
        sign = "+" if self.item.points > 0 else ""
        self.message = msg("已记录:{name} {item} {points}分。", name=self.target.name, item=self.item.name,
                           points=f"{sign}{self.item.points}")
        self.target = engine.account_view(self.conn, self.target.account_id, self.today())
        self.item, self.second, self.second_pending, self.note = None, None, None, ""
        self.step = Step.STAFF_ITEMS
        self._sync("entry")

    def month(self) -> list[engine.MonthLine]:
        return engine.month_entries(self.conn, self.now())

    def month_page(self) -> list[engine.MonthLine]:
        return self.page_of(self.month())

    def can_undo(self, line: engine.MonthLine) -> bool:
        return self.member is not None and engine.can_undo(line, self.member, self.today())

    def undo(self, key: str) -> None:
        self.touch()
        line = next((m for m in self.month() if m.key == key), None)
        try:
            if line is None:
                raise engine.Refusal("undo_not_allowed")
            engine.undo(self.conn, self.member, line, self.now())
        except BankError as exc:
            self.message = from_error(exc)
            return
        self.message = msg("已撤销:{name} {item}。", name=line.name, item=line.title)
        self._sync("undo")

    # --- sync -----------------------------------------------------------------------------------

    def _sync(self, reason: str) -> None:
        if self.syncer is not None:
            self.syncer.request(reason)

    def sync_line(self) -> Message:
        fault = self.fault_message()
        if fault is not None:
            return msg("本机暂停使用", "error", code=fault.code)
        if self.home is None:
            return msg("未登记", "warn")
        pending = engine.replica.pending_summary(self.conn)[0]
        state = self.syncer.state if self.syncer else None
        if state is not None and state.online is False:
            return msg("离线 · 待上传 {n} 条", "warn", n=pending)
        return msg("在线 · 待上传 {n} 条", "info", n=pending)

    def compound_name(self) -> str:
        c = engine.compound(self.conn) if self.conn else {}
        return c.get("service_point") or c.get("name") or ""
