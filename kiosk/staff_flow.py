"""The review-group member's part of the kiosk flow: a staff card, find a household by card or by
building and unit, pick a rule item, confirm (with a second member above the threshold), this
month's entries and undo of one's own of today. Mixed into :class:`kiosk.flow.KioskFlow`, whose
state it reads; the rules are the engine's (:mod:`kiosk.staff`). No Kivy here."""

from __future__ import annotations

from bank.errors import BankError
from device.flowkit import N_, chunks, from_error, msg

from . import refusals, residents, staff
from .steps import STAFF_ITEMS_PER_PAGE, Step


# The note is stored with the entry in Chinese (the office reads it); the buttons show it translated.
NOTES = (N_("本人申报,已核实"), N_("邻居反映,已核实"), N_("网格员报告"), N_("志愿服务队记录"), N_("评议小组会议决定"))


class StaffSteps:
    """The screens a member's staff card opens (the state lives in :class:`kiosk.flow.KioskFlow`)."""

    def _staff_card(self, card: residents.Card) -> None:
        try:
            member = staff.staff_member(self.conn, card)
        except BankError as exc:
            self.message = from_error(exc)
            return
        if self.step is Step.STAFF_CONFIRM and self.member is not None and self.item is not None:
            if member.reviewer_id == self.member.reviewer_id or (self.target and member.account_id == self.target.account_id):
                self.message = from_error(refusals.Refusal("second_invalid"))
                return
            self.second_pending, self.pending_card, self.pin = member, card, ""
            self.message = msg("请{name}输入密码确认这一条。", name=member.name)
            return
        if self.member is not None and member.reviewer_id == self.member.reviewer_id:
            return   # the same member's card again: nothing to do
        self.reset()
        self.pending_member, self.pending_card = member, card
        self.step = Step.STAFF_PIN

    def staff_logout(self) -> None:
        self.reset()

    def buildings(self) -> list[int]:
        return residents.buildings(self.conn)

    def units(self) -> list[int]:
        return residents.units(self.conn, self.building) if self.building else []

    def households(self) -> list[tuple[int, str, str]]:
        if self.building is None or self.unit is None:
            return []
        return residents.households_at(self.conn, self.building, self.unit)

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
            self.message = from_error(refusals.Refusal("recusal"))
            self.step = Step.STAFF_FIND
            return
        self.target = residents.account_view(self.conn, account_id, self.today())
        self.item, self.second, self.second_pending, self.note = None, None, None, ""
        self.message = None
        self.step = Step.STAFF_ITEMS

    def items(self) -> list[tuple[list, list[staff.Item]]]:
        return staff.items_for(self.conn, self.target.account_id, self.now()) if self.target else []

    def item_pages(self) -> list[tuple[list, list[staff.Item]]]:
        """The item screen's pages: (product, up to STAFF_ITEMS_PER_PAGE of its items), grouped by product.
        Confirming an entry comes back to the same page."""
        return [(product, chunk) for product, items in self.items() for chunk in chunks(items, STAFF_ITEMS_PER_PAGE)]

    def choose_item(self, code: str) -> None:
        self.touch()
        if self.target is None or self.member is None:
            return
        try:
            self.item = staff.check_entry(self.conn, self.member, self.target.account_id, code, self.now())
        except BankError as exc:
            self.message = from_error(exc)
            return
        self.second, self.second_pending, self.note, self.message = None, None, "", None
        self.step = Step.STAFF_CONFIRM
        if self.needs_second():
            self.message = msg("这一条超过{above}分,需要另一位成员刷工作卡并输入密码确认。", "warn",
                               above=staff.second_above(self.conn))

    def needs_second(self) -> bool:
        return self.item is not None and staff.needs_second(self.conn, self.item.points)

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
            staff.record_entry(self.conn, self.member, self.target.account_id, self.item.code, note=self.note,
                                second=self.second, now=self.now())
        except BankError as exc:
            self.message = from_error(exc)
            return
        sign = "+" if self.item.points > 0 else ""
        self.message = msg("已记录:{name} {item} {points}分。", name=self.target.name, item=self.item.name,
                           points=f"{sign}{self.item.points}")
        self.target = residents.account_view(self.conn, self.target.account_id, self.today())
        self.item, self.second, self.second_pending, self.note = None, None, None, ""
        self.step = Step.STAFF_ITEMS
        self.request_sync("entry")

    def month(self) -> list[staff.MonthLine]:
        return staff.month_entries(self.conn, self.now())

    def month_page(self) -> list[staff.MonthLine]:
        return self.page_of(self.month())

    def can_undo(self, line: staff.MonthLine) -> bool:
        return self.member is not None and staff.can_undo(line, self.member, self.today())

    def undo(self, key: str) -> None:
        self.touch()
        line = next((m for m in self.month() if m.key == key), None)
        try:
            if line is None:
                raise refusals.Refusal("undo_not_allowed")
            staff.undo(self.conn, self.member, line, self.now())
        except BankError as exc:
            self.message = from_error(exc)
            return
        self.message = msg("已撤销:{name} {item}。", name=line.name, item=line.title)
        self.request_sync("undo")
