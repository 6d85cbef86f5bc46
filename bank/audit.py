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
    "store.failover": "数据库故障切换",
}


def action_name(code: str) -> str:
    """The Chinese name of an action for people (the code itself when it has none)."""
    return ACTION_NAMES.get(code, code)


#: What the audit page and its export call the fields of a record's detail.
DETAIL_NAMES = {
    "account": "储户", "account_id": "储户", "alerts": "提醒", "anomalies": "异常", "card_id": "卡号", "category": "类别",
    "channel": "渠道", "checked": "检查记录数", "cleared": "处理数", "closes_on": "公示结束", "compound": "小区",
    "decision": "决定", "entries": "台账记录", "entry_id": "台账记录", "from": "原为", "holder": "户主", "hours": "有效小时",
    "item": "项目", "kind": "类型", "member_id": "成员编号", "merchant": "商户", "merchant_id": "商户", "name": "名称",
    "note": "说明", "offer": "兑换项目", "offer_id": "兑换项目", "offers_withdrawn": "撤下项目数", "old_relation": "原关系",
    "opens_on": "公示开始", "place": "地点", "points": "积分", "posting_id": "公示", "quantity": "数量", "quarter": "季度",
    "relation": "关系", "relisted": "重新上架", "role": "角色", "rows": "行数", "ruling": "裁定", "run_id": "核查批次",
    "status": "状态", "to": "改为", "value_fen": "价值(分)", "version": "版本", "window": "兑换时间",
    "window_id": "兑换时间编号", "year": "年份", "entry": "台账记录", "held": "暂扣积分", "client": "来源地址",
    "failures": "连续错误次数", "locked": "已锁定", "minutes": "锁定分钟", "effective_from": "施行日期", "changed": "修改",
    "added": "新增", "removed": "删除", "reason": "原因", "by": "办理人", "device": "设备", "count": "数量",
    "card": "卡", "seq": "设备记录号", "staff": "评议员",
    "timeline": "时间线", "lsn": "日志位置", "old_primary": "原主库", "epoch": "同步批次",
}
#: The first words of a record's target (``account 13``) as a person reads them.
TARGET_NAMES = {
    "account": "储户", "alert": "提醒", "anomaly": "异常", "card": "卡", "device": "设备", "entry": "台账记录",
    "merchant": "商户", "nomination": "推荐", "objection": "异议", "offer name": "兑换项目", "offer": "兑换项目",
    "posting": "公示", "reviewer": "评议员", "run": "核查批次", "service point": "服务点", "team": "志愿服务队",
    "tip": "举报", "user name": "用户", "user": "用户", "version": "细则版本", "client": "来源地址",
}
#: Targets of the attempt limits (``login_client:127.0.0.1``).
_SCOPE_NAMES = {"login_client": "来源地址", "login_user": "用户", "card_pin": "储户", "staff_pin": "评议员"}


def _value_names() -> dict[str, dict[str, str]]:
    """Codes that details carry for some fields, by field (imported late: these modules use the log)."""
    from . import objections, quarterly_check
    return {"ruling": objections.RULINGS, "status": objections.STATUSES, "kind": quarterly_check.KINDS}


def _value(v, field: str = "") -> str:
    if isinstance(v, str):
        return _value_names().get(field, {}).get(v, v)
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, list):
        return "、".join(_value(x) for x in v)
    if isinstance(v, dict):
        return ",".join(f"{DETAIL_NAMES.get(k, k)} {_value(x)}" for k, x in v.items())
    return "" if v is None else str(v)


def detail_text(detail: str) -> str:
    """A record's detail as a person reads it: ``积分 +5;项目 YC02`` rather than its JSON."""
    try:
        data = json.loads(detail)
    except (TypeError, ValueError):
        return detail
    if isinstance(data, dict):
        return ";".join(f"{DETAIL_NAMES.get(k, k)} {_value(v, k)}" for k, v in data.items() if v not in (None, ""))
    return _value(data)


def target_text(target: str) -> str:
    """``account 13`` as ``储户 13`` (a target without a known first word as it is)."""
    scope, sep, subject = target.partition(":")
    if sep and scope in _SCOPE_NAMES:
        return f"{_SCOPE_NAMES[scope]} {subject}"
    for word in sorted(TARGET_NAMES, key=len, reverse=True):
        if target.startswith(word + " "):
            return TARGET_NAMES[word] + target[len(word):]
    return target


@dataclass(frozen=True)
class AuditRecord:
    audit_id: int
    at: str
    actor: str
    action: str
    target: str
    detail: str

    @property
    def action_name(self) -> str:
        return action_name(self.action)

    @property
    def target_text(self) -> str:
        return target_text(self.target)

    @property
    def detail_text(self) -> str:
        return detail_text(self.detail)

    @property
    def local_time(self) -> str:
        """When, in the community's time (Asia/Shanghai), to the second."""
        return clock.local(clock.from_text(self.at)).strftime("%Y-%m-%d %H:%M:%S")


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
    sql = "SELECT audit_id, at, actor, action, target, detail FROM audit_log WHERE 1 = 1"
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
