"""The merchant tablet app (Kivy): the face of :class:`terminal.flow.TerminalFlow`.

    python -m terminal --home DIR [--camera INDEX|VIDEO|IMAGE|FOLDER]

Taps go to :meth:`TerminalApp.act`, which calls the flow and redraws. Whatever may touch the
network (enrol, confirm above the floor limit, void) runs on a worker thread while the screen
shows "please wait"; sync runs on the :class:`device.syncing.Syncer` thread. Only the UI thread
touches widgets.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from device import camera as camera_mod
from device.scan.verify import Refused
from device.ui.app_base import BaseApp

from . import screens
from .flow import ENROL_PREFIX, RECEIPT_SECONDS, Message, Step, TerminalFlow

log = logging.getLogger(__name__)
Builder.load_file(str(Path(__file__).with_suffix(".kv")))

BACKGROUND_ACTIONS = {"confirm", "enrol", "enrol_qr", "void"}


@dataclass(frozen=True)
class EnrolQR:
    """What the enrolment screen's reader accepts: the office's ``MPB-ENROL:`` text (the flow
    checks it properly when it enrols)."""

    text: str
    ok = True


class TerminalApp(BaseApp):
    title = "道德积分兑换"
    busy = BooleanProperty(False)
    merchant = StringProperty("")

    def __init__(self, home_dir, camera: str | None = None, flow: TerminalFlow | None = None,
                 start_camera: bool = True, **kwargs):
        self.flow = flow or TerminalFlow(Path(home_dir), camera=camera)
        self.start_camera = start_camera
        self.scanner = None          # the card scanner, on the scan screen once enrolled
        self.enrol_scanner = None    # the enrolment QR reader, on the enrolment screen before
        self._camera_for = None      # which of the two last tried the camera: "scan", "enrol"
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
        super().on_start()
        self._sync_camera()
        self.every(1.0, self._tick)
        self.show()

    def on_stop(self):
        if self._receipt_ev is not None:
            self._receipt_ev.cancel()
        for scanner in (self.scanner, self.enrol_scanner):
            if scanner is not None:
                scanner.stop()
        super().on_stop()

    # --- camera ---------------------------------------------------------------------------------

    def _sync_camera(self) -> None:
        """One user of the camera at a time: the enrolment QR reader until this tablet is
        enrolled (and again after a re-enrolment), the card scanner afterwards."""
        if not self.start_camera:
            return
        want = "scan" if self.flow.home is not None else "enrol"
        if want == self._camera_for:
            return
        for name in ("scanner", "enrol_scanner"):
            if getattr(self, name) is not None:
                getattr(self, name).stop()
                setattr(self, name, None)
        if want == "scan":
            self.open_camera()
        else:
            self.open_enrol_camera()

    def _open_scanner(self, screen_name: str, verify, on_card, note: str):
        """A ScannerView on the configured camera or video in ``screen_name``'s preview, or None
        and ``note`` on that screen when the camera cannot be opened."""
        from device.scan.tracker import CardTracker
        from device.ui.scanner import ScannerView
        screen = self.root.ids.sm.get_screen(screen_name)
        spec = self.flow.settings.camera
        try:
            source = camera_mod.open_for_app(spec)
        except camera_mod.SourceError as exc:
            screen.camera_note = note + f"\n{exc}"
            screen.attach(None)
            return None
        scanner = ScannerView(tracker=CardTracker(verify), source=source)
        scanner.bind(on_card=on_card)
        screen.camera_note = ""
        screen.attach(scanner)
        scanner.start()
        return scanner

    def open_camera(self) -> None:
        """Start the scanner on the configured camera or video; a note on the scan screen if not."""
        if self.scanner is not None:
            self.scanner.stop()
            self.scanner = None
        self._camera_for = "scan"
        self.scanner = self._open_scanner("scan", self.verify_card, self.on_card,
                                          self.tr("摄像头无法打开,请在“设置”里选择摄像头。"))

    def open_enrol_camera(self) -> None:
        """Read the office's enrolment QR on the enrolment screen (typing stays possible)."""
        self._camera_for = "enrol"
        self.enrol_scanner = self._open_scanner("enrol", self._verify_enrol, self.on_enrol_qr,
                                                self.tr("摄像头无法打开,请手工输入地址和登记码。"))
        if self.enrol_scanner is not None:   # the widget's own prompt is about cards
            self.enrol_scanner.prompt = "请将登记二维码对准框内\nHold the enrolment QR in the frame"

    def _verify_enrol(self, text: str):
        """The enrolment reader's check (scanner thread): only the office's enrolment QR."""
        if text.startswith(ENROL_PREFIX):
            return EnrolQR(text)
        return Refused("not_enrol_qr", "这不是登记二维码。", "This is not an enrolment QR code.")

    def on_enrol_qr(self, scanner, event):
        """A QR in front of the camera on the enrolment screen (UI thread): enrol with it."""
        if self.flow.step is not Step.ENROL or self.busy:
            return True
        outcome = event.outcome
        if not outcome.ok:
            self.flow.message = Message("这不是登记二维码。请扫描社区办公室给的登记码,或手工输入。",
                                        "This is not an enrolment QR. Scan the office's code, or type it.", (),
                                        "error")
            self.show()
            return None   # the scanner's own red cue and sound
        scanner.status = self.tr("已识别登记二维码,正在登记……")
        self.act("enrol_qr", outcome.text, self.root.ids.sm.get_screen("enrol").staff_pin())
        return True       # not a card: the scanner's "card read" cue would be wrong

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
        self.show()   # just enrolled: show() hands the camera to the card scanner

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
        self._sync_camera()
        self.update_sync()
        if self._receipt_ev is not None:
            self._receipt_ev.cancel()
            self._receipt_ev = None
        if flow.step is Step.RECEIPT:
            self._receipt_ev = Clock.schedule_once(lambda _dt: self.act("receipt_done"), RECEIPT_SECONDS)


    def _tick(self, _dt) -> None:
        flow = self.flow
        if flow.syncer is not None:
            flow.syncer.tick()
        if flow.home is not None:
            self.update_sync()
            if flow.step in (Step.SYNC, Step.TODAY, Step.SCAN):
                self.root.ids.sm.get_screen(flow.step.value).refresh()


def run(home_dir: str, camera: str | None = None) -> None:
    """Open the app (blocks until the window is closed)."""
    TerminalApp(home_dir, camera=camera).run()


__all__ = ["TerminalApp", "run"]
