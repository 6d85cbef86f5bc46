"""The convention (居民公约积分细则): every catalog version, amending it as a new version with an
effective date (items added, renamed, retired; points and caps changed; a change between award
and deduction confirmed on its own page), and withdrawing a scheduled version before it takes
effect. Entries already made keep their version."""

from __future__ import annotations

from fastapi import FastAPI

from bank import clock, convention

from . import web
from .web import Console

NEW_ROWS = 3


def _amendment(form, base: convention.Catalog) -> dict:
    """The amendment the form asks for, as bank.convention.amend takes it."""
    changes, retire = {}, []
    for item in base.items:
        code = item.code
        if form.get(f"retire_{code}") == "1":
            retire.append(code)
            continue
        # a form without the name field keeps the name; a name field left empty is refused
        name = web.text(form, f"name_{code}", f"{code} 项目名称", max_len=30) if f"name_{code}" in form else item.name
        points = web.integer(form, f"points_{code}", f"{code} 分值", lo=-convention.MAX_ITEM_POINTS,
                             hi=convention.MAX_ITEM_POINTS)
        cap = web.integer(form, f"cap_{code}", f"{code} 次数上限", lo=1, hi=convention.MAX_CAP, required=False)
        if (name, points, cap) != (item.name, item.points, item.cap):
            changes[code] = {"name": name, "points": points, "cap": cap}
    add = []
    for n in range(1, NEW_ROWS + 1):
        name = web.text(form, f"new_name_{n}", f"新项目{n}名称", max_len=30, required=False)
        if not name:
            continue
        add.append({"product": web.choice(form, f"new_product_{n}", f"新项目{n}的积分产品", [p.code for p in base.products]),
                    "heading": web.choice(form, f"new_heading_{n}", f"新项目{n}的公约条目", convention.HEADINGS),
                    "name": name,
                    "points": web.integer(form, f"new_points_{n}", f"新项目{n}分值", lo=-convention.MAX_ITEM_POINTS,
                                          hi=convention.MAX_ITEM_POINTS),
                    "cap": web.integer(form, f"new_cap_{n}", f"新项目{n}次数上限", lo=1, hi=convention.MAX_CAP,
                                       required=False),
                    "description": web.text(form, f"new_description_{n}", f"新项目{n}说明", max_len=200, required=False)})
    return {"changes": changes, "retire": retire, "add": add}


def register(app: FastAPI, console: Console) -> None:
    @console.page(*web.EVERYONE_BUT_MERCHANTS)
    def view(ctx: web.Ctx):
        versions = convention.versions(ctx.conn)
        q = ctx.request.query_params
        current = convention.in_force(ctx.conn)
        latest = convention.latest(ctx.conn)
        shown = web.integer(q, "version", "版本", lo=1, required=False) or latest.version
        return console.render(ctx, "convention.html", versions=versions, cat=convention.load(ctx.conn, shown),
                              current=current, latest=latest, cadences=convention.CADENCE_NAMES,
                              headings=convention.HEADINGS, new_rows=NEW_ROWS,
                              today=clock.local_date(ctx.clock()))

    @console.action("office")
    def amend(ctx: web.Ctx, form):
        effective = web.date(form, "effective_from", "生效日期")
        note = web.text(form, "note", "修订说明", max_len=200)
        convention.check_effective(effective)
        wanted = _amendment(form, convention.latest(ctx.conn))
        plan = convention.plan_amendment(ctx.conn, **wanted)
        if plan.sign_changes and not web.confirmed(form):
            return console.confirm_page(
                ctx, form, heading="修订积分细则:有项目在加分和扣分之间改变", button="确认修订", back="/convention",
                warning="下列项目的性质改变了:原来加分的将变为扣分,或原来扣分的将变为加分。请与道德评议会确认后再保存。",
                lines=[f"{code} {name}:{old:+d} 分 → {new:+d} 分({'由加分改为扣分' if old > 0 else '由扣分改为加分'})"
                       for code, name, old, new in plan.sign_changes]
                + [f"自 {effective} 起施行;已记录的积分仍按原版本计算。", f"修订说明:{note}"])
        version, done = convention.amend(ctx.conn, effective_from=effective, note=note, confirm_sign_change=True,
                                         **wanted)
        ctx.audit("convention.amend", f"version {version}",
                  {"effective_from": effective.isoformat(), "changed": done.changed, "added": done.added,
                   "retired": done.retired, "sign_changes": [c for c, *_ in done.sign_changes]})
        parts = [f"修改 {len(done.changed)} 项"] + ([f"新增 {len(done.added)} 项"] if done.added else []) \
            + ([f"停用 {len(done.retired)} 项"] if done.retired else [])
        return f"/convention?version={version}", f"已生成第 {version} 版积分细则,自 {effective} 起施行({','.join(parts)})。"

    @console.action("office")
    def withdraw(ctx: web.Ctx, form, version: str):
        v = web.path_int(version, "版本")
        convention.withdraw(ctx.conn, v)
        ctx.audit("convention.withdraw", f"version {v}")
        return "/convention", f"第 {v} 版已撤回,不会生效。"

    app.add_route("/convention", view, methods=["GET"])
    app.add_route("/convention/amend", amend, methods=["POST"])
    app.add_route("/convention/{version}/withdraw", withdraw, methods=["POST"])
