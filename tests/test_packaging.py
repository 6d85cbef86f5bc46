"""The project as its users install it: a wheel built from this checkout, installed without ``-e``
into fresh virtual environments, one per role. The office's has no Kivy or OpenCV and runs
``python -m office demo`` and a PDF report (fonts and templates are in the wheel); the device's
has no web framework and reads a QR image with ``python -m device.scan``."""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import segno

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # built from a copy of what a clone holds (tracked and new files, not what .gitignore leaves
    # out), so the checkout gets no build/ folder and nothing ignored slips into the wheel
    source = tmp_path_factory.mktemp("source")
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(source)],
                   check=True, capture_output=True, timeout=300)
    [built] = out.glob("*.whl")
    return built


def venv_with(wheel: Path, extra: str, where: Path) -> Path:
    """A fresh venv with the wheel and its ``extra`` installed (pip, as a user would)."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=120)
    python = where / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", f"{wheel}[{extra}]"],
                   check=True, capture_output=True, timeout=600)
    return python


def run(python: Path, *args, cwd: Path) -> subprocess.CompletedProcess:
    """Run in ``cwd``, away from the checkout, so nothing is imported from the source tree."""
    return subprocess.run([str(python), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8"})


def importable(python: Path, module: str, cwd: Path) -> bool:
    found = run(python, "-c", f"import importlib.util, sys; sys.exit(0 if importlib.util.find_spec({module!r}) else 1)",
                cwd=cwd)
    return found.returncode == 0


def test_each_role_installs_only_its_own_libraries(wheel):
    with zipfile.ZipFile(wheel) as z:
        meta = email.message_from_bytes(z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))))
    requires = meta.get_all("Requires-Dist")
    core = {r.split("==")[0] for r in requires if "extra ==" not in r}
    assert core == {"cryptography", "pynacl", "base45", "click", "tzdata", "requests"}
    assert any(r.startswith("kivy") and 'extra == "device"' in r for r in requires)
    assert any(r.startswith("fastapi") and 'extra == "office"' in r for r in requires)
    assert not any(r.startswith(("kivy", "opencv")) and 'extra == "office"' in r for r in requires)


def test_an_office_install_runs_the_demo_and_prints_without_kivy(wheel, tmp_path):
    python = venv_with(wheel, "office", tmp_path / "venv")
    work = tmp_path / "work"
    work.mkdir()
    assert not importable(python, "kivy", work) and not importable(python, "cv2", work)
    built = run(python, "-m", "office", "demo", "--db", work / "community.sqlite", cwd=work)
    assert built.returncode == 0 and "已建立演示社区" in built.stdout, built.stdout + built.stderr
    month = run(python, "-c", "from bank import clock; print(clock.local(clock.now_utc()).strftime('%Y-%m'))",
                cwd=work).stdout.strip()
    report = run(python, "-m", "office", "report", "monthly", "--db", work / "community.sqlite", "--month", month,
                 "--out", work / "month.pdf", cwd=work)
    assert report.returncode == 0, report.stdout + report.stderr
    assert (work / "month.pdf").read_bytes().startswith(b"%PDF") and (work / "month.pdf").stat().st_size > 10_000
    templates = run(python, "-c", "from office.console.web import Console; import sys; env = Console(sys.argv[1]).env; "
                                  "print(*[n for n in env.list_templates() if env.get_template(n)])",
                    work / "community.sqlite", cwd=work)
    assert {"login.html", "account.html", "base.html"} <= set(templates.stdout.split()), templates.stderr


def test_a_device_install_reads_a_card_without_the_web_framework(wheel, tmp_path):
    python = venv_with(wheel, "device", tmp_path / "venv")
    work = tmp_path / "work"
    work.mkdir()
    for web in ("fastapi", "starlette", "uvicorn", "jinja2"):
        assert not importable(python, web, work), web
    text = "MPB1:LH:R:100001:1:K1:TEST"
    segno.make_qr(text, error="m").save(str(work / "card.png"), scale=8, border=4)
    scanned = run(python, "-m", "device.scan", work / "card.png", cwd=work)
    assert scanned.returncode == 0 and scanned.stdout.strip() == f"{work / 'card.png'}\t{text}", scanned.stderr
    files = run(python, "-c", "from importlib.resources import files; from device.ui import fonts, i18n; "
                              "print(fonts.REGULAR.is_file(), (i18n.LOCALE_DIR / 'en/LC_MESSAGES/mpb.mo').is_file(), "
                              "(files('terminal.screens') / 'card.kv').is_file(), (files('kiosk') / 'app.kv').is_file())",
                cwd=work)
    assert files.stdout.split() == ["True"] * 4, files.stdout + files.stderr
