"""Objections (异议): the list, raising one at the office, and each step of a case up to filing."""

from __future__ import annotations

from fastapi import FastAPI

from bank import accounts, convention, ledger, objections

from . import web
from .web import Console


def register(app: FastAPI, console: Console) -> None:
    @console.page(*web.STAFF)
    def listing(ctx: web.Ctx):
        q = ctx.request.query_params
        status = q.get("status", "")
        if status not in ("", "open", *objections.STATUSES):
            status = ""
        return console.render(ctx, "objections.html", cases=objections.search(ctx.conn, status=status), status=status,
                              statuses=objections.STATUSES)

    @console.page(*web.STAFF)
    def case_page(ctx: web.Ctx, objection_id: str):
        case = objections.get(ctx.conn, web.path_int(objection_id, "异议"))
        entry = ledger.entry(ctx.conn, case.entry_id) if case.entry_id else None
        return console.render(ctx, "objection.html", case=case, acct=accounts.get(ctx.conn, case.account_id),
                              entry=entry, kind_names=ledger.KIND_NAMES, rulings=objections.RULINGS,
                              sources=objections.SOURCES, corrections=objections.corrections(ctx.conn, case.objection_id),
                              catalog=convention.in_force(ctx.conn), statuses=objections.STATUSES)

    @console.action(*web.STAFF)
    def raise_case(ctx: web.Ctx, form):
        account_id = web.integer(form, "account", "储户编号", lo=1)
        entry_id = web.integer(form, "entry", "台账记录编号", lo=1, required=False)
        reason = web.text(form, "reason", "异议理由", max_len=objections.MAX_TEXT)
        raised_by = web.text(form, "raised_by", "提出人", max_len=40)
        case = objections.raise_objection(ctx.conn, account_id, reason=reason, raised_by=raised_by, entry_id=entry_id,
                                          source="office")
        ctx.audit("objection.raise", f"objection {case.objection_id}", {"account": account_id, "entry": entry_id,
                                                                        "held": case.points_held})
        return f"/objections/{case.objection_id}", f"已登记异议(第 {case.objection_id} 号)。"

    @console.action(*web.STAFF)
    def step(ctx: web.Ctx, form, objection_id: str, step: str):
        oid = web.path_int(objection_id, "异议")
        if step == "assign":
            objections.assign(ctx.conn, oid, to=web.text(form, "to", "承办人", max_len=40))
        elif step == "investigate":
            objections.investigate(ctx.conn, oid, findings=web.text(form, "findings", "调查情况", max_len=500))
        elif step == "rule":
            ruling = web.choice(form, "ruling", "裁定结果", objections.RULINGS)
            correct = web.text(form, "correct_item", "改记项目", max_len=10, required=False) or None
            objections.rule(ctx.conn, oid, ruling=ruling, note=web.text(form, "note", "裁定意见", max_len=500),
                            by=ctx.actor, correct_item=correct if ruling == "upheld" else None)
        elif step == "answer":
            objections.answer(ctx.conn, oid, text=web.text(form, "answer", "答复内容", max_len=500))
        elif step == "file":
            objections.file_case(ctx.conn, oid, by=ctx.actor)
        else:
            raise web.NotFound("没有这个办理步骤。", f"no step {step!r}")
        case = objections.get(ctx.conn, oid)
        ctx.audit(f"objection.{step}", f"objection {oid}", {"status": case.status, "ruling": case.ruling})
        return f"/objections/{oid}", f"异议 {oid}:{case.status_name}。"

    add = app.add_route
    add("/objections", listing, methods=["GET"])
    add("/objections", raise_case, methods=["POST"])
    add("/objections/{objection_id}", case_page, methods=["GET"])
    add("/objections/{objection_id}/{step}", step, methods=["POST"])
