"""Printing and reports: card sheets, the monthly redemption table, postings and the office
commands that write them. PDFs are read back with pdftotext and rendered with pdftoppm; card
QR codes are decoded from the rendered page; Excel is read back with openpyxl."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from click.testing import CliRunner

from bank import accounts, cards, db, errors, periods
from office import cardsheet, cli, reports
from tests.conftest import copy_store

from .pdf_kit import pdf_text, render


@pytest.fixture(scope="module")
def conn(demo_db):
    c = db.connect(demo_db, readonly=True)
    yield c
    c.close()


@pytest.fixture
def writable(demo_db, tmp_path):
    path = tmp_path / "copy.sqlite"
    copy_store(demo_db, path)
    return path


def test_card_sheet_has_names_and_readable_qr_codes(conn, tmp_path):
    import zxingcpp
    ids = list(range(1, 13))
    data = cardsheet.build(conn, ids)
    text = pdf_text(data, tmp_path)
    first = accounts.get(conn, 1)
    assert "道德积分银行" in text and first.display_name in text and "卡号" in text
    page = render(data, tmp_path, dpi=200)
    found = {r.text for r in zxingcpp.read_barcodes(page)}
    expected = {c.qr for aid in ids[:10] for c in cards.cards_of(conn, aid) if c.status == "active"}
    assert found == expected   # the first page holds ten cards, every QR decodes to the signed text


def test_card_sheet_refuses_an_account_without_an_active_card(conn):
    revoked = conn.execute("SELECT account_id FROM cards GROUP BY account_id "
                           "HAVING sum(status = 'active') = 0").fetchone()
    if revoked:
        with pytest.raises(errors.InvalidInput, match="没有有效的卡"):
            cardsheet.build(conn, [revoked[0]])
    with pytest.raises(errors.BankError, match="没有编号为 999999"):
        cardsheet.build(conn, [999999])


def test_monthly_table_pdf_and_excel_agree(conn, tmp_path):
    month = periods.month("2026-10")
    table = reports.monthly_rows(conn, month)[0]
    assert table and all(r.count > 0 and r.points > 0 for r in table)
    text = pdf_text(reports.monthly_pdf(conn, month), tmp_path)
    assert "2026年10月积分兑换情况公示" in text and table[0].merchant in text and "合计" in text
    wb = openpyxl.load_workbook(io.BytesIO(reports.monthly_xlsx(conn, month)))
    ws = wb.active
    assert ws.cell(3, 1).value == "商户" and ws.cell(3, 6).value == "价值(元)"
    last = ws.max_row
    assert ws.cell(last, 1).value == "合计"
    assert ws.cell(last, 5).value == sum(r.points for r in table)
    assert ws.cell(last, 6).value == pytest.approx(sum(r.value_fen for r in table) / 100)


def test_posting_masks_names(conn, tmp_path):
    # Its build time (within 2 s) is measured by `python -m bench.console`.
    quarter = periods.quarter("2026Q3")
    data = reports.posting_pdf(conn, quarter, 1)
    text = pdf_text(data, tmp_path)
    assert "龙海花园 2026年第3季度积分情况公示" in text and "如有异议" in text
    holders = [r[0] for r in conn.execute("SELECT display_name FROM accounts WHERE compound_id = 1 "
                                          "AND length(display_name) = 3")]
    assert not any(name in text for name in holders)          # no full name leaks
    assert accounts.mask_name(holders[0]) in text
    page = render(data, tmp_path, dpi=50)
    assert page.size[0] > 300


def runner_invoke(*args):
    result = CliRunner().invoke(cli.main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def test_cli_report_posting_and_cards(demo_db, tmp_path):
    out = tmp_path / "m.xlsx"
    assert runner_invoke("report", "monthly", "--db", demo_db, "--month", "2026-10", "--out", out).exit_code == 0
    assert openpyxl.load_workbook(out).active.cell(1, 1).value.endswith("积分兑换统计表")
    out = tmp_path / "p.pdf"
    assert runner_invoke("posting", "--db", demo_db, "--quarter", "2026Q3", "--compound", 2, "--out", out).exit_code == 0
    assert "金色港湾" in pdf_text(out.read_bytes(), tmp_path)
    out = tmp_path / "c.pdf"
    c = db.connect(demo_db, readonly=True)
    card_id = cards.cards_of(c, 3)[-1].card_id
    c.close()
    assert runner_invoke("print-cards", "--db", demo_db, "--out", out, 2, card_id).exit_code == 0
    assert pdf_text(out.read_bytes(), tmp_path).count("储户卡") == 2


@pytest.mark.parametrize("args", [
    ["report", "monthly", "--month", "2026-13", "--out", "x.pdf"],
    ["report", "monthly", "--month", "", "--out", "x.pdf"],
    ["report", "monthly", "--month", "2026-10", "--out", "x.txt"],
    ["posting", "--quarter", "2026Q5", "--compound", "1", "--out", "x.pdf"],
    ["posting", "--quarter", "2026Q3", "--compound", "99", "--out", "x.pdf"],
    ["posting", "--quarter", "2026Q3", "--compound", "1", "--out", "x.xlsx"],
    ["print-cards", "--out", "x.pdf", "abc"],
    ["print-cards", "--out", "x.pdf", "999999"],
])
def test_cli_bad_arguments_one_line_nothing_written(demo_db, tmp_path, args):
    args = [a if not a.startswith("x.") else str(tmp_path / a) for a in args]
    result = runner_invoke(*args[:2 if args[0] == "report" else 1], "--db", demo_db,
                           *args[2 if args[0] == "report" else 1:])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and result.output.startswith("错误:")
    assert list(tmp_path.iterdir()) == []


def test_cli_user_add(writable, tmp_path):
    pw = tmp_path / "pw.txt"
    pw.write_text("a-long-password\n")
    ok = runner_invoke("user", "add", "--db", writable, "--role", "reviewer", "--compound", 2, "--reviewer", 4,
                       "--name", "赵组员", "--password-file", pw)
    assert ok.exit_code == 0, ok.output
    prompted = CliRunner().invoke(cli.main, ["user", "add", "--db", str(writable), "--role", "office", "--name", "王主任"],
                                  input="secret-garden-99\nsecret-garden-99\n")
    assert prompted.exit_code == 0, prompted.output
    for bad in (["--role", "reviewer", "--name", "钱组员"], ["--role", "reviewer", "--name", "钱组员", "--reviewer", "999"],
                ["--role", "reviewer", "--name", "钱组员", "--reviewer", "4"],
                ["--role", "reviewer", "--name", "钱组员", "--reviewer", "1", "--compound", "2"], ["--role", "office", "--name", "赵组员"],
                ["--role", "merchant", "--name", "商户", "--merchant", "999"], ["--role", "office", "--name", ""]):
        r = runner_invoke("user", "add", "--db", writable, *bad, "--password-file", pw)
        assert r.exit_code == 1 and r.output.startswith("错误:"), r.output
    short = tmp_path / "short.txt"
    short.write_text("abc")
    assert runner_invoke("user", "add", "--db", writable, "--role", "office", "--name", "孙", "--password-file",
                         short).exit_code == 1
    c = db.connect(writable, readonly=True)
    assert [r[0] for r in c.execute("SELECT name FROM console_users ORDER BY user_id")] == ["赵组员", "王主任"]
    assert c.execute("SELECT count(*) FROM audit_log WHERE action = 'user.add'").fetchone()[0] == 2
    c.close()


def _without_a_card(path) -> int:
    """Account 4 of a store copy, its resident card revoked (no active card left)."""
    c = db.connect(path)
    with db.transaction(c):
        for card in cards.cards_of(c, 4):
            if card.status == "active" and card.role == "resident":
                cards.revoke(c, card.card_id)
    c.close()
    return 4


def test_print_cards_skips_an_account_without_a_card_and_says_so(writable, tmp_path):
    """Three accounts asked for, one without a card: the sheet holds the other two, and the
    command names the one left out (it once refused the whole sheet)."""
    missing = _without_a_card(writable)
    out = tmp_path / "cards.pdf"
    result = CliRunner().invoke(cli.main, ["print-cards", "--db", str(writable), "--out", str(out), "2", str(missing), "3"])
    assert result.exit_code == 0, result.output
    assert f"未打印:储户 {missing} 没有有效的卡" in result.output and "已生成 2 户" in result.output
    assert pdf_text(out.read_bytes(), tmp_path).count("储户卡") == 2
    with db.connect(writable, readonly=True) as c:
        assert accounts.get(c, 2).display_name in pdf_text(out.read_bytes(), tmp_path)
        assert accounts.get(c, missing).display_name not in pdf_text(out.read_bytes(), tmp_path)


def test_console_card_sheet_skips_an_account_without_a_card_and_says_so(writable):
    from office import server
    from tests.office.console_kit import Browser, make_store

    missing = _without_a_card(writable)
    office = Browser(server.create_app(make_store(writable, writable.with_name("console.sqlite"))), "王主任")
    page = office.get(f"/cards/sheet.pdf?accounts=2,{missing},3")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f"储户 {missing} 没有有效的卡" in page.text and "打印其余 2 户的卡 PDF" in page.text
    link = re.search(r'href="(/cards/sheet\.pdf\?[^"]+)"', page.text)[1].replace("&amp;", "&")
    sheet = office.get(link)
    assert sheet.status_code == 200 and sheet.content[:4] == b"%PDF"
    assert office.get(f"/cards/sheet.pdf?accounts={missing}").status_code == 400


def test_posting_header_keeps_its_dates_on_one_line(writable, tmp_path):
    """The posting period reads as one line on the printed notice (its dates were once broken
    across two lines in the middle of a date)."""
    import datetime as dt

    from bank import postings
    quarter = periods.quarter("2026Q3")
    c = db.connect(writable)
    with db.transaction(c):
        p = postings.publish(c, kind="quarterly", period=quarter, compound_id=1, opens_on=dt.date(2026, 10, 12),
                             days=10, by="王主任")
    data = reports.posting_pdf(c, quarter, 1, posting=p)
    c.close()
    (tmp_path / "posting.pdf").write_bytes(data)
    lines = [ln for ln in pdf_text(data, tmp_path).splitlines() if str(p.opens_on) in ln or str(p.closes_on) in ln]
    assert len(lines) == 1 and f"{p.opens_on} 至 {p.closes_on}" in lines[0], lines
