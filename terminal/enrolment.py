"""Enrolling the tablet from its screen (typed, or the office's enrolment QR), and enrolling it
again: the old home is set aside, never deleted."""

from __future__ import annotations

import os

from bank import accounts, clock, devices
from bank.errors import BankError
from device import enrolment
from device.flowkit import from_error, msg
from sync import client

from .settings import SETTINGS_FILE, Settings
from .steps import Step


class EnrolmentSteps:
    """The enrolment part of :class:`terminal.flow.TerminalFlow`."""

    def enrol(self, server: str, code: str, staff_pin: str = "", fingerprint: str | None = None) -> bool:
        """Enrol with the office; True and the scan screen, or False and a message. A typed code
        carries a check of the office certificate, a scanned QR (``fingerprint``) all of it."""
        server, code = server.strip(), code.strip()
        if not server or not code:
            self.message = msg("请填写办公室地址和登记码(或扫描登记二维码)。", "error")
            return False
        if not server.startswith(("http://", "https://")):
            server = "https://" + server
        if staff_pin:
            try:       # before the code is spent: a PIN refused afterwards would burn it
                accounts.check_pin_rule(staff_pin)
            except BankError as exc:
                self.message = from_error(exc)
                return False
        if self.fault is not None and self.home_dir.exists():
            self._set_aside()          # the damaged home is kept, never deleted, for the office
        try:
            h, pulled = enrolment.enrol(self.home_dir, server, code, kind="tablet", transport=self.transport,
                                         fingerprint=fingerprint)
        except client.Unreachable:
            self.message = msg("无法连接社区办公室。请检查网络和办公室地址后重试。", "error")
            return False
        except BankError as exc:
            self.message = from_error(exc, "请向社区办公室重新申请登记码。")
            return False
        self.home, self.fault = h, None
        if staff_pin:
            self.settings.staff_pin_hash = accounts.hash_pin(staff_pin)
        self.settings.save(self.home_dir / SETTINGS_FILE)
        self.start_syncer(factory=self.syncer_factory)
        self.step = Step.SCAN
        self.message = (msg("登记成功:{merchant}。", merchant=self.merchant_name()) if pulled else
                        msg("已登记,但首次同步未完成。联网后请点“立即同步”。", "warn"))
        return True

    def enrol_qr(self, text: str, staff_pin: str = "") -> bool:
        """Enrol from the office's enrolment QR text (``MPB-ENROL:<url>#<code>#<fingerprint>``)."""
        try:
            server, code, fingerprint = devices.parse_enrol_qr(text)
        except BankError:
            self.message = msg("这不是登记二维码。请扫描社区办公室打印的登记码,或手工输入。", "error")
            return False
        return self.enrol(server, code, staff_pin, fingerprint)

    def _set_aside(self) -> None:
        stamp = clock.local(self.now()).strftime("%Y%m%d-%H%M%S")
        os.replace(self.home_dir, self.home_dir.with_name(f"{self.home_dir.name}.replaced-{stamp}"))

    def reenrol(self) -> bool:
        """Set this home aside (never deleted) and go to enrolment; only when nothing is waiting,
        or when this tablet must not redeem any more (behind, forked, damaged): its events can
        never be acknowledged then, and the set-aside directory keeps them for the office."""
        fault = self.fault_message()
        pending = self.status()["pending_events"] if fault is None else 0
        if pending:
            self.message = msg("还有 {n} 条兑换没有上传,请先联网同步,再重新登记。", "error", n=pending)
            return False
        if self.syncer is not None:
            self.syncer.stop(0.5)
        self._set_aside()
        self.home, self.syncer, self.fault = None, None, None
        self.settings = Settings(language=self.settings.language, camera=self.settings.camera)
        self.step, self.settings_unlocked = Step.ENROL, False
        self.message = msg("旧的登记资料已另存。请扫描新的登记码。")
        return True
