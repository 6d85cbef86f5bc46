"""The district view's pages (thin: bank.district_figures computes, the templates show). Every
route is a GET: nothing here writes to a community (log-in, log-out and the password are the
console's own, on the directory schema)."""

from __future__ import annotations

from fastapi import FastAPI

from bank import alerts, clock, db, devices, district, district_figures, merchants, objections, periods, redemptions
from bank import quarterly_check
from bank.errors import InvalidInput, NotFound

from ..console import web
from . import report

DISTRICT = ("district",)
SORT_ORDER = {"done": 0, "running": 1, "due": 2, "overdue": 3}


def month_of(ctx: web.Ctx) -> periods.Period:
    """The month the page shows: ``?month=YYYY-MM``, this month by default; never a future month."""
    query = ctx.request.query_params
    if web.garbled(query):
        raise InvalidInput(web.GARBLED, "undecodable query")
    now = ctx.clock()
    raw = web.text(query, "month", "月份", max_len=7, required=False)
    month = periods.month(raw) if raw else periods.current_month(now)
    if month.first_day > clock.local_date(now):
        raise InvalidInput(f"{month.label}还没有到,没有数据。", f"{month.key} is in the future")
    return month


def sorted_rows(rows, sort: str, desc: bool):
    if sort not in district_figures.COLUMNS and sort != "donated_pct":
        sort = "code"
    key = (lambda r: SORT_ORDER[r.verification]) if sort == "verification" else (lambda r: getattr(r, sort))
    return sorted(rows, key=key, reverse=desc), sort


def register(app: FastAPI, console) -> None:
    @console.page(*DISTRICT)
    def district_table(ctx: web.Ctx):
        month = month_of(ctx)
        query = ctx.request.query_params
        sort, desc = query.get("sort", "code"), query.get("desc") == "1"
        rows = console.figures.table(month)
        shown, sort = sorted_rows(rows, sort, desc)
        months = [m.key for m in district_figures.last_months(periods.current_month(ctx.clock()), 13)][::-1]
        return console.render(ctx, "district.html", month=month, rows=shown, total=district_figures.total(rows),
                              columns=district_figures.COLUMNS, sort=sort, desc=desc, months=months,
                              quarter=district_figures.verification_quarter(month),
                              due_days=quarterly_check.DUE_DAYS, silent_hours=devices.SILENT_HOURS)

    app.add_route("/", district_table, methods=["GET"])

    @console.page(*DISTRICT)
    def community_page(ctx: web.Ctx, code: str):
        month = month_of(ctx)
        entry = next((e for e in district.communities(console.district_url) if e.code == code), None)
        if entry is None:
            raise NotFound("区级数据库中没有这个社区。", f"no community {code!r}")
        # read-only by construction: the community's store is opened read-only for this page
        conn = db.connect(entry.url, readonly=True, busy_timeout=web.BUSY_TIMEOUT_S)
        try:
            now = ctx.clock()
            by_month = district_figures.by_month(conn, district_figures.last_months(month, 12))
            table = redemptions.monthly_table(conn, month)
            per_merchant: dict[int, dict] = {}
            for r in table:
                m = per_merchant.setdefault(r.merchant_id, dict(count=0, points=0, value_fen=0))
                m["count"] += r.count
                m["points"] += r.points
                m["value_fen"] += r.value_fen
            shops = [(m, per_merchant.get(m.merchant_id, dict(count=0, points=0, value_fen=0)))
                     for m in merchants.all_merchants(conn)]
            quarter = district_figures.verification_quarter(month)
            values = dict(
                entry=entry, month=month, by_month=by_month, shops=shops, silent=devices.silent(conn, now),
                open_objections=objections.search(conn, status="open", limit=100),
                open_alerts=alerts.open_alerts(conn, limit=100), alert_count=alerts.open_count(conn),
                quarter=quarter, verification=quarterly_check.STATUS[
                    quarterly_check.verification_status(conn, quarter, now)],
                commitment=merchants.monthly_commitment_fen(conn), silent_hours=devices.SILENT_HOURS)
        finally:
            conn.close()
        return console.render(ctx, "district_community.html", **values)

    app.add_route("/community/{code}", community_page, methods=["GET"])

    @console.page(*DISTRICT)
    def export_xlsx(ctx: web.Ctx):
        month = month_of(ctx)
        rows = console.figures.table(month)
        return web.xlsx_response(report.xlsx(rows, month), f"区级统计表-{month.key}.xlsx")

    app.add_route("/export.xlsx", export_xlsx, methods=["GET"])

    @console.page(*DISTRICT)
    def report_pdf(ctx: web.Ctx):
        month = month_of(ctx)
        rows = console.figures.table(month)
        return web.pdf_response(report.pdf(rows, month, now=ctx.clock()), f"区级月度报告-{month.key}.pdf")

    app.add_route("/report.pdf", report_pdf, methods=["GET"])
