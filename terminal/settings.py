"""The tablet's own settings (language, camera, the staff PIN's hash) in ``terminal.json`` beside
its home, and the settings screen behind the staff PIN."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bank import accounts
from bank.errors import BankError
from device.flowkit import msg
from sync import client, home as home_mod

from .steps import Step

SETTINGS_FILE = "terminal.json"


@dataclass
class Settings:
    language: str = "zh"
    camera: str = "0"
    staff_pin_hash: str | None = None

    @classmethod
    def load(cls, path: Path) -> "Settings":
        """Read settings; a missing or unreadable file gives the defaults."""
        try:
            data = json.loads(path.read_text("utf-8"))
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except (OSError, ValueError, TypeError):
            return cls()

    def save(self, path: Path) -> None:
        home_mod.write_json(path, vars(self))


class SettingsSteps:
    """The settings part of :class:`terminal.flow.TerminalFlow`."""

    def unlock_settings(self, staff_pin: str) -> bool:
        """Open settings with the staff PIN; a tablet enrolled without one opens directly."""
        h = self.settings.staff_pin_hash
        if h is None or accounts.check_pin(h, staff_pin):
            self.settings_unlocked, self.step, self.message = True, Step.SETTINGS, None
            return True
        self.message = msg("店员密码不正确。", "error")
        return False

    def set_language(self, lang: str) -> None:
        if lang in ("zh", "en"):
            self.settings.language = lang
            self._save_settings()

    def set_camera(self, camera: str) -> None:
        self.settings.camera = camera
        self._save_settings()

    def set_server(self, server: str) -> bool:
        """Change the office address (e.g. the office moved); saved in the device config."""
        server = server.strip().rstrip("/")
        try:
            client.check_server_address(server)
        except BankError:
            self.message = msg("办公室地址须以 https:// 开头(如 https://192.168.1.10:8080)。", "error")
            return False
        self.home = self.home.with_config(server=server)
        if self.syncer is not None:
            self.syncer.home = self.home
        self.message = msg("办公室地址已保存。")
        return True

    def _save_settings(self) -> None:
        if self.home is not None:
            self.settings.save(self.home_dir / SETTINGS_FILE)
