"""The kiosk app (Kivy): the face of :class:`kiosk.flow.KioskFlow`.

    python -m kiosk --home DIR [--camera INDEX|VIDEO|IMAGE|FOLDER]

Taps go to :meth:`KioskApp.act`, which calls the flow and redraws. Cards come from the scanner
widget (decoding on its own thread); sync runs on the :class:`device.syncing.Syncer` thread and
speech on its own thread, so nothing a resident does waits on the network or the speaker. A
one-second clock drives the idle reset, the sync badge and the rotating boards.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from device import camera as camera_mod
from device.flowkit import Message
from device.scan.verify import Refused
from device.ui.app_base import BaseApp
from sync import replica

from . import residents, screens, style
from .flow import KioskFlow
from .steps import Step
from .tts import Speaker

log = logging.getLogger(__name__)
Builder.load_file(str(Path(__file__).with_suffix(".kv")))

SLIDE_SECONDS = 8
SCANNER_FONT = 36    # the scanner widget's own prompt is sized for the tablet; the kiosk's is larger


class KioskApp(BaseApp):
    title = "道德积分查询"
    place = StringProperty("")
    at_attract = BooleanProperty(True)
    domains = ("kiosk", "mpb")    # the kiosk's own catalog, then the shared device/ui texts

    def __init__(self, home_dir=None, camera: str | None = None, flow: KioskFlow | None = None,
                 start_camera: bool = True, speaker: Speaker | None = None, **kwargs):
        self.flow = flow or KioskFlow(home_dir, camera=camera or "0")
        self.camera = camera or self.flow.camera
        self.start_camera = start_camera
        self.speaker = speaker or Speaker()
        self.scanner = None
        self.card_shown_at = None     # monotonic time a card event arrived (benchmark)
        super().__init__(**kwargs)
        Window_clear()

    def build(self):
        root = Factory.KioskRoot()
        for screen in screens.all_screens():
            root.ids.sm.add_widget(screen)
        return root

    def on_start(self):
        super().on_start()
        if self.start_camera and self.flow.home is not None:
            self.open_camera()
        self.every(1.0, self._tick)
        self.every(SLIDE_SECONDS, self._next_slide)
        self.show()

    def on_stop(self):
        if self.scanner is not None:
            self.scanner.stop()
        self.speaker.stop()
        super().on_stop()

    # --- camera ---------------------------------------------------------------------------------

    def open_camera(self) -> None:
        from device.scan.tracker import CardTracker
        from device.ui.scanner import ScannerView
        attract = self.root.ids.sm.get_screen("attract")
        try:
            source = camera_mod.open_for_app(self.camera)
        except camera_mod.SourceError as exc:
            attract.camera_note = self.tr("摄像头无法打开,请联系工作人员。") + f"\n{exc}"
            return
        self.scanner = ScannerView(tracker=CardTracker(self.verify_card), source=source)
        self.scanner.ids.prompt.font_size = SCANNER_FONT
        self.scanner.ids.status.font_size = SCANNER_FONT
        self.scanner.prompt = self.tr("请把二维码对准这里")
        self.scanner.bind(on_card=self.on_card)
        attract.attach(self.scanner)
        self.scanner.start()

    def on_card(self, _scanner, event) -> None:
        """A card in front of the camera (UI thread): any screen accepts it."""
        import time
        self.card_shown_at = time.monotonic()
        outcome = event.outcome
        if isinstance(outcome, Refused):
            if self.flow.step not in (Step.STAFF_FIND, Step.STAFF_ITEMS, Step.STAFF_CONFIRM):
                self.flow.reset()
            self.flow.message = Message(outcome.zh, outcome.en, (), "error")
        else:
            self.flow.scan(outcome.claim.text)
        self.show()

    # --- actions --------------------------------------------------------------------------------

    def act(self, name: str, *args) -> None:
        """A tap: call the flow and redraw. Nothing here may block (speech has its own thread)."""
        flow = self.flow
        try:
            if name == "speak":
                flow.touch()
                self.speaker.say(flow.speech(), self.lang)
            elif name == "go":
                flow.go(Step(args[0]))
            else:
                getattr(flow, name)(*args)
        except Exception:  # noqa: BLE001 - never a traceback on a public screen
            log.exception("action %s failed", name)
            flow.message = Message("出了点问题,请再试一次;如果反复出现,请联系工作人员。",
                                   "Something went wrong; please try again.", (), "error")
        self.show()

    # --- drawing --------------------------------------------------------------------------------

    def show(self) -> None:
        flow = self.flow
        if self.lang != flow.lang:
            self.lang = flow.lang          # .kv texts follow (they name app.lang)
            if self.scanner is not None:
                self.scanner.prompt = self.tr("请把二维码对准这里")
        from kivy.core.window import Window
        flow.fit(Window.height)
        sm = self.root.ids.sm
        name = flow.screen() if flow.home is not None else "attract"
        screen = sm.get_screen(name)
        screen.refresh()
        sm.current = name
        # Even NoTransition runs a zero-length Animation, which ends on the *next* clock tick: the
        # first frame after a switch drew the old screen under the new one (both fully rendered),
        # and the old one went away a frame later. Ending it now draws only the new screen.
        if sm.transition.is_active:
            sm.transition.stop()
        for scroll in ("scroll",):
            if scroll in screen.ids:
                screen.ids[scroll].scroll_y = 1
        self.at_attract = flow.step is Step.ATTRACT
        banner = flow.message or flow.fault_message()
        self.banner = self.render(banner)
        self.banner_level = banner.level if banner else "info"
        self.place = flow.compound_name() if flow.home else "" if flow.fault else self.tr("本机未登记,请联系社区办公室")
        self.update_sync()

    def has_sync_badge(self) -> bool:
        """A kiosk whose home cannot be opened says so on its badge too (本机暂停使用)."""
        return self.flow.home is not None or self.flow.fault is not None

    def _tick(self, _dt) -> None:
        flow = self.flow
        if flow.syncer is not None:
            flow.syncer.tick()
        if flow.tick():
            self.speaker.stop()
            self.show()
        elif flow.home is not None:
            self.update_sync()

    def _next_slide(self, _dt) -> None:
        if self.flow.step is Step.ATTRACT:
            self.root.ids.sm.get_screen("attract").next_slide()

    def slides(self) -> list[tuple[str, str]]:
        """What the attract screen rotates: the boards and the current posting (names masked)."""
        if self.flow.conn is None or replica.state(self.flow.conn, "kiosk_compound") is None:
            return []
        b = residents.boards(self.flow.conn)
        out = []
        if b["red"]:
            line = self.tr("{name}  {building}栋{unit}单元  +{points}分")
            out.append((self.tr("{period}红榜").format(period=b["label"]),   # a slide shows the top six
                        "\n".join(line.format(name=n, building=bu, unit=u, points=pts) for n, bu, u, pts in b["red"][:6])))
        if b["black"]:
            line = self.tr("{name}  {building}栋{unit}单元  -{points}分")
            out.append((self.tr("{period}黑榜").format(period=b["label"]),
                        "\n".join(line.format(name=n, building=bu, unit=u, points=pts) for n, bu, u, pts in b["black"][:6])))
        for p in self.flow.postings():        # every posting open now or later: one slide each
            if self.flow.today().isoformat() >= p["opens_on"]:
                state = self.tr("公示期内,对自家记录有异议可刷卡提出。")
            else:
                state = self.tr("{opens} 开始公示。").format(opens=p["opens_on"])
            out.append((self.tr("{label}积分公示").format(label=p["label"]),
                        self.tr("公示时间:{opens} 至 {closes}\n共 {n} 户\n").format(
                            opens=p["opens_on"], closes=p["closes_on"], n=len(p["rows"])) + state))
        return out

    def posting_open(self) -> bool:
        return self.flow.conn is not None and residents.posting_open(self.flow.conn, self.flow.today()) is not None


def Window_clear() -> None:
    from kivy.core.window import Window
    Window.clearcolor = style.BACKGROUND


def run(home_dir: str, camera: str | None = None) -> None:
    KioskApp(home_dir, camera=camera).run()
