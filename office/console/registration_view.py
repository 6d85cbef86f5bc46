"""Registering residents (开户与储户信息): open a household or single account with its card, edit
the holder's name, address and phone, members in and out, a change of holder, suspend and
reinstate, close (after a page that says what happens to the points and the card), and the card
desk's revoke and reissue. The office does all of it; every change is audited.

Registered before :mod:`accounts_view`, so ``/residents/new`` is not taken for an account id."""

from __future__ import annotations

from fastapi import FastAPI

from bank import accounts, cards, community, households

from . import web
from .web import Console

MEMBER_ROWS = 6
MAX_MEMBER_ROWS = 20


def _address(form) -> dict:
    return {"compound_id": web.integer(form, "compound", "小区", lo=1),
            "building": web.integer(form, "building", "楼栋", lo=1, hi=999),
            "unit": web.integer(form, "unit", "单元", lo=1, hi=99),
            "room": web.text(form, "room", "房号", max_len=10)}


def _members(form) -> list[tuple[str, str]]:
    """The member rows of the opening form: name_1/relation_1 ...; empty rows are skipped."""
    out = []
    for n in range(1, MAX_MEMBER_ROWS + 1):
        name = web.text(form, f"name_{n}", f"第{n}位成员姓名", max_len=20, required=False)
        if name:
            out.append((name, web.text(form, f"relation_{n}", f"第{n}位成员与户主关系", max_len=10)))
    return out


def register(app: FastAPI, console: Console) -> None:
    def account_of(ctx: web.Ctx, account_id: str) -> accounts.Account:
        return accounts.get(ctx.conn, web.path_int(account_id, "储户"))

    @console.page("office")
    def new_form(ctx: web.Ctx):
        return console.render(ctx, "account_new.html", compounds=community.compounds(ctx.conn),
                              relations=accounts.RELATIONS, rows=MEMBER_ROWS)

    @console.action("office")
    def create(ctx: web.Ctx, form):
        kind = web.choice(form, "kind", "账户类型", accounts.KIND_NAMES)
        holder = web.text(form, "holder", "户主姓名", max_len=20)
        address = _address(form)
        phone = web.text(form, "phone", "电话", max_len=20, required=False)
        members = _members(form)
        aid, card = households.open_household(ctx.conn, kind=kind, holder=holder, phone=phone, members=members,
                                              **address)
        acct = accounts.get(ctx.conn, aid)
        ctx.audit("account.open", f"account {aid}", {"kind": kind, "holder": acct.display_name, "address": acct.address,
                                                     "members": [n for n, _ in members], "card_id": card.card_id})
        return f"/residents/{aid}#cards", f"已开户:储户 {aid} {acct.display_name},卡号 {card.card_id}。请点“打印储户卡”。"

    @console.page("office")
    def edit_form(ctx: web.Ctx, account_id: str):
        acct = account_of(ctx, account_id)
        return console.render(ctx, "account_edit.html", acct=acct, members=accounts.members(ctx.conn, acct.account_id),
                              compounds=community.compounds(ctx.conn), relations=accounts.RELATIONS,
                              status_names=accounts.STATUS_NAMES)

    @console.action("office")
    def edit(ctx: web.Ctx, form, account_id: str):
        acct = account_of(ctx, account_id)
        changed = accounts.edit(ctx.conn, acct.account_id, holder_name=web.text(form, "holder", "户主姓名", max_len=20),
                                phone=web.text(form, "phone", "电话", max_len=20, required=False), **_address(form))
        if not changed:
            return f"/residents/{acct.account_id}/edit", "没有修改任何内容。"
        ctx.audit("account.edit", f"account {acct.account_id}", changed)
        return f"/residents/{acct.account_id}", f"储户 {acct.account_id} 的信息已修改。"

    @console.action("office")
    def edit_member(ctx: web.Ctx, form, account_id: str, member_id: str):
        acct = account_of(ctx, account_id)
        mid = web.path_int(member_id, "成员")
        changed = accounts.edit_member(ctx.conn, acct.account_id, mid, name=web.text(form, "name", "姓名", max_len=20),
                                       relation=web.text(form, "relation", "与户主关系", max_len=10))
        if not changed:
            return f"/residents/{acct.account_id}/edit", "没有修改任何内容。"
        ctx.audit("member.edit", f"account {acct.account_id}", {"member_id": mid, **changed})
        return f"/residents/{acct.account_id}/edit", "成员信息已修改。"

    @console.action("office")
    def remove_member(ctx: web.Ctx, form, account_id: str, member_id: str):
        acct = account_of(ctx, account_id)
        mid = web.path_int(member_id, "成员")
        name = accounts.remove_member(ctx.conn, acct.account_id, mid)
        ctx.audit("member.remove", f"account {acct.account_id}", {"member_id": mid, "name": name})
        return f"/residents/{acct.account_id}/edit", f"{name}已移出本户。"

    @console.action("office")
    def change_holder(ctx: web.Ctx, form, account_id: str):
        acct = account_of(ctx, account_id)
        mid = web.integer(form, "member", "新户主", lo=1)
        relation = web.text(form, "old_relation", "原户主与新户主的关系", max_len=10)
        old, new = accounts.change_holder(ctx.conn, acct.account_id, mid, old_holder_relation=relation)
        ctx.audit("account.holder", f"account {acct.account_id}", {"from": old, "to": new, "old_relation": relation})
        return f"/residents/{acct.account_id}", f"户主已由{old}变更为{new};卡不变。"

    @console.action("office")
    def suspend(ctx: web.Ctx, form, account_id: str):
        acct = account_of(ctx, account_id)
        accounts.suspend(ctx.conn, acct.account_id)
        ctx.audit("account.suspend", f"account {acct.account_id}")
        return f"/residents/{acct.account_id}", f"储户 {acct.account_id} 已暂停:卡在各设备下次同步后不能兑换。"

    @console.action("office")
    def reinstate(ctx: web.Ctx, form, account_id: str):
        acct = account_of(ctx, account_id)
        accounts.reinstate(ctx.conn, acct.account_id)
        ctx.audit("account.reinstate", f"account {acct.account_id}")
        return f"/residents/{acct.account_id}", f"储户 {acct.account_id} 已恢复正常。"

    @console.action("office")
    def close(ctx: web.Ctx, form, account_id: str):
        acct = account_of(ctx, account_id)
        note = web.text(form, "note", "销户原因", max_len=100)
        plan = households.plan_close(ctx.conn, acct.account_id)
        if not web.confirmed(form):
            return console.confirm_page(ctx, form, heading=f"销户:储户 {acct.account_id} {acct.display_name}",
                                        button="确认销户", back=f"/residents/{acct.account_id}",
                                        sides=[("销户的储户", plan.side)], lines=plan.consequences() + [f"原因:{note}"])
        done = households.close(ctx.conn, acct.account_id, note=note, by=ctx.recorder)
        ctx.audit("account.close", f"account {acct.account_id}",
                  {"points": done.points, "cards": [c.card_id for c in done.side.cards], "note": note})
        return f"/residents/{acct.account_id}", f"储户 {acct.account_id} 已销户。"

    @console.action("office")
    def revoke_card(ctx: web.Ctx, form, account_id: str, card_id: str):
        acct = account_of(ctx, account_id)
        reason = web.choice(form, "reason", "作废原因", cards.END_REASONS)
        card = cards.revoke_resident(ctx.conn, card_id[:10], reason=reason, account_id=acct.account_id)
        ctx.audit("card.revoke", f"account {acct.account_id}", {"card_id": card.card_id, "version": card.version,
                                                                "reason": reason})
        return f"/residents/{acct.account_id}#cards", f"卡 {card.card_id} 已作废,各设备下次同步后拒收。需要新卡时点“补办”。"

    @console.action("office")
    def reissue_card(ctx: web.Ctx, form, account_id: str, card_id: str):
        acct = account_of(ctx, account_id)
        card = cards.reissue_revoked(ctx.conn, card_id[:10], account_id=acct.account_id)
        ctx.audit("card.replace", f"account {acct.account_id}", {"card_id": card.card_id, "version": card.version})
        return f"/residents/{acct.account_id}#cards", f"已补办卡 {card.card_id} 第 {card.version} 版。请打印新卡。"

    add = app.add_route
    add("/residents/new", new_form, methods=["GET"])
    add("/residents/new", create, methods=["POST"])
    add("/residents/{account_id}/edit", edit_form, methods=["GET"])
    add("/residents/{account_id}/edit", edit, methods=["POST"])
    add("/residents/{account_id}/members/{member_id}/edit", edit_member, methods=["POST"])
    add("/residents/{account_id}/members/{member_id}/remove", remove_member, methods=["POST"])
    add("/residents/{account_id}/holder", change_holder, methods=["POST"])
    add("/residents/{account_id}/suspend", suspend, methods=["POST"])
    add("/residents/{account_id}/reinstate", reinstate, methods=["POST"])
    add("/residents/{account_id}/close", close, methods=["POST"])
    add("/residents/{account_id}/cards/{card_id}/revoke", revoke_card, methods=["POST"])
    add("/residents/{account_id}/cards/{card_id}/reissue", reissue_card, methods=["POST"])
