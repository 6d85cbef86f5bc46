"""Merchants, offers and devices (商户与设备): offers, tablet and kiosk enrolment (the code as a QR
on screen), revoking a device, last syncs and alerts, the offline policy and the worst-case
exposure of one copied card it implies. Merchant users see their own page only, read-only."""

from __future__ import annotations

import datetime as dt
import secrets

import markupsafe
import segno
from fastapi import FastAPI

from bank import alerts, community, devices, merchants, periods, policy, redemptions
from bank.errors import InvalidInput, NotFound

from .. import figures, tls
from ..sync_api import quarantine
from . import web
from .merchants_admin import WEEKDAYS, below_promise_page, offer_price
from .web import Console

ALERTS_PER_PAGE = 50
SHOWN_MINUTES = 30
POLICY_LABELS = {
    "per_card_daily_cap": ("每卡每台平板每日兑换上限(分)", 1, 10_000),
    "floor_limit": ("单笔超过此分数须联网(分)", 1, 10_000),
    "unsynced_cap": ("平板未同步积分总额上限(分)", 1, 1_000_000),
    "max_sync_age_hours": ("超过多少小时未同步停止兑换", 1, 24 * 30),
    "void_minutes": ("兑换后可撤销的分钟数", 0, 24 * 60),
    "pin_above": ("超过此分数要求输入密码(分)", 0, 10_000),
    "breaches_to_hold": ("一台设备一天违规几次即暂停", 1, 1000),
    "retention_days": ("设备保留已上传记录的天数(办公室从备份恢复后重新上传)", 1, 3650),
}




def register(app: FastAPI, console: Console) -> None:
    def exposure_view(conn):
        tablets = devices.tablets_by_merchant(conn)
        return policy.worst_case_exposure(conn, tablets), sum(tablets.values())

    @console.page(*web.STAFF)
    def merchant_list(ctx: web.Ctx):
        month = periods.current_month(ctx.clock())
        table = redemptions.monthly_table(ctx.conn, month)
        by_merchant: dict[int, list[int]] = {}
        for r in table:
            acc = by_merchant.setdefault(r.merchant_id, [0, 0, 0])
            acc[0] += r.count
            acc[1] += r.points
            acc[2] += r.value_fen
        tablets = devices.tablets_by_merchant(ctx.conn)
        exposure, tablet_count = exposure_view(ctx.conn)
        return console.render(ctx, "merchants.html", merchants=merchants.all_merchants(ctx.conn), month=month,
                              by_merchant=by_merchant, tablets=tablets, categories=merchants.CATEGORIES,
                              policy=policy.offline_policy(ctx.conn), labels=POLICY_LABELS, exposure=exposure,
                              tablet_count=tablet_count, statuses=merchants.STATUSES,
                              point_windows=policy.windows(ctx.conn, None), weekdays=WEEKDAYS)

    @console.page(*web.STAFF)
    def device_list(ctx: web.Ctx):
        now = ctx.clock()
        silent = {d["device_id"] for d in figures.silent_devices(ctx.conn, now)}
        names = {m.merchant_id: m.name for m in merchants.all_merchants(ctx.conn)}
        points = {r[0]: r[1] for r in ctx.conn.execute("SELECT service_point_id, name FROM service_points")}
        page = web.integer({"page": ctx.request.query_params.get("alerts_page", "1")}, "page", "页码", lo=1, hi=100_000)
        shown = alerts.open_alerts(ctx.conn, limit=ALERTS_PER_PAGE + 1, offset=(page - 1) * ALERTS_PER_PAGE)
        return console.render(ctx, "devices.html", devices=devices.all_devices(ctx.conn), kind_names=devices.KIND_NAMES,
                              silent=silent, names=names,
                              points=points, alerts=shown[:ALERTS_PER_PAGE], more_alerts=len(shown) > ALERTS_PER_PAGE,
                              alerts_page=page, open_alerts=alerts.open_count(ctx.conn), alert_kinds=alerts.KINDS,
                              service_points=sorted(points.items()))

    @console.page("office", "council", "merchant")
    def merchant_page(ctx: web.Ctx, merchant_id: str):
        m = merchants.get(ctx.conn, web.path_int(merchant_id, "商户"))
        ctx.scope_merchant(m.merchant_id)
        q = ctx.request.query_params
        month = periods.month(web.text(q, "month", "月份", max_len=7, required=False) or periods.current_month(ctx.clock()).key)
        table = redemptions.monthly_table(ctx.conn, month, m.merchant_id)
        recent = ctx.conn.execute(
            "SELECT e.entry_id, e.recorded_at, e.account_id, o.name AS offer, e.quantity, e.points, e.device_id, "
            "EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_entry_id = e.entry_id) AS reversed "
            "FROM ledger_entries e JOIN offers o USING (offer_id) WHERE e.merchant_id = ? AND e.kind = 'redemption' "
            "AND e.recorded_at >= ? AND e.recorded_at < ? ORDER BY e.entry_id DESC LIMIT 200",
            (m.merchant_id, month.start, month.end)).fetchall()
        own = [d for d in devices.all_devices(ctx.conn) if d.merchant_id == m.merchant_id]
        return console.render(ctx, "merchant.html", m=m, category=merchants.CATEGORIES.get(m.category, m.category),
                              offers=merchants.offers_of(ctx.conn, m.merchant_id, active_only=False), month=month,
                              table=table, recent=recent, devices=own,
                              policy=policy.offline_policy(ctx.conn, m.merchant_id),
                              quarantined={k: v for k, v in quarantine.quarantined_value(ctx.conn, m.merchant_id).items()
                                           if k != "posted"},
                              windows=policy.windows(ctx.conn, m.merchant_id), weekdays=WEEKDAYS,
                              statuses=merchants.STATUSES, categories=merchants.CATEGORIES,
                              compounds=community.compounds(ctx.conn),
                              promise=merchants.PROMISE_FEN_PER_POINT)

    @console.action("office")
    def add_offer(ctx: web.Ctx, form, merchant_id: str):
        m = merchants.get(ctx.conn, web.path_int(merchant_id, "商户"))
        name = web.text(form, "name", "项目名称", max_len=30)
        points, value_fen = offer_price(form)
        relist = merchants.check_new_offer(ctx.conn, m.merchant_id, name, points, value_fen)
        back = f"/merchants/{m.merchant_id}#offers"
        if merchants.below_promise(points, value_fen) and not web.confirmed(form):
            return below_promise_page(console, ctx, form, what=f"添加“{name}”", points=points, value_fen=value_fen,
                                      back=back)
        oid = merchants.add_offer(ctx.conn, m.merchant_id, name, points, value_fen)
        ctx.audit("offer.add", f"merchant {m.merchant_id}", {"offer_id": oid, "name": name, "points": points,
                                                             "value_fen": value_fen, "relisted": relist is not None})
        return back, f"已{'重新上架' if relist else '添加'}兑换项目“{name}”。"

    # A new code is shown on a page the browser reaches by a redirect, so a refresh shows the same
    # code again instead of posting the form twice (and making a second code). The store keeps no
    # code (only a key derived from it), so the page's values are held here, in memory, for the
    # user who made them and for SHOWN_MINUTES.
    shown: dict[str, tuple[str, dt.datetime, tuple[str, str, int]]] = {}

    def _show_once(ctx, code: str, what: str, hours: int) -> str:
        now = ctx.now()
        for token in [t for t, (_, until, _) in shown.items() if until <= now]:
            del shown[token]
        token = secrets.token_urlsafe(16)
        shown[token] = (ctx.user.name, now + dt.timedelta(minutes=SHOWN_MINUTES), (code, what, hours))
        return f"/devices/enrolment/{token}"

    @console.page("office")
    def enrol_code_page(ctx: web.Ctx, token: str):
        held = shown.get(token)
        if held is None or held[0] != ctx.user.name or held[1] <= ctx.now():
            raise NotFound("这个登记码页面已关闭或已过期。如登记码未用上,请重新生成。", "enrolment code page gone")
        return _enrol_page(ctx, *held[2])

    def _enrol_page(ctx, code: str, what: str, hours: int):
        # The QR names this office as the browser reached it, so a tablet enrols with one scan.
        # It carries the whole fingerprint of the certificate this office serves, which the device pins.
        server = str(ctx.request.base_url)
        fp = devices.office_fingerprint(ctx.conn)
        # No width/height but a viewBox: the stylesheet scales the whole code (with its quiet zone)
        # instead of cropping a fixed-size drawing to the box.
        svg = segno.make_qr(devices.enrol_qr_text(server, code, fp), error="m").svg_inline(border=4, omitsize=True)
        return console.render(ctx, "enrol.html", code=code, what=what, hours=hours, qr=markupsafe.Markup(svg),
                              fingerprint=tls.spaced(fp) if fp else "", server=server.rstrip("/"))

    @console.action("office")
    def enrol_tablet(ctx: web.Ctx, form, merchant_id: str):
        m = merchants.get(ctx.conn, web.path_int(merchant_id, "商户"))
        hours = web.integer(form, "hours", "有效小时", lo=1, hi=72)
        code = devices.new_enrolment_code(ctx.conn, merchant_id=m.merchant_id, hours=hours)
        ctx.audit("device.enrolment_code", f"merchant {m.merchant_id}", {"hours": hours})
        return _show_once(ctx, code, f"{m.name}的兑换平板", hours)

    @console.action("office")
    def enrol_kiosk(ctx: web.Ctx, form):
        sp = web.integer(form, "service_point", "服务点", lo=1)
        hours = web.integer(form, "hours", "有效小时", lo=1, hi=72)
        code = devices.new_enrolment_code(ctx.conn, service_point_id=sp, hours=hours)
        name = ctx.conn.execute("SELECT name FROM service_points WHERE service_point_id = ?", (sp,)).fetchone()[0]
        ctx.audit("device.enrolment_code", f"service point {sp}", {"hours": hours})
        return _show_once(ctx, code, f"{name}的一体机", hours)

    @console.action("office")
    def revoke_device(ctx: web.Ctx, form, device_id: str):
        d = devices.revoke(ctx.conn, device_id[:20])
        ctx.audit("device.revoke", f"device {d.device_id}")
        return "/merchants/devices", f"设备 {d.device_id} 已注销,此后它发来的任何数据都将被拒收。"

    @console.action("office", "council")
    def clear_alert(ctx: web.Ctx, form, alert_id: str):
        aid = web.path_int(alert_id, "提醒")
        alerts.clear_alert(ctx.conn, aid, by=ctx.actor)
        ctx.audit("alert.clear", f"alert {aid}")
        return "/merchants/devices#alerts", f"提醒 {aid} 已处理。"

    @console.action("office", "council")
    def clear_alerts(ctx: web.Ctx, form):
        ids = [web.path_int(v, "提醒") for v in form.getlist("alert")]
        if not ids:
            raise InvalidInput("请先勾选要处理的提醒。", "no alerts chosen")
        n = alerts.clear_many(ctx.conn, ids, by=ctx.actor)
        ctx.audit("alert.clear", f"{n} alerts", {"alerts": ids})
        return "/merchants/devices#alerts", f"已处理 {n} 条提醒。"

    @console.action("office")
    def save_policy(ctx: web.Ctx, form):
        values = {name: web.integer(form, name, label, lo=lo, hi=hi) for name, (label, lo, hi) in POLICY_LABELS.items()}
        before, _ = exposure_view(ctx.conn)
        policy.set_policy(ctx.conn, None, **values)
        after, _ = exposure_view(ctx.conn)
        ctx.audit("policy.set", "community", values)
        return "/merchants#policy", f"离线策略已保存。一张被复制的卡最坏情况每天可兑换 {after} 分(原为 {before} 分)。"

    add = app.add_route
    add("/merchants", merchant_list, methods=["GET"])
    add("/merchants/devices", device_list, methods=["GET"])
    add("/merchants/{merchant_id}", merchant_page, methods=["GET"])
    add("/merchants/{merchant_id}/offers", add_offer, methods=["POST"])
    add("/merchants/{merchant_id}/enrol", enrol_tablet, methods=["POST"])
    add("/devices/enrol-kiosk", enrol_kiosk, methods=["POST"])
    add("/devices/enrolment/{token}", enrol_code_page, methods=["GET"])
    add("/devices/{device_id}/revoke", revoke_device, methods=["POST"])
    add("/alerts/clear", clear_alerts, methods=["POST"])
    add("/alerts/{alert_id}/clear", clear_alert, methods=["POST"])
    add("/policy", save_policy, methods=["POST"])
