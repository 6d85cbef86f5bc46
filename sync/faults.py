"""Why a device refuses to redeem or record: its home or its replica cannot be trusted.

A tablet or kiosk whose files are missing, emptied, damaged or another device's, or whose chain
of events is behind (or forked from) what the office holds, must stop before it writes anything:
a redemption recorded on such a replica could never be acknowledged, or would overwrite what
the office already has. Each fault is one plain sentence with what to do, the same in every
device command (``python -m terminal``, ``python -m kiosk``, ``python -m sync``) and on the apps'
screens; ``code`` is stable (tests and the apps decide on it, never on the Chinese text).

A fault found in the replica's own state (behind, forked) is kept there (state key ``fault``), so
every process of the device refuses, not only the one that found it.
"""

from __future__ import annotations

from bank.errors import ReasonedRefusal

_REENROL = "请联系社区办公室重新登记本机(请勿删除本机的数据目录,办公室可能还要从中核对记录)。"
_REENROL_EN = ("Ask the office to enrol this device again (do not delete its data directory: the office may "
               "need it to check records).")

FAULTS: dict[str, tuple[str, str]] = {
    "config_damaged": ("本机的设备配置文件 config.json 已损坏,不能兑换或记分。" + _REENROL,
                       "The device configuration config.json is damaged ({detail}); this device cannot redeem "
                       "or record. " + _REENROL_EN),
    "config_incomplete": ("本机的设备配置文件 config.json 缺少“{field}”一项,不能兑换或记分。" + _REENROL,
                          "The device configuration config.json lacks '{field}'; this device cannot redeem or "
                          "record. " + _REENROL_EN),
    "key_damaged": ("本机的设备密钥文件 device.key 缺失或已损坏,无法签名上传,不能兑换或记分。" + _REENROL,
                    "The device key file device.key is missing or damaged ({detail}); this device cannot sign, "
                    "redeem or record. " + _REENROL_EN),
    "replica_missing": ("本机的数据库 replica.sqlite 不见了,不能兑换或记分,未上传的记录可能已丢失。" + _REENROL,
                        "The replica database replica.sqlite is missing; this device cannot redeem or record and "
                        "unsynced records may be lost. " + _REENROL_EN),
    "replica_empty": ("本机的数据库是空的(文件被清空或换掉了),不能兑换或记分,未上传的记录可能已丢失。" + _REENROL,
                      "The replica database is empty (the file was emptied or replaced); this device cannot "
                      "redeem or record and unsynced records may be lost. " + _REENROL_EN),
    "replica_damaged": ("本机的数据库已损坏,不能兑换或记分。" + _REENROL,
                        "The replica database is damaged ({detail}); this device cannot redeem or record. "
                        + _REENROL_EN),
    "replica_foreign": ("本机的数据库属于另一台设备 {other},不是本机 {device} 的,不能兑换或记分。"
                        "请联系社区办公室,把正确的数据库放回原处或重新登记本机。",
                        "The replica belongs to device {other}, not to this device {device}; it cannot redeem "
                        "or record. Ask the office to put the right replica back or enrol this device again."),
    "device_behind": ("社区办公室已收到本机第 {office_seq} 条记录,而本机只保存到第 {device_seq} 条:本机的数据是旧副本,"
                      "已停止兑换和记分。" + _REENROL,
                      "The office holds this device's records up to {office_seq}, the device only up to "
                      "{device_seq}: its data is an old copy, so it has stopped redeeming and recording. "
                      + _REENROL_EN),
    "chain_forked": ("本机第 {seq} 条起的记录与社区办公室收到的不一致,已停止兑换和记分。" + _REENROL,
                     "This device's records from {seq} on differ from those the office holds; it has stopped "
                     "redeeming and recording. " + _REENROL_EN),
}


class DeviceFault(ReasonedRefusal):
    """This device must not redeem or record; ``reason`` (= ``code``) is a key of :data:`FAULTS`."""

    REASONS = FAULTS

    def __init__(self, reason: str, **values):
        # one line whatever a detail says (an OS or SQLite message may span several)
        values = {k: " ".join(v.split())[:160] if isinstance(v, str) else v for k, v in values.items()}
        super().__init__(reason, **values)
        self.values = values

    def as_state(self) -> dict:
        """What the replica keeps (state key ``fault``) so that every process refuses."""
        return {"code": self.reason, "values": self.values}

    @classmethod
    def from_state(cls, data: dict) -> "DeviceFault":
        return cls(data["code"], **data.get("values", {}))


__all__ = ["DeviceFault", "FAULTS"]
