"""The merchant tablet app (Kivy): the face of :class:`terminal.flow.TerminalFlow`.

    python -m terminal --home DIR [--camera INDEX|VIDEO_FILE]

Taps go to :meth:`TerminalApp.act`, which calls the flow and redraws. Whatever may touch the
network (enrol, confirm above the floor limit, void) runs on a worker thread while the screen
shows "please wait"; sync runs on the :class:`device.syncing.Syncer` thread. Only the UI thread
touches widgets.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from bank import clock
from device import camera as camera_mod
from device.scan.verify import CardVerifier, Refused
from device.ui import theme
from device.ui.app_base import BaseApp
from sync import replica, wire

from . import screens
from .flow import RECEIPT_SECONDS, Message, Step, TerminalFlow

log = logging.getLogger(__name__)
Builder.load_file(str(Path(__file__).with_suffix(".kv")))

BACKGROUND_ACTIONS = {"confirm", "enrol", "void"}


class TerminalApp(BaseApp):
    title = "道德积分兑换"
    busy = BooleanProperty(False)
    merchant = StringProperty("")
    sync_text = StringProperty("")
    sync_level = StringProperty("info")
    banner = StringProperty("")
    banner_level = StringProperty("info")

    def __init__(self, home_dir, camera: str | None = None, flow: TerminalFlow | None = None,
                 start_camera: bool = True, **kwargs):
        self.flow = flow or TerminalFlow(Path(home_dir), camera=camera)
        self.start_camera = start_camera
        self.scanner = None
        self._receipt_ev = None
        super().__init__(**kwargs)
        self.lang = self.flow.language

    # --- life cycle -----------------------------------------------------------------------------

    def build(self):
        root = Factory.TerminalRoot()
        for cls in screens.ALL:
            root.ids.sm.add_widget(cls())
        return root

    def on_start(self):
        if self.flow.syncer is not None:
            self.flow.syncer.start()
            self.flow.syncer.request("start")
        if self.start_camera and self.flow.home is not None:
            self.open_camera()
        self.every(1.0, self._tick)
        self.show()

    def on_pause(self):
        return True

    def on_resume(self):
        if self.flow.syncer is not None:
            self.flow.syncer.request("resume")

    def on_stop(self):
        super().on_stop()
        if self._receipt_ev is not None:
            self._receipt_ev.cancel()
        if self.scanner is not None:
            self.scanner.stop()
        if self.flow.syncer is not None:
            self.flow.syncer.stop(0.5)

    # --- camera ---------------------------------------------------------------------------------

    def open_camera(self) -> None:
        """Start the scanner on the configured camera or video; a note on the scan screen if not."""
        from device.scan.tracker import CardTracker
        from device.ui.scanner import ScannerView
        scan_screen = self.root.ids.sm.get_screen("scan")
        if self.scanner is not None:
            self.scanner.stop()
            self.scanner = None
        spec = self.flow.settings.camera
        try:
            kwargs = {} if spec.isdigit() else {"realtime": True}
            source = camera_mod.open_source(spec, **kwargs)
        except camera_mod.SourceError as exc:
            scan_screen.camera_note = self.tr("摄像头无法打开,请在“设置”里选择摄像头。") + f"\n{exc}"
            scan_screen.attach(None)
            return
        self.scanner = ScannerView(tracker=CardTracker(self._verify), source=source)
        self.scanner.bind(on_card=self.on_card)
        scan_screen.camera_note = ""
        scan_screen.attach(self.scanner)
        self.scanner.start()

    def _verify(self, text: str):
        """The tracker's check (scanner thread): its own replica connection each time."""
        conn = self.flow.home.replica()
        try:
            keys = {k: wire.b64d(v, length=32) for k, v in replica.state(conn, "issuing_keys", {}).items()}
            return CardVerifier(community=replica.state(conn, "community"), keyring=keys,
                                registry=replica.Registry(conn))(text)
        finally:
            conn.close()

    def on_card(self, _scanner, event) -> None:
        """A card appeared in front of the camera (UI thread)."""
        if self.flow.step not in (Step.SCAN, Step.RECEIPT) or self.busy:
            return
        outcome = event.outcome
        if isinstance(outcome, Refused):
            self.flow.go(Step.SCAN)
            self.flow.message = Message(outcome.zh, outcome.en, (), "error")
        else:
            self.flow.scan(outcome.claim.text)
        self.show()

    # --- actions --------------------------------------------------------------------------------

    def act(self, name: str, *args) -> None:
        """A tap: call the flow (in the background when it may touch the network), then redraw."""
        if self.busy:
            return
        flow = self.flow
        if name in BACKGROUND_ACTIONS:
            self.busy = True
            threading.Thread(target=self._background, args=(name, args), daemon=True).start()
            return
        if name == "go":
            step = Step(args[0])
            if step is Step.SETTINGS and not flow.settings_unlocked:
                flow.go(Step.SETTINGS)   # shows the staff PIN field first
            else:
                flow.go(step)
        elif name == "set_language":
            flow.set_language(args[0])
            self.lang = flow.language
        elif name == "set_camera":
            flow.set_camera(args[0])
            self.open_camera()
        else:
            getattr(flow, name)(*args)
        self.show()

    def _background(self, name: str, args) -> None:
        try:
            getattr(self.flow, name)(*args)
        except Exception:  # noqa: BLE001 - never a traceback at the counter
            log.exception("action %s failed", name)
            self.flow.message = Message("出了点问题,这一步没有完成。请重试;如果反复出现,请联系社区办公室。",
                                        "Something went wrong; this step did not complete. Try again.", (),
                                        "error")
        Clock.schedule_once(self._background_done)

    def _background_done(self, _dt) -> None:
        self.busy = False
        if self.flow.home is not None and self.scanner is None and self.start_camera:
            self.open_camera()   # just enrolled
        self.show()

    # --- drawing --------------------------------------------------------------------------------

    def show(self) -> None:
        """Show the flow's current screen, its banner and the header."""
        flow = self.flow
        sm = self.root.ids.sm
        screen = sm.get_screen(flow.step.value)
        screen.refresh()
        sm.current = flow.step.value
        self.banner = self.render(flow.message)
        self.banner_level = flow.message.level if flow.message else "info"
        self.merchant = flow.merchant_name() if flow.home else self.tr("未登记")
        self._update_sync()
        if self._receipt_ev is not None:
            self._receipt_ev.cancel()
            self._receipt_ev = None
        if flow.step is Step.RECEIPT:
            self._receipt_ev = Clock.schedule_once(lambda _dt: self.act("receipt_done"), RECEIPT_SECONDS)

    def _update_sync(self) -> None:
        if self.flow.home is None:
            self.sync_text, self.sync_level = "", "info"
            return
        line = self.flow.sync_line()
        self.sync_text, self.sync_level = self.render(line), line.level

    def _tick(self, _dt) -> None:
        flow = self.flow
        if flow.syncer is not None:
            flow.syncer.tick()
        if flow.home is not None:
            self._update_sync()
            if flow.step in (Step.SYNC, Step.TODAY, Step.SCAN):
                self.root.ids.sm.get_screen(flow.step.value).refresh()


def run(home_dir: str, camera: str | None = None) -> None:
    """Open the app (blocks until the window is closed)."""
    TerminalApp(home_dir, camera=camera).run()


__all__ = ["TerminalApp", "run", "clock", "theme"]
