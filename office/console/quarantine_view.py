"""暂扣待审 (the quarantine): device events the office did not charge because they broke a rule.

The council posts a case (it is booked as the device sent it) or rejects it with a reason the
merchant reads on the tablet (:mod:`office.sync_api.quarantine`). A device held after breaking
rules too often is released from the devices page.
"""

from __future__ import annotations

from fastapi import FastAPI

from bank import devices
from office.sync_api import quarantine

from . import web
from .web import Console

PAGE = 50


def register(app: FastAPI, console: Console) -> None:
    @console.page(*web.STAFF)
    def quarantine_list(ctx: web.Ctx):
        q = ctx.request.query_params
        status = web.choice({"status": q.get("status", "open")}, "status", "状态", quarantine.STATUS_NAMES)
        page = web.integer({"page": q.get("page", "1")}, "page", "页码", lo=1, hi=100_000)
        cases = quarantine.search(ctx.conn, status=status, limit=PAGE + 1, offset=(page - 1) * PAGE)
        held = [d for d in devices.all_devices(ctx.conn) if d.held_at]
        return console.render(ctx, "quarantine.html", cases=cases[:PAGE], more=len(cases) > PAGE, page=page,
                              status=status, statuses=quarantine.STATUS_NAMES, kinds=quarantine.KIND_NAMES,
                              open_count=quarantine.count(ctx.conn), held=held)

    @console.action(*web.STAFF)
    def post_case(ctx: web.Ctx, form, case_id: str):
        case = quarantine.post(ctx.conn, web.path_int(case_id, "待审核事件"), by=ctx.actor,
                               reason=web.text(form, "reason", "理由", required=False))
        return "/quarantine", f"第 {case.quarantine_id} 号事件已放行入账({case.points:+d} 分)。"

    @console.action(*web.STAFF)
    def reject_case(ctx: web.Ctx, form, case_id: str):
        case = quarantine.reject(ctx.conn, web.path_int(case_id, "待审核事件"), by=ctx.actor,
                                 reason=web.text(form, "reason", "驳回理由"))
        return "/quarantine", f"第 {case.quarantine_id} 号事件已驳回,设备下次同步时会告知商户。"

    @console.action("office")
    def release_device(ctx: web.Ctx, form, device_id: str):
        d = devices.release(ctx.conn, device_id[:20], by=ctx.actor)
        return "/merchants/devices", f"设备 {d.device_id} 已解除暂停,此后所发事件逐条核对。"

    add = app.add_route
    add("/quarantine", quarantine_list, methods=["GET"])
    add("/quarantine/{case_id}/post", post_case, methods=["POST"])
    add("/quarantine/{case_id}/reject", reject_case, methods=["POST"])
    add("/devices/{device_id}/release", release_device, methods=["POST"])
