"""Card sheets: CR80 cards (85.6 x 54 mm) ten to an A4 page, ready to cut or to print on
perforated card stock. Each card: the bank's name, the holder, compound and address, the card
number and version, and the signed QR code."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

from bank import accounts, cards, community, reviewers
from bank.errors import BankError, InvalidInput

from . import pdfkit

CARD_W, CARD_H = 85.6, 54.0
COLS, ROWS = 2, 5
PER_PAGE = COLS * ROWS
MAX_CARDS = 2000


def _compound_names(conn) -> dict[int, str]:
    return {c.compound_id: c.name for c in community.compounds(conn)}


def build(conn: sqlite3.Connection, account_ids: list[int] | None = None) -> bytes:
    """The sheet for the current active card of each account (all active cards if None)."""
    if account_ids is None:
        chosen = [c for c in cards.all_cards(conn) if c.status == "active" and c.role == "resident"]
    else:
        chosen = []
        for aid in account_ids:
            # Staff cards of the household's review-group members are printed on their own sheet.
            build_check(conn, aid)
            chosen.extend(c for c in cards.cards_of(conn, aid) if c.status == "active" and c.role == "resident")
    return _sheet(conn, [(c, None) for c in chosen], "储户卡")


@dataclasses.dataclass(frozen=True)
class Sheet:
    """A sheet for many accounts: the PDF of those that have a card, the accounts printed, and
    each account left out with the reason (in Chinese)."""
    data: bytes
    printed: list[int]
    skipped: list[tuple[int, str]]


def build_many(conn: sqlite3.Connection, account_ids: list[int]) -> Sheet:
    """The sheet for the accounts that have an active card; an account without one (or unknown)
    is left out and named in ``skipped``, so one missing card does not stop the whole sheet.
    Refused only when none is left to print."""
    printable, skipped = [], []
    for aid in dict.fromkeys(account_ids):
        try:
            build_check(conn, aid)
        except BankError as exc:
            skipped.append((aid, exc.zh))
            continue
        printable.append(aid)
    if not printable:
        raise InvalidInput("没有可打印的卡:" + ";".join(why for _, why in skipped), "no cards to print")
    return Sheet(build(conn, printable), printable, skipped)


def build_check(conn: sqlite3.Connection, account_id: int) -> None:
    """Refuse (NotFound, InvalidInput) an account whose card cannot be printed."""
    if not [c for c in cards.cards_of(conn, account_id) if c.status == "active" and c.role == "resident"]:
        accounts.get(conn, account_id)   # a missing account says so; otherwise it has no active card
        raise InvalidInput(f"储户 {account_id} 没有有效的卡,请先发卡。", f"account {account_id} has no active card")


def build_staff(conn: sqlite3.Connection, reviewer_ids: list[int] | None = None) -> bytes:
    """Staff cards (工作卡) of review-group members: every active member's if None. Each carries
    the member's own name and a 评议小组 badge, so nobody mistakes it for a resident's card."""
    members = reviewers.all_members(conn) if reviewer_ids is None else [reviewers.get(conn, r) for r in reviewer_ids]
    chosen = []
    for m in members:
        card = cards.current(conn, m.card_id)
        if not m.active or card.status != "active":
            if reviewer_ids is not None:
                raise InvalidInput(f"{m.name}已退出评议小组或工作卡已作废。", f"reviewer {m.reviewer_id} has no active card")
            continue
        chosen.append((card, m))
    return _sheet(conn, chosen, "评议小组工作卡")


def _sheet(conn, chosen: list, title: str) -> bytes:
    if not chosen:
        raise InvalidInput("没有可打印的卡。", "no cards to print")
    if len(chosen) > MAX_CARDS:
        raise InvalidInput(f"一次最多打印{MAX_CARDS}张卡。", f"at most {MAX_CARDS} cards at a time")
    names = _compound_names(conn)
    bank_name = f"{community.name(conn) or '社区'}道德积分银行"
    pdf = pdfkit.new_document(title)
    pdf.set_auto_page_break(False)
    left = (pdf.w - COLS * CARD_W) / 2
    top = (pdf.h - ROWS * CARD_H) / 2
    for i, (card, member) in enumerate(chosen):
        if i % PER_PAGE == 0:
            pdf.add_page()
        slot = i % PER_PAGE
        x, y = left + (slot % COLS) * CARD_W, top + (slot // COLS) * CARD_H
        acct = accounts.get(conn, card.account_id)
        _card(pdf, x, y, bank_name, acct, names.get(acct.compound_id, ""), card, member)
    return bytes(pdf.output())


def _card(pdf, x, y, bank_name, acct, compound, card, member=None) -> None:
    staff = member is not None
    pdf.set_draw_color(170)
    pdf.set_line_width(0.2)
    pdf.rect(x, y, CARD_W, CARD_H)                      # cut line
    # Staff cards have a dark blue band instead of the residents' red: told apart at a glance.
    pdf.set_fill_color(*((20, 60, 130) if staff else (178, 34, 34)))
    pdf.rect(x, y, CARD_W, 10, style="F")
    pdf.set_text_color(255)
    pdf.set_font(pdfkit.FONT, "B", 11)
    pdf.set_xy(x + 4, y + 2)
    pdf.cell(CARD_W - 8, 6, f"{bank_name} · {'工作卡' if staff else '储户卡'}")
    pdf.set_text_color(0)
    qr_size = 38
    pdfkit.draw_qr(pdf, card.qr, x + CARD_W - qr_size - 2, y + 12, qr_size)
    if staff:
        pdf.set_fill_color(250, 200, 40)
        pdf.rect(x + 4, y + 12, 24, 6.5, style="F")
        pdf.set_font(pdfkit.FONT, "B", 10)
        pdf.set_xy(x + 4, y + 12.3)
        pdf.cell(24, 6, "评议小组", align="C")
    pdf.set_font(pdfkit.FONT, "B", 15)
    pdf.set_xy(x + 4, y + (19 if staff else 14))
    pdf.cell(42, 8, member.name if staff else acct.display_name)
    pdf.set_font(pdfkit.FONT, "", 8.5)
    if staff:
        lines = [f"{compound}评议小组", f"卡号 {card.card_id}", f"第 {card.version} 版"]
    else:
        lines = [compound, f"{acct.building}栋{acct.unit}单元{acct.room}", f"卡号 {card.card_id}", f"第 {card.version} 版"]
    for n, text in enumerate(lines):
        pdf.set_xy(x + 4, y + (28 if staff else 24) + n * 5)
        pdf.cell(42, 5, text)
    pdf.set_font(pdfkit.FONT, "", 6.5)
    pdf.set_text_color(90)
    pdf.set_xy(x + 4, y + CARD_H - 7)
    pdf.cell(CARD_W - 8, 4, "评议小组成员在一体机上刷卡并输入密码记分;不得转借。" if staff
             else "凭卡存分、兑换;遗失请到社区办公室挂失补办。")
    pdf.set_text_color(0)


def write(conn: sqlite3.Connection, out: Path, account_ids: list[int] | None = None) -> int:
    data = build(conn, account_ids)
    out.write_bytes(data)
    return len(data)
