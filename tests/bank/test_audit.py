"""The audit log as a person reads it: action names, targets and details in Chinese."""

import json

from bank import audit


def test_details_are_spelt_out():
    assert audit.detail_text(json.dumps({"entry_id": 15301, "item": "YC04", "points": 2})) == "台账记录 15301;项目 YC04;积分 2"
    assert audit.detail_text(json.dumps({"ruling": "upheld", "status": "filed"})) == "裁定 异议成立;状态 已备案"
    assert audit.detail_text(json.dumps({"kind": "overdraft", "cleared": 66})) == "类型 余额为负;处理数 66"
    assert audit.detail_text(json.dumps({"client": "127.0.0.1", "failures": 1, "locked": False})) == \
        "来源地址 127.0.0.1;连续错误次数 1;已锁定 否"
    assert audit.detail_text("参加普法宣传") == "参加普法宣传"      # plain text stays as written


def test_targets_and_actions():
    assert audit.target_text("account 13") == "储户 13"
    assert audit.target_text("service point 2") == "服务点 2"
    assert audit.target_text("login_client:127.0.0.1") == "来源地址 127.0.0.1"
    assert audit.target_text("2026Q3") == "2026Q3"
    assert audit.action_name("tip.follow_up") == "跟进举报"
