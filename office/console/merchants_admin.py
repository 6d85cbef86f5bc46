"""Registering merchants (商户登记): a new merchant (the 71st shop), its details, suspending,
reinstating, leaving (after a page listing the offers that are withdrawn); offers edited (a price
below ¥1 a point is confirmed first) and withdrawn; redemption windows (兑换时限) of a merchant and
of the community's own redemption point. The office does all of it; every change is audited.

Registered before :mod:`merchants_view`, so ``/merchants/new`` is not taken for a merchant id."""

from __future__ import annotations

from fastapi import FastAPI

from bank import community, devices, merchants, money, policy

from . import web
from .web import Console

WEEKDAYS = "一二三四五六日"


def merchant_fields(form) -> dict:
    return {"name": web.text(form, "name", "商户名称", max_len=40),
            "category": web.choice(form, "category", "类别", merchants.CATEGORIES),
            "compound_id": web.integer(form, "compound", "小区", lo=1, required=False),
            "address": web.text(form, "address", "地址", max_len=100, required=False),
            "contact": web.text(form, "contact", "联系人", max_len=20, required=False),
            "phone": web.text(form, "phone", "电话", max_len=20, required=False)}


def offer_price(form) -> tuple[int, int]:
    return (web.integer(form, "points", "所需积分", lo=1, hi=merchants.MAX_OFFER_POINTS),
            money.parse_yuan(web.text(form, "value", "价值(元)", max_len=10)))


def below_promise_page(console: Console, ctx: web.Ctx, form, *, what: str, points: int, value_fen: int, back: str):
    """The office is warned before an offer is priced below the scheme's ¥1 a point."""
    return console.confirm_page(ctx, form, heading=f"{what}:每分价值不足1元", button="仍然保存", back=back,
                                warning=merchants.promise_warning(points, value_fen),
                                lines=[f"{points} 分兑换价值 {money.yuan(value_fen)} 元的商品或服务。",
                                       "如属商户让利不足,请与商户商量提高价值或减少所需积分。"])


def _window(form) -> dict:
    days = "".join("1" if form.get(f"day_{i}") == "1" else "0" for i in range(7))
    return {"weekdays": days, "opens": web.text(form, "opens", "开始时间", max_len=5),
            "closes": web.text(form, "closes", "结束时间", max_len=5),
            "place": web.text(form, "place", "兑换地点", max_len=60)}


def register(app: FastAPI, console: Console) -> None:
    def merchant_of(merchant_id: str) -> merchants.Merchant:
        return merchants.get(console.conn(), web.path_int(merchant_id, "商户"))

    @console.page("office")
    def new_form(ctx: web.Ctx):
        return console.render(ctx, "merchant_new.html", categories=merchants.CATEGORIES,
                              compounds=community.compounds(ctx.conn), count=len(merchants.all_merchants(ctx.conn)))

    @console.action("office")
    def create(ctx: web.Ctx, form):
        fields = merchant_fields(form)
        mid = merchants.add_merchant(ctx.conn, fields.pop("name"), fields.pop("category"), **fields)
        m = merchants.get(ctx.conn, mid)
        ctx.audit("merchant.add", f"merchant {mid}", {"name": m.name, "category": m.category})
        return f"/merchants/{mid}", f"已新增商户 {m.name}(编号 {mid})。请添加兑换项目、兑换时间,再登记平板。"

    @console.action("office")
    def edit(ctx: web.Ctx, form, merchant_id: str):
        m = merchant_of(merchant_id)
        changed = merchants.edit_merchant(ctx.conn, m.merchant_id, **merchant_fields(form))
        if changed:
            ctx.audit("merchant.edit", f"merchant {m.merchant_id}", changed)
        return f"/merchants/{m.merchant_id}", "商户信息已修改。" if changed else "没有修改任何内容。"

    @console.action("office")
    def suspend(ctx: web.Ctx, form, merchant_id: str):
        m = merchants.suspend(ctx.conn, merchant_of(merchant_id).merchant_id)
        ctx.audit("merchant.suspend", f"merchant {m.merchant_id}")
        return f"/merchants/{m.merchant_id}", f"{m.name}已暂停:各平板下次同步后不能兑换,已兑换的照常结算。"

    @console.action("office")
    def reinstate(ctx: web.Ctx, form, merchant_id: str):
        m = merchants.reinstate(ctx.conn, merchant_of(merchant_id).merchant_id)
        ctx.audit("merchant.reinstate", f"merchant {m.merchant_id}")
        return f"/merchants/{m.merchant_id}", f"{m.name}已恢复正常。"

    @console.action("office")
    def leave(ctx: web.Ctx, form, merchant_id: str):
        m = merchant_of(merchant_id)
        if m.status == "left":
            merchants.leave(ctx.conn, m.merchant_id)      # refuses with the reason
        if not web.confirmed(form):
            offers = [o for o in merchants.offers_of(ctx.conn, m.merchant_id, active_only=False) if o.active]
            tablets = [d for d in devices.all_devices(ctx.conn) if d.merchant_id == m.merchant_id and d.status == "active"]
            return console.confirm_page(
                ctx, form, heading=f"商户退出:{m.name}", button="确认退出", back=f"/merchants/{m.merchant_id}",
                lines=[f"撤下全部 {len(offers)} 个兑换项目:{'、'.join(o.name for o in offers) or '无'}。",
                       "各平板下次同步后不能再兑换;已兑换的照常结算,本月和以前的统计不变。",
                       f"该商户有 {len(tablets)} 台平板:同步完最后的兑换后,请在“设备与提醒”注销。",
                       "以后如重新加入,可点“恢复正常”并重新上架兑换项目。"])
        withdrawn = merchants.leave(ctx.conn, m.merchant_id)
        ctx.audit("merchant.leave", f"merchant {m.merchant_id}", {"offers_withdrawn": [o.offer_id for o in withdrawn]})
        return f"/merchants/{m.merchant_id}", f"{m.name}已退出,{len(withdrawn)} 个兑换项目已撤下。"

    @console.action("office")
    def edit_offer(ctx: web.Ctx, form, offer_id: str):
        o = merchants.offer(ctx.conn, web.path_int(offer_id, "兑换项目"))
        name = web.text(form, "name", "项目名称", max_len=30)
        points, value_fen = offer_price(form)
        back = f"/merchants/{o.merchant_id}#offers"
        merchants.check_offer_edit(ctx.conn, o.offer_id, name=name, points=points, value_fen=value_fen)
        if merchants.below_promise(points, value_fen) and not web.confirmed(form):
            return below_promise_page(console, ctx, form, what=f"修改“{o.name}”", points=points, value_fen=value_fen,
                                      back=back)
        changed = merchants.edit_offer(ctx.conn, o.offer_id, name=name, points=points, value_fen=value_fen)
        if not changed:
            return back, "没有修改任何内容。"
        ctx.audit("offer.edit", f"offer {o.offer_id}", changed)
        return back, f"兑换项目“{name}”已修改;各平板下次同步后按新价格兑换,已兑换的仍按原价统计。"

    @console.action("office")
    def withdraw_offer(ctx: web.Ctx, form, offer_id: str):
        o = merchants.withdraw_offer(ctx.conn, merchants.offer(ctx.conn, web.path_int(offer_id, "兑换项目")).offer_id)
        ctx.audit("offer.withdraw", f"offer {o.offer_id}", {"name": o.name})
        return f"/merchants/{o.merchant_id}#offers", f"“{o.name}”已撤下;重新上架时用同一名称添加即可。"

    @console.action("office")
    def add_window(ctx: web.Ctx, form, merchant_id: str):
        m = merchant_of(merchant_id)
        w = _window(form)
        wid = policy.add_window(ctx.conn, merchant_id=m.merchant_id, **w)
        ctx.audit("window.add", f"merchant {m.merchant_id}", {"window_id": wid, **w})
        return f"/merchants/{m.merchant_id}#windows", f"已添加兑换时间:{policy.window(ctx.conn, wid).describe()}。"

    @console.action("office")
    def add_point_window(ctx: web.Ctx, form):
        w = _window(form)
        wid = policy.add_window(ctx.conn, merchant_id=None, **w)
        ctx.audit("window.add", "community redemption point", {"window_id": wid, **w})
        return "/merchants#point", f"已添加社区兑换点兑换时间:{policy.window(ctx.conn, wid).describe()}。"

    @console.action("office")
    def remove_window(ctx: web.Ctx, form, window_id: str):
        w = policy.remove_window(ctx.conn, web.path_int(window_id, "兑换时间"))
        target = f"merchant {w.merchant_id}" if w.merchant_id is not None else "community redemption point"
        ctx.audit("window.remove", target, {"window_id": w.window_id, "window": w.describe(), "place": w.place})
        back = f"/merchants/{w.merchant_id}#windows" if w.merchant_id is not None else "/merchants#point"
        return back, f"已删除兑换时间:{w.describe()}。"

    add = app.add_route
    add("/merchants/new", new_form, methods=["GET"])
    add("/merchants/new", create, methods=["POST"])
    add("/merchants/{merchant_id}/edit", edit, methods=["POST"])
    add("/merchants/{merchant_id}/suspend", suspend, methods=["POST"])
    add("/merchants/{merchant_id}/reinstate", reinstate, methods=["POST"])
    add("/merchants/{merchant_id}/leave", leave, methods=["POST"])
    add("/merchants/{merchant_id}/windows", add_window, methods=["POST"])
    add("/redemption-point/windows", add_point_window, methods=["POST"])
    add("/windows/{window_id}/remove", remove_window, methods=["POST"])
    add("/offers/{offer_id}/edit", edit_offer, methods=["POST"])
    add("/offers/{offer_id}/withdraw", withdraw_offer, methods=["POST"])
