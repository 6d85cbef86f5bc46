"""What ``python -m terminal`` and ``python -m kiosk`` share: the app's own options (``--home``,
``--camera``) and its start, ``enrol``, and plain errors (one line on stderr and exit 1, never a
traceback). No Kivy here: the window is imported only when it is wanted.
"""

from __future__ import annotations

import copy

import functools
import json
import sqlite3
import sys
from typing import Callable

import click

from bank import clock
from bank.errors import BankError
from sync import client, home
from sync.faults import DeviceFault

from . import enrolment

CONTEXT = {"help_option_names": ["-h", "--help"]}


def echo_json(obj, indent: int | None = 2) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=indent))


def local_time(text: str | None) -> str:
    """A stored UTC instant as a person there reads it (Asia/Shanghai)."""
    if text is None:
        return "从未同步 (never)"
    return clock.local(clock.from_text(text)).strftime("%Y-%m-%d %H:%M") + " (北京时间)"


def last_sync_line(status: dict) -> str:
    """``status`` (a device engine's) as the line of its last sync, in local time, with its age."""
    age = status["last_sync_age_hours"]
    return f"上次同步 (last sync): {local_time(status['last_sync_at'])}" + (f",{age} 小时前" if age is not None else "")


def fail(zh: str, en: str) -> None:
    """One plain line on stderr, Chinese first, and exit 1."""
    click.echo(f"错误:{zh} (Error: {en})", err=True)
    sys.exit(1)


def plain_errors(func):
    """One plain line on stderr and exit 1 instead of a traceback (a JSON object with ``--json``)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except BankError as exc:
            if kwargs.get("as_json"):
                echo_json({"ok": False, "error": exc.code, "zh": exc.zh, "en": exc.en})
                sys.exit(1)
            fail(exc.zh, exc.en)
        except sqlite3.Error as exc:
            fault = DeviceFault("replica_damaged", detail=str(exc))
            fail(fault.zh, fault.en)
        except OSError as exc:
            fail("无法读写文件", str(exc))
    return wrapper


def home_option(device: str):
    """``--home DIR``, required: the device's home directory."""
    return click.option("--home", "home_dir", required=True, type=click.Path(file_okay=False),
                        help=f"The {device}'s home directory.")


def app_cli(summary: str, home_help: str, run: Callable) -> click.Group:
    """The app's command group: without a command, ``--home DIR [--camera …]`` opens the window
    (:func:`open_app`); ``summary`` is its help."""
    @click.group(context_settings=CONTEXT, invoke_without_command=True, help=summary)
    @click.option("--home", "app_home", type=click.Path(file_okay=False), default=None, help=home_help)
    @click.option("--camera", default=None,
                  help="Camera index (0, 1, …), a video or image file, or a folder of images or videos of cards.")
    @click.pass_context
    def main(ctx, app_home, camera):
        open_app(ctx, app_home, camera, run)
    return main


def open_app(ctx, app_home: str | None, camera: str | None, run: Callable) -> None:
    """The group's own work when no command is given: the help without ``--home``, a camera that
    cannot be one refused in one line, else the window (``run(home, camera)`` is the only part
    that imports Kivy)."""
    if ctx.invoked_subcommand is not None:
        return
    if app_home is None:
        click.echo(ctx.get_help())
        sys.exit(2)
    if camera is not None:
        from device.camera import check_spec
        problem = check_spec(camera)
        if problem:
            click.echo(f"错误:{problem}", err=True)
            sys.exit(2)
    run(app_home, camera)


def enrol_options(device: str, code_from: str = ""):
    """The options of ``enrol``: the home, the office, its one-time code, a label, the certificate's
    fingerprint; ``code_from`` says which office command gives the code."""
    def decorate(func):
        for option in reversed((
            home_option(device),
            click.option("--server", required=True, help="The office URL, e.g. https://192.168.1.10:8080"),
            click.option("--code", required=True, help="The one-time enrolment code from the office"
                                                       + (f" ({code_from})." if code_from else ".")),
            click.option("--label", default="", help=f"A name for this {device} (shown in the office's device list)."),
            click.option("--fingerprint", default=None,
                         help="The office certificate's SHA-256 (from office enrol or the console), if you have "
                              "it; the code's last two groups check it anyway."),
        )):
            func = option(func)
        return func
    return decorate


def add_enrol(group: click.Group, device: str, kind: str, where: Callable, code_from: str = "") -> None:
    """The app's ``enrol`` command: enrol this ``kind`` device with a one-time code from the
    office; ``where(home)`` says what it was enrolled as."""
    @group.command("enrol", help=f"Enrol this {device} with a one-time code from the office.")
    @enrol_options(device, code_from)
    @plain_errors
    def enrol_cmd(home_dir, server, code, label, fingerprint):
        enrol(home_dir, server, code, kind, label, fingerprint, where)

    group.add_command(hidden_alias(enrol_cmd), "enroll")


def hidden_alias(command: click.Command) -> click.Command:
    """The same command under the American spelling people type (``enroll``), not listed in --help."""
    alias = copy.copy(command)
    alias.hidden = True
    return alias


def enrol(home_dir: str, server: str, code: str, kind: str, label: str, fingerprint: str | None, where: Callable):
    """Enrol this device, or one plain line; ``where(home)`` says what it was enrolled as."""
    try:
        h, pulled = enrolment.enrol(home_dir, server, code, kind=kind, label=label,
                                     fingerprint=enrolment.fingerprint_text(fingerprint))
    except client.Unreachable as exc:
        # nothing was written and the code was not spent: the same command may simply be run again
        fail(enrolment.unreachable_sentence(server), exc.en)
    click.echo(f"登记成功 (enrolled): 设备 {h.device_id}, {where(h)}, 目录 {h.path}")
    if not pulled:
        click.echo("首次同步未完成,请稍后运行 python -m sync --home ... (first pull failed; sync later)")


def add_status(group: click.Group, device: str, summary: str, status_of: Callable[[home.Home], dict],
               lines: Callable[[dict], list[str]]) -> None:
    """The app's ``status`` command: ``status_of(home)`` as one JSON object (``--json``) or as
    ``lines`` for a person."""
    @group.command("status", help=summary)
    @home_option(device)
    @click.option("--json", "as_json", is_flag=True, help="One JSON object.")
    @plain_errors
    def status_cmd(home_dir, as_json):
        s = status_of(home.open_home(home_dir))
        if as_json:
            click.echo(json.dumps(s, ensure_ascii=False))
            return
        for line in lines(s):
            click.echo(line)
