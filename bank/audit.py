"""The audit log: who did what in the office console (append-only, like the ledger)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from . import clock

MAX_ROWS = 500

#: What the audit page and its export call an action (the code stays in the log and in filters).
ACTION_NAMES = {
    "login": "登录", "login.failed": "登录失败", "logout": "退出登录", "user.add": "添加用户", "user.enable": "启用用户",
    "user.disable": "停用用户", "user.password": "重设用户密码", "account.open": "开户", "account.edit": "修改储户信息",
    "account.suspend": "暂停账户", "account.reinstate": "恢复账户", "account.close": "销户", "account.holder": "户主变更",
    "member.add": "添加家庭成员", "member.edit": "修改成员信息", "member.remove": "移出家庭成员", "household.merge": "合户",
    "household.merge_undo": "撤销并户", "household.split": "分户", "card.issue": "发卡", "card.print": "打印储户卡",
    "card.reissue": "挂失补卡", "card.revoke": "卡作废", "card.replace": "补办新卡", "pin.set": "设置储户密码",
    "pin.clear": "取消储户密码", "merchant.add": "新增商户", "merchant.edit": "修改商户信息", "merchant.suspend": "暂停商户",
    "merchant.reinstate": "恢复商户", "merchant.leave": "商户退出", "offer.add": "添加兑换项目", "offer.edit": "修改兑换项目",
    "offer.withdraw": "撤下兑换项目", "window.add": "添加兑换时间", "window.remove": "删除兑换时间", "team.add": "新增志愿服务队",
    "team.edit": "修改志愿服务队", "team.member_add": "队员加入", "team.member_remove": "队员退出", "team.service": "志愿服务记分",
    "convention.amend": "修订公约细则", "convention.withdraw": "撤回积分细则版本", "entry.record": "记录积分",
    "redemption.office": "办公室兑换", "policy.set": "修改离线兑换规则", "device.enrolment_code": "生成设备登记码",
    "device.revoke": "停用设备", "alert.clear": "处理提醒", "reviewer.add": "加入评议小组", "reviewer.pin": "修改评议员密码",
    "reviewer.print": "打印工作卡", "reviewer.remove": "退出评议小组", "verification.run": "季度核查", "anomaly.clear": "处理异常",
    "anomaly.clear_kind": "批量处理异常", "posting.publish": "发布公示", "objection.raise": "提出异议",
    "objection.assign": "分派异议", "objection.investigate": "调查异议", "objection.rule": "裁定异议",
    "objection.answer": "答复异议", "objection.file": "异议备案", "honour.nominate": "荣誉提名", "honour.decide": "荣誉评定",
    "tip.record": "登记举报", "tip.follow_up": "跟进举报", "export": "导出", "card_pin_failed": "储户密码错误",
    "card_pin_locked": "储户密码锁定", "staff_pin_failed": "评议员密码错误", "staff_pin_locked": "评议员密码锁定",
    "login_user_failed": "登录失败(按用户计)", "login_user_locked": "登录锁定(按用户计)", "login_client_failed": "登录失败(按来源地址计)",
    "login_client_locked": "登录锁定(按来源地址计)", "password.change": "修改本人密码", "keys.rotate": "更换发卡密钥",
    "quarantine_post": "放行暂扣事件", "quarantine_reject": "驳回暂扣事件", "device_release": "解除设备暂停",
    "import.preview": "导入预览", "import.refused": "导入被拒", "import.roster": "导入储户名册", "import.merchants": "导入商户",
    "import.balances": "导入期初余额",
    "expiry.run": "积分到期处理", "passbook.print": "打印积分存折",
}


def action_name(code: str) -> str:
    """The Chinese name of an action for people (the code itself when it has none)."""
    return ACTION_NAMES.get(code, code)


@dataclass(frozen=True)
class AuditRecord:
    audit_id: int
    at: str
    actor: str
    action: str
    target: str
    detail: str


def record(conn: sqlite3.Connection, actor: str, action: str, target: str = "", detail=None, *, now=None) -> int:
    """Write one audit record; ``detail`` is short text or a JSON-able dict."""
    if not isinstance(detail, str):
        detail = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)
    return conn.execute("INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
                        (clock.to_text(now or clock.now_utc()), actor, action, str(target)[:200],
                         detail[:2000])).lastrowid


def search(conn: sqlite3.Connection, *, actor: str = "", action: str = "", text: str = "",
           limit: int = MAX_ROWS) -> list[AuditRecord]:
    """Newest first, filtered by actor (exact), action (prefix) and free text in target/detail."""
    sql = "SELECT audit_id, at, actor, action, target, detail FROM audit_log WHERE 1"
    args: list = []
    if actor:
        sql += " AND actor = ?"
        args.append(actor)
    if action:
        sql += " AND action LIKE ? ESCAPE '\\'"
        args.append(_like_prefix(action) + "%")
    if text:
        sql += " AND (target LIKE ? ESCAPE '\\' OR detail LIKE ? ESCAPE '\\')"
        args += ["%" + _like_prefix(text) + "%"] * 2
    sql += " ORDER BY audit_id DESC LIMIT ?"
    args.append(limit)
    return [AuditRecord(*row) for row in conn.execute(sql, args)]


def actions(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT action FROM audit_log ORDER BY action")]


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
