"""One test of "is this the Android build", shared by the camera and the speech."""

from device import android
from kiosk import tts


def test_the_android_build_is_told_by_its_launcher_not_by_sys_platform(monkeypatch):
    monkeypatch.delenv("ANDROID_ARGUMENT", raising=False)
    assert not android.is_android()
    assert not tts.Speaker(engine="").available          # a Linux kiosk without espeak-ng stays silent
    monkeypatch.setenv("ANDROID_ARGUMENT", "/data/data/org.longhai.kiosk/files/app")
    assert android.is_android()
    assert tts.Speaker(engine="").available              # the system TTS speaks there
