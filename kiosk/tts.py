"""Offline speech for the kiosk's "read my points aloud" button, never blocking the screen.

Linux kiosks use espeak-ng (Debian package ``espeak-ng``) with its Mandarin voice ``cmn``; on
Android the system TTS would be used through ``jnius``, imported only inside :func:`_android`
as Electrum does for its camera. Each request starts a daemon thread; a new request stops the
sentence still being spoken, so a resident tapping twice does not hear it twice. A kiosk without
a speech engine stays silent: that is never an error on screen.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading

from device.android import is_android

log = logging.getLogger(__name__)

VOICE = {"zh": "cmn", "en": "en"}
SPEED = 140          # words per minute: espeak's 175 default is fast for elderly listeners


class Speaker:
    def __init__(self, engine: str | None = None):
        self.engine = engine if engine is not None else (shutil.which("espeak-ng") or "")
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self.spoken: list[str] = []     # what was asked, for tests and logs

    @property
    def available(self) -> bool:
        return bool(self.engine) or is_android()

    def say(self, text: str, lang: str = "zh") -> threading.Thread:
        """Speak ``text`` in the background; returns the thread (tests may join it)."""
        self.spoken.append(text)
        thread = threading.Thread(target=self._speak, args=(text, lang), name="tts", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()
            self._proc = None

    def _speak(self, text: str, lang: str) -> None:
        if is_android():
            _android(text, lang)
            return
        if not self.engine:
            return
        self.stop()
        try:
            with self._lock:
                self._proc = subprocess.Popen([self.engine, "-v", VOICE.get(lang, "cmn"), "-s", str(SPEED), text],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                proc = self._proc
            proc.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            log.info("speech failed", exc_info=True)


def _android(text: str, lang: str) -> None:  # pragma: no cover - Android only
    from jnius import autoclass
    activity = autoclass("org.kivy.android.PythonActivity").mActivity
    tts = autoclass("android.speech.tts.TextToSpeech")(activity, None)
    tts.speak(text, 0, None, None)
