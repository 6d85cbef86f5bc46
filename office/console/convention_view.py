"""The convention (居民公约积分细则): every catalog version, and amending it as a new version with
an effective date (points and caps of each item; entries already made keep their version)."""

from __future__ import annotations

from fastapi import FastAPI

from bank import clock, convention
from bank.errors import InvalidInput

from . import web
from .web import Console


def catalog_data(cat: convention.Catalog) -> dict:
    return {"products": [{"code": p.code, "name": p.name, "slogan": p.slogan, "cadence": p.cadence} for p in cat.products],
            "items": [{"code": i.code, "product": i.product.code, "heading": i.heading, "name": i.name,
                       "points": i.points, "cap": i.cap, "description": i.description} for i in cat.items]}


def register(app: FastAPI, console: Console) -> None:
    @console.page(*web.EVERYONE_BUT_MERCHANTS)
    def view(ctx: web.Ctx):
        versions = ctx.conn.execute("SELECT version, effective_from, created_at, note FROM catalog_versions "
                                    "ORDER BY version DESC").fetchall()
        q = ctx.request.query_params
        current = convention.in_force(ctx.conn)
        shown = web.integer(q, "version", "版本", lo=1, required=False) or versions[0]["version"]
        return console.render(ctx, "convention.html", versions=versions, cat=convention.load(ctx.conn, shown),
                              current=current, cadences=convention.CADENCE_NAMES, today=clock.local_date(clock.now_utc()))

    @console.action("office")
    def amend(ctx: web.Ctx, form):
        effective = web.date(form, "effective_from", "生效日期")
        note = web.text(form, "note", "修订说明", max_len=200)
        if effective <= clock.local_date(clock.now_utc()):
            raise InvalidInput("新版本的生效日期须晚于今天。", "a new version takes effect after today")
        latest = ctx.conn.execute("SELECT max(version) FROM catalog_versions").fetchone()[0]
        data = catalog_data(convention.load(ctx.conn, latest))
        changed = []
        for item in data["items"]:
            code = item["code"]
            points = web.integer(form, f"points_{code}", f"{code} 分值", lo=-100, hi=100)
            if points == 0:
                raise InvalidInput(f"“{code} 分值”不能为0。", f"points_{code} cannot be 0")
            cap = web.integer(form, f"cap_{code}", f"{code} 次数上限", lo=1, hi=100, required=False)
            if (points, cap) != (item["points"], item["cap"]):
                changed.append(code)
            item["points"], item["cap"] = points, cap
        if not changed:
            raise InvalidInput("没有修改任何项目。", "nothing changed")
        version = convention.install(ctx.conn, data, effective_from=effective, note=note)
        ctx.audit("convention.amend", f"version {version}", {"effective_from": effective.isoformat(), "changed": changed})
        return f"/convention?version={version}", f"已生成第 {version} 版积分细则,自 {effective} 起施行(修改了 {len(changed)} 项)。"

    app.add_api_route("/convention", view, methods=["GET"], include_in_schema=False)
    app.add_api_route("/convention/amend", amend, methods=["POST"], include_in_schema=False)
