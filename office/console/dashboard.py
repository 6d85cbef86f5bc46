"""The dashboard (首页): the month's and the year's figures at a glance."""

from __future__ import annotations

from fastapi import FastAPI

from bank import alerts, clock, merchants, objections, periods

from .. import figures
from . import web
from .web import Console


def register(app: FastAPI, console: Console) -> None:
    @console.page(*web.STAFF)
    def dashboard(ctx: web.Ctx):
        now = ctx.clock()
        months = figures.last_months(clock.local_date(now))
        by_month = figures.points_by_month(ctx.conn, months)
        peak = max([max(r["award"], r["deduction"], r["redemption"], r["expiry"]) for r in by_month] + [1])
        quarter = periods.current_quarter(now)
        donated = figures.donated_by_month(ctx.conn, months)
        by_compound = figures.awarded_by_compound(ctx.conn, quarter.start, quarter.end)
        by_product = figures.awarded_by_product(ctx.conn, quarter.start, quarter.end)
        target = merchants.monthly_commitment_fen(ctx.conn)
        return console.render(
            ctx, "dashboard.html", by_month=by_month, peak=peak, quarter=quarter, donated=donated,
            donated_peak=max([v for _, v in donated] + [target]),
            target=target, by_compound=by_compound,
            compound_peak=max([a for _, a, _ in by_compound] + [1]), by_product=by_product,
            product_peak=max([v for _, v in by_product] + [1]), people=figures.participation(ctx.conn, now),
            silent=figures.silent_devices(ctx.conn, now), open_alerts=len(alerts.open_alerts(ctx.conn)),
            open_objections=len(objections.search(ctx.conn, status="open")))

    app.add_route("/", dashboard, methods=["GET"])
