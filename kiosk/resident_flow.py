"""The resident's part of the kiosk flow: the passbook (deduction details behind the account's
PIN), the convention, where to redeem, the boards and postings, an objection during a posting
period, an anonymous tip. Mixed into :class:`kiosk.flow.KioskFlow`, whose state it reads; the
rules are the engine's (:mod:`kiosk.residents`, :mod:`kiosk.objections`, :mod:`kiosk.tips`).
No Kivy here."""

from __future__ import annotations

import datetime as dt

from bank.errors import BankError
from device.flowkit import chunks, from_error, msg

from . import objections, residents, tips
from .steps import BOARD_TABS, CONVENTION_ITEMS_PER_PAGE, POSTING_ROWS_PER_PAGE, Step


class ResidentSteps:
    """The screens a resident's card opens (the state lives in :class:`kiosk.flow.KioskFlow`)."""

    def passbook(self) -> list[residents.PassLine]:
        return residents.passbook(self.conn, self.account.account_id) if self.account else []

    def passbook_page(self) -> list[residents.PassLine]:
        return self.page_of(self.passbook())

    def hides_details(self, line: residents.PassLine) -> bool:
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
        return [(product, chunk) for product, items in residents.convention(self.conn)
                for chunk in chunks(items, CONVENTION_ITEMS_PER_PAGE)]

    # --- 到哪里兑换: a kind of shop, then its shops nearest first, then one shop (three taps) ----------

    def shops(self, kind: str | None = None) -> list[residents.Shop]:
        """Every shop of ``kind`` (None: all), nearest first, with what the balance buys."""
        if self.conn is None:
            return []
        return residents.where_to_redeem(self.conn, self.account.balance if self.account else 0, kind)

    def shop_kinds(self) -> list[tuple[str, str, int]]:
        return residents.shop_categories(self.conn) if self.conn is not None else []

    def redeem_choices(self) -> list:
        """What the redeem screen pages through: the kinds of shop, or the chosen kind's shops."""
        return self.shop_kinds() if self.shop_kind is None else self.shops(self.shop_kind)

    def shop(self) -> residents.Shop | None:
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

    # --- 红黑榜 / 本小区公示: the boards and the postings -------------------------------------------------

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
        return residents.current_postings(self.conn, self.today()) if self.conn is not None else []

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
        b = residents.boards(self.conn) if self.conn is not None else {"red": [], "black": []}
        red, black = list(b.get("red", [])), list(b.get("black", []))
        return [(i + 1, red[i] if i < len(red) else None, black[i] if i < len(black) else None)
                for i in range(max(len(red), len(black)))]

    def posting_rows(self) -> list[tuple]:
        """The chosen posting's rows (names masked), in the office's order; none without one."""
        p = self.posting()
        return list(p["rows"]) if p else []

    # --- 异议: an objection to an entry of a period posted now --------------------------------------

    def objectable(self) -> list[residents.PassLine]:
        try:
            return objections.objectable(self.conn, self.account.account_id, self.today()) if self.account else []
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
            objections.object_to(self.conn, self.card, self.object_entry, reason, self.now())
        except BankError as exc:
            self.message = from_error(exc)
            return
        self.object_entry = None
        self.step = Step.HOME
        self.message = msg("异议已提交,评议会将调查并答复您。", "info")
        self.request_sync("objection")

    # --- 举报: an anonymous tip, chosen from lists (a category, then a building or none) ------------

    def tip_choices(self) -> list:
        """The tip screen's paged choices: (code, name) of the categories, then None (no building:
        first, so it is always on the first page) and the building numbers."""
        if self.tip_category is None:
            return tips.tip_categories()
        return [None, *(residents.buildings(self.conn) if self.conn is not None else [])]

    def choose_tip_category(self, code: str | None) -> None:
        """Choose what to report (None: choose again)."""
        self.touch()
        self.message = None
        self.tip_category, self.page = code, 0

    def send_tip(self, building: int | None) -> None:
        """Send the tip for a building of the compound, or for none; back to where the resident was."""
        self.touch()
        try:
            tips.report_tip(self.conn, self.tip_category or "", building, self.now())
        except BankError as exc:
            self.message = from_error(exc)
            return
        self.tip_category, self.page = None, 0
        self.step = Step.HOME
        self.message = msg("举报已收到,不记录您的姓名和卡号。道德评议会将核实处理。")
        self.request_sync("tip")
