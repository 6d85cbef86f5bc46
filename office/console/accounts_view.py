"""Residents and cards (储户与卡): search, the account page with its passbook, cards (issue,
report lost and reissue, print), PIN, household members, entries and redemption at the office."""

from __future__ import annotations

import urllib.parse

from fastapi import FastAPI

from bank import (accounts, cards, community, convention, db, households, ledger, merchants, objections, redemptions,
                  reviews, validity, clock)
from bank.errors import InvalidInput

from .. import cardsheet
from . import web
from .web import Console

PER_PAGE = 50
HISTORY_PER_PAGE = 30     # the account page's whole history, in pages, newest first
RELATIONS = accounts.RELATIONS


def register(app: FastAPI, console: Console) -> None:
    def account_of(ctx: web.Ctx, account_id: str) -> accounts.Account:
        acct = accounts.get(ctx.conn, web.path_int(account_id, "储户"))
        ctx.scope_compound(acct.compound_id)
        return acct

    @console.page(*web.EVERYONE_BUT_MERCHANTS)
    def residents(ctx: web.Ctx):
        q = ctx.request.query_params
        term = web.text(q, "q", "查找", max_len=20, required=False)
        compound_id = web.compound(ctx.conn, q)
        if ctx.user.role == "reviewer":
            compound_id = ctx.user.compound_id
        building = web.integer(q, "building", "楼栋", lo=1, hi=999, required=False)
        unit = web.integer(q, "unit", "单元", lo=1, hi=99, required=False)
        room = web.text(q, "room", "房号", max_len=10, required=False)
        status = q.get("status", "")
        if status not in ("", *accounts.STATUSES):
            status = ""
        page = web.integer(q, "page", "页码", lo=1, hi=100_000, required=False) or 1
        found = accounts.search(ctx.conn, term=term, compound_id=compound_id, building=building, unit=unit, room=room,
                                status=status, page=page, per_page=PER_PAGE)
        query = {"q": term, "compound": compound_id or "", "building": building or "", "unit": unit or "",
                 "room": room, "status": status}
        return console.render(ctx, "residents.html", found=found, rows=found.rows, q=term, compound_id=compound_id,
                              building=building, unit=unit, room=room, status=status,
                              status_names=accounts.STATUS_NAMES, compounds=community.compounds(ctx.conn),
                              query=urllib.parse.urlencode({k: v for k, v in query.items() if v != ""}))

    @console.page(*web.EVERYONE_BUT_MERCHANTS)
    def account_page(ctx: web.Ctx, account_id: str):
        acct = account_of(ctx, account_id)
        aid = acct.account_id
        catalog = convention.in_force(ctx.conn)
        balance = ledger.balance(ctx.conn, aid)
        held = objections.held_points(ctx.conn, aid)
        offers = [(m, merchants.offers_of(ctx.conn, m.merchant_id)) for m in merchants.all_merchants(ctx.conn)
                  if m.category == "redemption_point"]
        own_cards = cards.cards_of(ctx.conn, aid)
        history_page = web.integer(ctx.request.query_params, "page", "页码", lo=1, hi=100_000, required=False) or 1
        history_total = ledger.entry_count(ctx.conn, aid)
        current_versions: dict[str, int] = {}
        for c in own_cards:
            current_versions[c.card_id] = max(current_versions.get(c.card_id, 0), c.version)
        return console.render(
            ctx, "account.html", acct=acct, members=accounts.members(ctx.conn, aid), cards=own_cards,
            current_versions=current_versions,
            balance=balance, held=held, available=redemptions.available(ctx.conn, aid),
            passbook=ledger.passbook(ctx.conn, aid, limit=HISTORY_PER_PAGE, offset=(history_page - 1) * HISTORY_PER_PAGE),
            history_page=history_page, history_total=history_total, history_per_page=HISTORY_PER_PAGE,
            history_pages=max(1, -(-history_total // HISTORY_PER_PAGE)), kind_names=ledger.KIND_NAMES,
            expiring=validity.expiring_within(ctx.conn, aid, clock.local_date(ctx.clock())),
            catalog=catalog, compound=dict((c.compound_id, c.name) for c in community.compounds(ctx.conn))[acct.compound_id],
            cases=objections.search(ctx.conn, account_id=aid), offers=offers, relations=RELATIONS,
            undoable=households.undoable_merges(ctx.conn, aid) if ctx.user.role == "office" else [],
            end_reasons=cards.END_REASONS, loss_reasons=cards.LOSS_REASONS, **web.second_fields(ctx))

    @console.action("office")
    def issue_card(ctx: web.Ctx, form, account_id: str):
        acct = account_of(ctx, account_id)
        if any(c.status == "active" and c.role == "resident" for c in cards.cards_of(ctx.conn, acct.account_id)):
            raise InvalidInput("该储户已有有效的卡;遗失请办理挂失补办。", "the account already has an active card")
        card = cards.issue(ctx.conn, acct.account_id)
        ctx.audit("card.issue", f"account {acct.account_id}", {"card_id": card.card_id})
        return f"/residents/{acct.account_id}", f"已发卡,卡号 {card.card_id}。请打印储户卡。"

    @console.action("office")
    def report_lost(ctx: web.Ctx, form, account_id: str, card_id: str):
        acct = account_of(ctx, account_id)
        reason = web.choice(form, "reason", "原因", cards.LOSS_REASONS)
        new = cards.report_lost(ctx.conn, card_id[:10], reason=reason, account_id=acct.account_id)
        ctx.audit("card.reissue", f"account {acct.account_id}", {"card_id": card_id, "version": new.version,
                                                                 "reason": reason})
        return f"/residents/{acct.account_id}", f"卡 {card_id} 旧版已作废,已补办第 {new.version} 版。请打印新卡。"

    @console.action("office")
    def set_pin(ctx: web.Ctx, form, account_id: str):
        acct = account_of(ctx, account_id)
        if form.get("clear") == "1":
            accounts.set_pin(ctx.conn, acct.account_id, None)
            ctx.audit("pin.clear", f"account {acct.account_id}")
            return f"/residents/{acct.account_id}", "已取消兑换密码。"
        pin = web.text(form, "pin", "密码", max_len=6)
        accounts.set_pin(ctx.conn, acct.account_id, pin)
        ctx.audit("pin.set", f"account {acct.account_id}")
        return f"/residents/{acct.account_id}", "已设置兑换密码。"

    @console.action("office")
    def add_member(ctx: web.Ctx, form, account_id: str):
        acct = account_of(ctx, account_id)
        name = web.text(form, "name", "姓名", max_len=20)
        relation = web.choice(form, "relation", "关系", RELATIONS)
        member_id = accounts.add_member(ctx.conn, acct.account_id, name, relation)
        ctx.audit("member.add", f"account {acct.account_id}", {"member_id": member_id, "name": name})
        return f"/residents/{acct.account_id}", f"已添加家庭成员 {name}。"

    @console.action("office")
    def merge(ctx: web.Ctx, form, account_id: str):
        acct = account_of(ctx, account_id)
        target = web.integer(form, "target", "并入的储户编号", lo=1)
        ctx.scope_compound(accounts.get(ctx.conn, target).compound_id)
        note = web.text(form, "note", "办理原因", max_len=100)
        plan = households.plan_merge(ctx.conn, acct.account_id, target)
        if not web.confirmed(form):
            cards_out = "、".join(c.card_id for c in plan.source.cards) or "无"
            return console.confirm_page(
                ctx, form, heading=f"并户:储户 {acct.account_id} 并入储户 {target}", button="确认并户",
                back=f"/residents/{acct.account_id}#household",
                sides=[("转出并销户的储户", plan.source), ("并入的储户", plan.target)],
                lines=[f"{'、'.join(plan.source.member_names)}转入储户 {target},户主仍为{plan.target.account.display_name}。",
                       f"余额 {plan.points} 分以一对“调整”记录转入,沿用原有效期;并入后储户 {target} 余额为 "
                       f"{plan.points + plan.target.balance} 分。",
                       f"储户 {acct.account_id} 销户,卡 {cards_out} 立即作废(各设备下次同步后拒收)。",
                       "当天可以在储户页撤销这次并户。", f"原因:{note}"])
        moved = households.merge(ctx.conn, acct.account_id, target, note=note, by=ctx.recorder)
        ctx.audit("household.merge", f"account {acct.account_id}",
                  {"into": target, "points": moved.points, "members": moved.members, "note": note,
                   "change_id": moved.change_id})
        return f"/residents/{target}", (f"储户 {acct.account_id} 已并入本户:{'、'.join(moved.members)},"
                                        f"转入 {moved.points} 分;原账户已销户,原卡已作废。当天可撤销。")

    @console.action("office")
    def undo_merge(ctx: web.Ctx, form, account_id: str, change_id: str):
        account_of(ctx, account_id)
        cid = web.path_int(change_id, "并户记录")
        plan = households.plan_undo_merge(ctx.conn, cid)
        source, target = plan.source.account, plan.target.account
        if not web.confirmed(form):
            return console.confirm_page(
                ctx, form, heading=f"撤销并户:储户 {source.account_id} 从储户 {target.account_id} 分回", button="确认撤销",
                back=f"/residents/{target.account_id}", sides=[("恢复的储户", plan.source), ("现在的储户", plan.target)],
                lines=[f"{'、'.join(plan.member_names)}回到储户 {source.account_id},原户主不变。",
                       f"并入的 {plan.change['points']} 分转回储户 {source.account_id},沿用原有效期。",
                       f"储户 {source.account_id} 恢复,补发新版卡(原卡已作废,需重新打印)。"])
        moved = households.undo_merge(ctx.conn, cid, by=ctx.recorder)
        ctx.audit("household.merge_undo", f"account {source.account_id}",
                  {"change_id": cid, "from": target.account_id, "points": moved.points, "card_id": moved.card_id})
        return f"/residents/{source.account_id}", (f"已撤销并户:储户 {source.account_id} 已恢复,"
                                                   f"补发卡 {moved.card_id or '—'},请打印新卡。")

    @console.action("office")
    def split(ctx: web.Ctx, form, account_id: str):
        acct = account_of(ctx, account_id)
        raw = form.getlist("member")
        if len(raw) > 50:
            raise InvalidInput("所选成员太多。", "too many members")
        member_ids = [web.integer({"v": v}, "v", "家庭成员", lo=1) for v in raw]
        points = web.integer(form, "points", "分出的积分", lo=0)
        room = web.text(form, "room", "房号", max_len=10, required=False)
        building = web.integer(form, "building", "楼栋", lo=1, hi=99, required=False)
        unit = web.integer(form, "unit", "单元", lo=1, hi=20, required=False)
        note = web.text(form, "note", "办理原因", max_len=100)
        plan = households.plan_split(ctx.conn, acct.account_id, member_ids, points=points, building=building,
                                     unit=unit, room=room or None)
        if not web.confirmed(form):
            stay = [m["name"] for m in plan.source.members if m["member_id"] not in member_ids]
            return console.confirm_page(
                ctx, form, heading=f"分户:从储户 {acct.account_id} 分出新储户", button="确认分户",
                back=f"/residents/{acct.account_id}#household", sides=[("原储户(办理前)", plan.source)],
                extra_template="_split_new.html", plan=plan,
                lines=[f"{'、'.join(plan.names)}分出为新储户,{plan.names[0]}为户主,住址 {plan.building}栋{plan.unit}单元{plan.room}。",
                       f"{'、'.join(stay)}留在储户 {acct.account_id}。",
                       f"分出 {points} 分给新储户,原储户余 {plan.source.balance - points} 分;新储户发新卡,请打印。",
                       f"原因:{note}"])
        moved = households.split(ctx.conn, acct.account_id, member_ids, points=points, note=note,
                                 by=ctx.recorder, building=building, unit=unit, room=room or None)
        ctx.audit("household.split", f"account {acct.account_id}",
                  {"new_account": moved.target_id, "points": points, "members": moved.members,
                   "card_id": moved.card_id, "note": note})
        return f"/residents/{moved.target_id}", (f"已从储户 {acct.account_id} 分出新储户 {moved.target_id}"
                                                 f"({'、'.join(moved.members)}),转入 {points} 分,新卡号 {moved.card_id}。请打印储户卡。")

    @console.action(*web.EVERYONE_BUT_MERCHANTS, atomic=False)   # a second member's PIN is counted first
    def record_entry(ctx: web.Ctx, form, account_id: str):
        acct = account_of(ctx, account_id)
        code = web.text(form, "item", "积分项目", max_len=10)
        note = web.text(form, "note", "备注", max_len=ledger.MAX_NOTE, required=False)
        confirmation = web.second_confirmation(ctx, acct.account_id, code, form)
        with db.transaction(ctx.conn):
            e = reviews.record(ctx.conn, ctx.user, acct.account_id, code, note=note, confirmation=confirmation)
            ctx.audit("entry.record", f"account {acct.account_id}",
                      {"entry_id": e.entry_id, "item": code, "points": e.points})
        back = web.text(form, "back", "返回", max_len=200, required=False)
        return (back if back.startswith("/") and not back.startswith("//") else f"/residents/{acct.account_id}",
                f"已为储户 {acct.account_id} 记录 {e.points:+d} 分。")

    @console.action("office")
    def redeem(ctx: web.Ctx, form, account_id: str):
        acct = account_of(ctx, account_id)
        offer_id = web.integer(form, "offer", "兑换项目", lo=1)
        qty = web.integer(form, "quantity", "数量", lo=1, hi=99)
        e = redemptions.redeem_at_office(ctx.conn, acct.account_id, offer_id, qty, recorded_by=ctx.recorder)
        ctx.audit("redemption.office", f"account {acct.account_id}", {"entry_id": e.entry_id, "offer": offer_id,
                                                                      "quantity": qty})
        return f"/residents/{acct.account_id}", f"已兑换,扣 {-e.points} 分。"

    @console.page("office")
    def card_pdf(ctx: web.Ctx, account_id: str):
        acct = account_of(ctx, account_id)
        data = cardsheet.build(ctx.conn, [acct.account_id])
        ctx.audit("card.print", f"account {acct.account_id}")
        return web.pdf_response(data, f"储户卡-{acct.account_id}.pdf")

    @console.page("office")
    def card_sheet(ctx: web.Ctx):
        raw = web.text(ctx.request.query_params, "accounts", "储户编号", max_len=2000)
        parts = [p for p in raw.replace(",", ",").replace(" ", ",").split(",") if p]
        ids = [web.integer({"v": p}, "v", "储户编号", lo=1) for p in parts]
        if not ids:
            raise InvalidInput("请填写储户编号。", "no account ids")
        sheet = cardsheet.build_many(ctx.conn, ids)
        if sheet.skipped:
            # Said before anything is printed; the page's link prints the others.
            return console.render(ctx, "cards_skipped.html", sheet=sheet, again="/cards/sheet.pdf?" + urllib.parse.urlencode(
                {"accounts": ",".join(map(str, sheet.printed))}))
        ctx.audit("card.print", ",".join(map(str, sheet.printed))[:200])
        return web.pdf_response(sheet.data, "储户卡.pdf")

    add = app.add_route
    add("/residents", residents, methods=["GET"])
    add("/residents/{account_id}", account_page, methods=["GET"])
    add("/residents/{account_id}/card.pdf", card_pdf, methods=["GET"])
    add("/cards/sheet.pdf", card_sheet, methods=["GET"])
    add("/residents/{account_id}/cards", issue_card, methods=["POST"])
    add("/residents/{account_id}/cards/{card_id}/lost", report_lost, methods=["POST"])
    add("/residents/{account_id}/pin", set_pin, methods=["POST"])
    add("/residents/{account_id}/members", add_member, methods=["POST"])
    add("/residents/{account_id}/merge", merge, methods=["POST"])
    add("/residents/{account_id}/merges/{change_id}/undo", undo_merge, methods=["POST"])
    add("/residents/{account_id}/split", split, methods=["POST"])
    add("/residents/{account_id}/entries", record_entry, methods=["POST"])
    add("/residents/{account_id}/redeem", redeem, methods=["POST"])
