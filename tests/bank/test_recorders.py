"""The recorder of an entry as a person reads it, from every form the ledger holds."""

import pytest

from bank import recorders, validity


@pytest.mark.parametrize("stored, shown", [
    (recorders.of_member("张三"), "评议小组成员 张三"),
    (recorders.of_member("张三", "李四"), "评议小组成员 张三(复核:李四)"),
    (recorders.of_user("council", "李委员"), "道德评议会 李委员"),
    (recorders.of_user("office", "王主任"), "社区办公室 王主任"),
    (recorders.COMMAND_LINE, "社区办公室 命令行"),
    (recorders.of_device("T3"), "设备 T3"),
    (recorders.of_device("K1", released_by="王主任"), "设备 K1(放行:王主任)"),
    (validity.SYSTEM, "系统(积分到期)"),
    ("merchant:5", "商户 5"),
    ("社区办公室", "社区办公室"),
])
def test_labels(stored, shown):
    assert recorders.label(stored) == shown


def test_masked_for_residents_and_devices_and_merchants_by_name():
    assert recorders.label(recorders.of_member("张三明", "李四"), mask=True) == "评议小组成员 张*明(复核:李*)"
    assert recorders.masked("评议小组成员:张三明") == "评议小组成员:张*明"
    assert recorders.label("merchant:5", merchants={5: "老街小面"}) == "老街小面"
    assert recorders.label("merchant:6", merchants={5: "老街小面"}) == "商户 6"
