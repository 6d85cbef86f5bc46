"""Registration on the command line: ``python -m office account|merchant|offer|team|card ...``.

The same bank functions as the console's registration pages; each change runs in one transaction
with its audit record (actor ``命令行``), so a refusal is one plain line and writes nothing.
Commands that list or create take ``--json``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from bank import accounts, audit, cards, db, households, merchants, money, recorders, teams
from bank.errors import InvalidInput

from .cli import (DateType, _check_out, _echo_json, _open_ro, _resolve_account, _write_out, db_option, main,
                  plain_errors)

ACTOR = "命令行"


def _member_arg(text: str) -> tuple[str, str]:
    """NAME:RELATION (a full-width colon works too)."""
    parts = text.replace(":", ":").split(":")
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise InvalidInput(f"“{text}”格式不对,应为 姓名:关系,如 李玥:配偶。", f"{text!r} is not NAME:RELATION")
    return parts[0].strip(), parts[1].strip()


def _card_json(card: cards.Card) -> dict:
    return {"card_id": card.card_id, "card_version": card.version, "account_id": card.account_id, "qr": card.qr}


def _print_card(conn, out: Path | None, account_id: int, *, quiet_stdout: bool = False) -> None:
    """Write the account's card sheet; the message goes to stderr when stdout carries JSON."""
    if out is None:
        return
    from . import cardsheet
    _write_out(out, cardsheet.build(conn, [account_id]))
    click.echo(f"已生成储户卡打印文件 (card sheet written): {out}", err=quiet_stdout)


def _check_card_out(out: Path | None) -> None:
    """Checked before anything is written, so a bad --out refuses the whole command."""
    if out is None:
        return
    _check_out(out, ".pdf")
    if not out.parent.is_dir():
        raise InvalidInput(f"找不到输出文件夹:{out.parent}", f"no such folder: {out.parent}")


def _out_option():
    return click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Also write the card to print (PDF).")


# --- accounts ------------------------------------------------------------------------------------

@click.group("account")
def account_group():
    """Residents' accounts (储户): open, edit, close, list."""


@account_group.command("add")
@db_option()
@click.option("--kind", type=click.Choice(["household", "single"]), default="household", show_default=True)
@click.option("--holder", required=True, help="The holder's name (户主).")
@click.option("--member", "members", multiple=True, metavar="NAME:RELATION",
              help="A household member and their relation to the holder, e.g. 李玥:配偶 (repeat for more).")
@click.option("--compound", "compound_id", required=True, type=int, help="Compound number.")
@click.option("--building", required=True, type=int)
@click.option("--unit", required=True, type=int)
@click.option("--room", required=True, help="Room, e.g. 1502.")
@click.option("--phone", default="", help="A contact phone (optional; stays in the office).")
@_out_option()
@click.option("--json", "as_json", is_flag=True, help="One JSON object with account_id and card_id.")
@plain_errors
def account_add_cmd(db_path, kind, holder, members, compound_id, building, unit, room, phone, out, as_json):
    """Open a household or single account and issue its card at once."""
    _check_card_out(out)
    pairs = [_member_arg(m) for m in members]
    conn = db.connect(db_path)
    with db.transaction(conn):
        aid, card = households.open_household(conn, kind=kind, holder=holder, compound_id=compound_id,
                                              building=building, unit=unit, room=room, phone=phone, members=pairs)
        acct = accounts.get(conn, aid)
        audit.record(conn, ACTOR, "account.open", f"account {aid}",
                     {"kind": kind, "holder": acct.display_name, "members": [n for n, _ in pairs],
                      "address": acct.address, "card_id": card.card_id})
    if as_json:
        _echo_json({**_card_json(card), "account_id": aid, "holder": acct.display_name, "kind": kind,
                    "compound_id": compound_id, "address": acct.address,
                    "members": [dict(m) for m in accounts.members(conn, aid)]})
    else:
        click.echo(f"已开户:储户 {aid} {acct.display_name}({accounts.KIND_NAMES[kind]}),卡号 {card.card_id}。"
                   f"(account {aid} opened, card {card.card_id})")
    _print_card(conn, out, aid, quiet_stdout=as_json)


@account_group.command("edit")
@db_option()
@click.argument("ident", metavar="ID")
@click.option("--holder-name", default=None, help="Correct the holder's name.")
@click.option("--compound", "compound_id", type=int, default=None)
@click.option("--building", type=int, default=None)
@click.option("--unit", type=int, default=None)
@click.option("--room", default=None)
@click.option("--phone", default=None, help="New phone ('' clears it).")
@click.option("--add-member", "add_members", multiple=True, metavar="NAME:RELATION", help="A member joins.")
@click.option("--remove-member", "remove_members", multiple=True, type=int, metavar="MEMBER_ID",
              help="A member leaves the household (member ids: `account list --json`).")
@click.option("--new-holder", type=int, default=None, metavar="MEMBER_ID", help="Change of holder (户主变更).")
@click.option("--old-holder-relation", default=None, help="With --new-holder: the old holder's relation to the new one.")
@click.option("--suspend", is_flag=True, help="Suspend the account: its card redeems nowhere.")
@click.option("--reinstate", is_flag=True, help="Lift a suspension.")
@plain_errors
def account_edit_cmd(db_path, ident, holder_name, compound_id, building, unit, room, phone, add_members,
                     remove_members, new_holder, old_holder_relation, suspend, reinstate):
    """Edit an account (ID = account id or 6-digit card id): name, address, phone, members, holder, status."""
    if suspend and reinstate:
        raise InvalidInput("--suspend 和 --reinstate 不能同时使用。", "--suspend and --reinstate exclude each other")
    if (new_holder is None) != (old_holder_relation is None):
        raise InvalidInput("户主变更须同时给出 --new-holder 和 --old-holder-relation。",
                           "--new-holder needs --old-holder-relation")
    pairs = [_member_arg(m) for m in add_members]
    conn = db.connect(db_path)
    done = []
    with db.transaction(conn):
        aid = _resolve_account(conn, ident)
        target = f"account {aid}"
        changed = accounts.edit(conn, aid, holder_name=holder_name, compound_id=compound_id, building=building,
                                unit=unit, room=room, phone=phone)
        if changed:
            audit.record(conn, ACTOR, "account.edit", target, changed)
            done.append("信息已修改")
        for name, relation in pairs:
            mid = accounts.add_member(conn, aid, name, relation)
            audit.record(conn, ACTOR, "member.add", target, {"member_id": mid, "name": name, "relation": relation})
            done.append(f"{name}已加入")
        if new_holder is not None:
            old, new = accounts.change_holder(conn, aid, new_holder, old_holder_relation=old_holder_relation)
            audit.record(conn, ACTOR, "account.holder", target, {"from": old, "to": new})
            done.append(f"户主由{old}变更为{new}")
        for mid in remove_members:
            name = accounts.remove_member(conn, aid, mid)
            audit.record(conn, ACTOR, "member.remove", target, {"member_id": mid, "name": name})
            done.append(f"{name}已移出")
        if suspend:
            accounts.suspend(conn, aid)
            audit.record(conn, ACTOR, "account.suspend", target)
            done.append("已暂停")
        if reinstate:
            accounts.reinstate(conn, aid)
            audit.record(conn, ACTOR, "account.reinstate", target)
            done.append("已恢复")
        if not done:
            raise InvalidInput("没有要修改的内容。", "nothing to change")
    click.echo(f"储户 {aid}:{';'.join(done)}。(account {aid} updated)")


@account_group.command("close")
@db_option()
@click.argument("ident", metavar="ID")
@click.option("--note", required=True, help="Why the account is closed (recorded).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@plain_errors
def account_close_cmd(db_path, ident, note, yes):
    """Close an account: says what happens to its points and card, then asks (or --yes)."""
    conn = db.connect(db_path)
    aid = _resolve_account(conn, ident)
    plan = households.plan_close(conn, aid)
    acct = plan.side.account
    click.echo(f"销户:储户 {aid} {acct.display_name}({'、'.join(plan.side.member_names)})")
    for line in plan.consequences():
        click.echo(f"  · {line}")
    if not yes and not click.confirm("确认销户?(confirm closing)", default=False):
        click.echo("未办理,没有保存任何更改。(nothing changed)", err=True)
        raise SystemExit(1)
    with db.transaction(conn):
        done = households.close(conn, aid, note=note, by=recorders.COMMAND_LINE)
        audit.record(conn, ACTOR, "account.close", f"account {aid}",
                     {"points": done.points, "cards": [c.card_id for c in done.side.cards], "note": note.strip()})
    click.echo(f"储户 {aid} 已销户。(account {aid} closed)")


@account_group.command("list")
@db_option()
@click.option("--q", "term", default="", help="A name (any member's), account id or card id.")
@click.option("--compound", "compound_id", type=int, default=None)
@click.option("--building", type=int, default=None)
@click.option("--unit", type=int, default=None)
@click.option("--room", default="")
@click.option("--status", type=click.Choice(list(accounts.STATUSES)), default=None)
@click.option("--page", type=click.IntRange(1, None), default=1, show_default=True)
@click.option("--per-page", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object: total, pages and the accounts with members.")
@plain_errors
def account_list_cmd(db_path, term, compound_id, building, unit, room, status, page, per_page, as_json):
    """The residents list, searchable and paged."""
    conn = _open_ro(db_path)
    found = accounts.search(conn, term=term, compound_id=compound_id, building=building, unit=unit, room=room.strip(),
                            status=status or "", page=page, per_page=per_page)
    if as_json:
        _echo_json({"total": found.total, "page": found.page, "pages": found.pages, "accounts": [
            {"account_id": r["account_id"], "holder": r["display_name"], "kind": r["kind"],
             "compound_id": r["compound_id"], "building": r["building"], "unit": r["unit"], "room": r["room"],
             "phone": r["phone"], "status": r["status"], "balance": r["balance"], "card_id": r["card_id"],
             "members": [dict(m) for m in accounts.members(conn, r["account_id"])]} for r in found.rows]})
        return
    click.echo("储户\t户主\t类型\t小区\t住址\t卡号\t余额\t状态")
    for r in found.rows:
        click.echo(f"{r['account_id']}\t{r['display_name']}\t{accounts.KIND_NAMES[r['kind']]}\t{r['compound']}\t"
                   f"{r['building']}栋{r['unit']}单元{r['room']}\t{r['card_id'] or '-'}\t{r['balance']}\t"
                   f"{accounts.STATUS_NAMES[r['status']]}")
    click.echo(f"共 {found.total} 户,第 {found.page}/{found.pages} 页 (total {found.total}, page {found.page} of {found.pages})")


# --- merchants and offers ------------------------------------------------------------------------

def _merchant_options(func):
    for option in reversed([
            click.option("--category", type=click.Choice(list(merchants.CATEGORIES)), default=None,
                         help="What kind of shop."),
            click.option("--compound", "compound_id", type=int, default=None, help="The compound it is near."),
            click.option("--address", default=None), click.option("--contact", default=None, help="Contact person."),
            click.option("--phone", default=None)]):
        func = option(func)
    return func


@click.group("merchant")
def merchant_group():
    """Merchants (商户): add, edit, suspend or leave."""


@merchant_group.command("add")
@db_option()
@click.option("--name", required=True)
@_merchant_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object with merchant_id.")
@plain_errors
def merchant_add_cmd(db_path, name, category, compound_id, address, contact, phone, as_json):
    """Add a merchant (the 71st shop); then its offers with `offer add`."""
    if category is None:
        raise click.UsageError("Missing option '--category'.")
    conn = db.connect(db_path)
    with db.transaction(conn):
        mid = merchants.add_merchant(conn, name, category, compound_id=compound_id, address=address or "",
                                     contact=contact or "", phone=phone or "")
        m = merchants.get(conn, mid)
        audit.record(conn, ACTOR, "merchant.add", f"merchant {mid}", {"name": m.name, "category": category})
    if as_json:
        _echo_json({"merchant_id": mid, "name": m.name, "category": m.category, "compound_id": m.compound_id,
                    "address": m.address, "contact": m.contact, "phone": m.phone, "status": m.status})
    else:
        click.echo(f"已新增商户 {m.name},编号 {mid}。(merchant {mid} added)")


@merchant_group.command("edit")
@db_option()
@click.argument("merchant_id", type=int)
@click.option("--name", default=None)
@_merchant_options
@click.option("--reinstate", is_flag=True, help="Back to active after a suspension or after leaving.")
@plain_errors
def merchant_edit_cmd(db_path, merchant_id, name, category, compound_id, address, contact, phone, reinstate):
    """Edit a merchant's name, category, compound, address, contact, phone; or reinstate it."""
    given = {k: v for k, v in dict(name=name, category=category, compound_id=compound_id, address=address,
                                   contact=contact, phone=phone).items() if v is not None}
    if not given and not reinstate:
        raise InvalidInput("没有要修改的内容。", "nothing to change")
    conn = db.connect(db_path)
    with db.transaction(conn):
        if reinstate:
            merchants.reinstate(conn, merchant_id)
            audit.record(conn, ACTOR, "merchant.reinstate", f"merchant {merchant_id}")
        if given:
            changed = merchants.edit_merchant(conn, merchant_id, **given)
            if changed:
                audit.record(conn, ACTOR, "merchant.edit", f"merchant {merchant_id}", changed)
    click.echo(f"商户 {merchant_id} 已更新。(merchant {merchant_id} updated)")


@merchant_group.command("suspend")
@db_option()
@click.argument("merchant_id", type=int)
@click.option("--leave", is_flag=True, help="The merchant leaves the scheme: its offers are withdrawn.")
@plain_errors
def merchant_suspend_cmd(db_path, merchant_id, leave):
    """Suspend a merchant (its offers stop being redeemable), or with --leave let it leave."""
    conn = db.connect(db_path)
    with db.transaction(conn):
        if leave:
            withdrawn = merchants.leave(conn, merchant_id)
            audit.record(conn, ACTOR, "merchant.leave", f"merchant {merchant_id}",
                         {"offers_withdrawn": [o.offer_id for o in withdrawn]})
        else:
            merchants.suspend(conn, merchant_id)
            audit.record(conn, ACTOR, "merchant.suspend", f"merchant {merchant_id}")
    m = merchants.get(conn, merchant_id)
    if leave:
        click.echo(f"{m.name}已退出,{len(withdrawn)} 个兑换项目已撤下;其平板同步完后请注销 (revoke-device)。"
                   f"(merchant {merchant_id} left)")
    else:
        click.echo(f"{m.name}已暂停,各平板下次同步后不能兑换。(merchant {merchant_id} suspended)")


def _warn_promise(points: int, value_fen: int) -> None:
    warning = merchants.promise_warning(points, value_fen)
    if warning:
        click.echo(f"注意:{warning} (warning: a point is worth less than 1 yuan)", err=True)


@click.group("offer")
def offer_group():
    """Merchants' offers (兑换项目): add, edit price and value, withdraw."""


@offer_group.command("add")
@db_option()
@click.option("--merchant", "merchant_id", required=True, type=int)
@click.option("--name", required=True)
@click.option("--points", required=True, type=int, help="Points it costs.")
@click.option("--value", required=True, help="Estimated value in yuan, e.g. 7 or 7.50.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object with offer_id.")
@plain_errors
def offer_add_cmd(db_path, merchant_id, name, points, value, as_json):
    """Add an offer (a withdrawn one of the same name is listed again); warns below ¥1 a point."""
    value_fen = money.parse_yuan(value)
    conn = db.connect(db_path)
    with db.transaction(conn):
        oid = merchants.add_offer(conn, merchant_id, name, points, value_fen)
        audit.record(conn, ACTOR, "offer.add", f"merchant {merchant_id}",
                     {"offer_id": oid, "name": name.strip(), "points": points, "value_fen": value_fen})
    _warn_promise(points, value_fen)
    o = merchants.offer(conn, oid)
    if as_json:
        _echo_json({"offer_id": oid, "merchant_id": merchant_id, "name": o.name, "points": o.points,
                    "value_yuan": o.value_yuan, "below_promise": merchants.below_promise(o.points, o.value_fen)})
    else:
        click.echo(f"已添加兑换项目“{o.name}”,编号 {oid},{o.points} 分,价值 ¥{o.value_yuan}。(offer {oid} added)")


@offer_group.command("edit")
@db_option()
@click.argument("offer_id", type=int)
@click.option("--name", default=None)
@click.option("--points", type=int, default=None)
@click.option("--value", default=None, help="Estimated value in yuan.")
@plain_errors
def offer_edit_cmd(db_path, offer_id, name, points, value):
    """Change an offer's name, points or estimated value; redemptions already made keep their value."""
    value_fen = money.parse_yuan(value) if value is not None else None
    if name is None and points is None and value_fen is None:
        raise InvalidInput("没有要修改的内容。", "nothing to change")
    conn = db.connect(db_path)
    with db.transaction(conn):
        changed = merchants.edit_offer(conn, offer_id, name=name, points=points, value_fen=value_fen)
        if not changed:
            raise InvalidInput("没有要修改的内容。", "nothing changed")
        audit.record(conn, ACTOR, "offer.edit", f"offer {offer_id}", changed)
    o = merchants.offer(conn, offer_id)
    _warn_promise(o.points, o.value_fen)
    click.echo(f"兑换项目“{o.name}”已修改:{o.points} 分,价值 ¥{o.value_yuan}。(offer {offer_id} updated)")


@offer_group.command("withdraw")
@db_option()
@click.argument("offer_id", type=int)
@plain_errors
def offer_withdraw_cmd(db_path, offer_id):
    """Withdraw an offer: devices drop it at their next pull."""
    conn = db.connect(db_path)
    with db.transaction(conn):
        o = merchants.withdraw_offer(conn, offer_id)
        audit.record(conn, ACTOR, "offer.withdraw", f"offer {offer_id}", {"name": o.name})
    click.echo(f"兑换项目“{o.name}”已撤下。(offer {offer_id} withdrawn)")


# --- volunteer teams -----------------------------------------------------------------------------

class _DateOrNone(DateType):
    """A date, or the word 'none' (kept as the string: clear the date)."""
    name = "DATE|none"

    def convert(self, value, param, ctx):
        return "none" if value == "none" else super().convert(value, param, ctx)


def _team_json(conn, team_id: int) -> dict:
    t = teams.get(conn, team_id)
    return {"team_id": t.team_id, "name": t.name, "description": t.description,
            "registered_on": t.registered_on.isoformat() if t.registered_on else None,
            "members": [dict(m) for m in teams.members(conn, team_id)]}


@click.group("team")
def team_group():
    """Volunteer teams (志愿服务队): add, edit, members in and out."""


@team_group.command("add")
@db_option()
@click.option("--name", required=True)
@click.option("--description", default="", help="What the team does.")
@click.option("--registered-on", type=DateType(), default=None, help="Registration (登记备案) date, YYYY-MM-DD.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object with team_id.")
@plain_errors
def team_add_cmd(db_path, name, description, registered_on: dt.date | None, as_json):
    """Register a volunteer team."""
    conn = db.connect(db_path)
    with db.transaction(conn):
        tid = teams.add(conn, name, description, registered_on=registered_on)
        audit.record(conn, ACTOR, "team.add", f"team {tid}", {"name": name.strip()})
    if as_json:
        _echo_json(_team_json(conn, tid))
    else:
        click.echo(f"已新增志愿服务队“{teams.get(conn, tid).name}”,编号 {tid}。(team {tid} added)")


@team_group.command("edit")
@db_option()
@click.argument("team_id", type=int)
@click.option("--name", default=None)
@click.option("--description", default=None)
@click.option("--registered-on", type=_DateOrNone(), default=None,
              help="Registration date, YYYY-MM-DD, or 'none' to clear it.")
@plain_errors
def team_edit_cmd(db_path, team_id, name, description, registered_on):
    """Edit a team's name, description or registration date."""
    kwargs = {} if registered_on is None else {"registered_on": None if registered_on == "none" else registered_on}
    conn = db.connect(db_path)
    with db.transaction(conn):
        changed = teams.edit(conn, team_id, name=name, description=description, **kwargs)
        if not changed:
            raise InvalidInput("没有要修改的内容。", "nothing to change")
        audit.record(conn, ACTOR, "team.edit", f"team {team_id}", changed)
    click.echo(f"志愿服务队 {team_id} 已修改。(team {team_id} updated)")


@team_group.command("member")
@db_option()
@click.argument("team_id", type=int)
@click.option("--add", "adds", multiple=True, type=int, metavar="MEMBER_ID", help="A resident joins (repeatable).")
@click.option("--remove", "removes", multiple=True, type=int, metavar="MEMBER_ID", help="A resident leaves.")
@click.option("--json", "as_json", is_flag=True, help="The team and its members as one JSON object.")
@plain_errors
def team_member_cmd(db_path, team_id, adds, removes, as_json):
    """List a team's members, or let residents join (--add) and leave (--remove); member ids from
    `account list --json`."""
    if adds or removes:
        conn = db.connect(db_path)
        with db.transaction(conn):
            for mid in adds:
                m = teams.add_member(conn, team_id, mid)
                audit.record(conn, ACTOR, "team.member_add", f"team {team_id}", {"member_id": mid, "name": m["name"]})
            for mid in removes:
                m = teams.remove_member(conn, team_id, mid)
                audit.record(conn, ACTOR, "team.member_remove", f"team {team_id}",
                             {"member_id": mid, "name": m["name"]})
    else:
        conn = _open_ro(db_path)
    data = _team_json(conn, team_id)
    if as_json:
        _echo_json(data)
        return
    day = data["registered_on"] or "未登记"
    click.echo(f"{data['name']}(编号 {team_id},登记备案 {day}){data['description']}")
    for m in data["members"]:
        click.echo(f"  {m['member_id']}\t{m['name']}\t储户 {m['account_id']}({m['holder']})")
    click.echo(f"共 {len(data['members'])} 名队员 ({len(data['members'])} members)")


# --- cards ---------------------------------------------------------------------------------------

@click.group("card")
def card_group():
    """A resident's card at the office: report lost, revoke, reissue."""


def _card_done(conn, card: cards.Card, words: str, out: Path | None, as_json: bool) -> None:
    if as_json:
        _echo_json(_card_json(card))
    else:
        click.echo(f"卡 {card.card_id}:{words} (card {card.card_id} version {card.version})")
    _print_card(conn, out, card.account_id, quiet_stdout=as_json)


@card_group.command("lost")
@db_option()
@click.argument("card_id")
@click.option("--reason", type=click.Choice(list(cards.LOSS_REASONS)), default="lost", show_default=True)
@_out_option()
@click.option("--json", "as_json", is_flag=True, help="The new card version as one JSON object.")
@plain_errors
def card_lost_cmd(db_path, card_id, reason, out, as_json):
    """Report a card lost (挂失补办): the old version is refused from the devices' next pull and a new
    version is issued."""
    _check_card_out(out)
    conn = db.connect(db_path)
    with db.transaction(conn):
        new = cards.report_lost(conn, card_id.strip(), reason=reason)
        audit.record(conn, ACTOR, "card.reissue", f"account {new.account_id}",
                     {"card_id": new.card_id, "version": new.version, "reason": reason})
    _card_done(conn, new, f"旧版已作废,已补办第 {new.version} 版,请打印新卡。", out, as_json)


@card_group.command("revoke")
@db_option()
@click.argument("card_id")
@click.option("--reason", type=click.Choice(list(cards.END_REASONS)), default="revoked", show_default=True)
@plain_errors
def card_revoke_cmd(db_path, card_id, reason):
    """Revoke a card without a new one (`card reissue` prints one later)."""
    conn = db.connect(db_path)
    with db.transaction(conn):
        card = cards.revoke_resident(conn, card_id.strip(), reason=reason)
        audit.record(conn, ACTOR, "card.revoke", f"account {card.account_id}",
                     {"card_id": card.card_id, "version": card.version, "reason": reason})
    click.echo(f"卡 {card.card_id} 第 {card.version} 版已作废,各设备下次同步后拒收。(card {card.card_id} revoked)")


@card_group.command("reissue")
@db_option()
@click.argument("card_id")
@_out_option()
@click.option("--json", "as_json", is_flag=True, help="The new card version as one JSON object.")
@plain_errors
def card_reissue_cmd(db_path, card_id, out, as_json):
    """Issue a new version of a revoked card (补办)."""
    _check_card_out(out)
    conn = db.connect(db_path)
    with db.transaction(conn):
        new = cards.reissue_revoked(conn, card_id.strip())
        audit.record(conn, ACTOR, "card.replace", f"account {new.account_id}",
                     {"card_id": new.card_id, "version": new.version})
    _card_done(conn, new, f"已补办第 {new.version} 版,请打印新卡。", out, as_json)


for _group in (account_group, merchant_group, offer_group, team_group, card_group):
    main.add_command(_group)
