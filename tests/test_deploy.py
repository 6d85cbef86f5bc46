"""The systemd units in deploy/ run commands this program accepts, with the options that matter:
the office restarts on failure and logs to journald; the backup runs nightly, onto the second disk
only when it is mounted, the same store the server serves."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import click
import pytest

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(DEPLOY / name, encoding="utf-8")
    return parser


def command(name: str) -> tuple[str, list[str]]:
    """(the package after ``-m``, its arguments) of a unit's ExecStart."""
    words = shlex.split(unit(name)["Service"]["ExecStart"])
    assert words[0].endswith("/python") and words[1] == "-m", words
    return words[2], words[3:]


def _main(package: str) -> click.Command:
    if package == "office":
        from office.cli import main
    elif package == "kiosk":
        from kiosk.__main__ import main
    else:
        from sync.__main__ import main
    return main


@pytest.mark.parametrize("name", sorted(p.name for p in DEPLOY.glob("*.service")))
def test_every_unit_runs_a_command_line_the_program_accepts(name):
    package, args = command(name)
    main = _main(package)
    if isinstance(main, click.Group) and args and args[0] in main.commands:
        main, args = main.commands[args[0]], args[1:]      # python -m office serve ...: serve's options
    ctx = main.make_context(f"python -m {package}", list(args))   # raises on an unknown or bad option
    assert all(v is not None for k, v in ctx.params.items() if k in ("db_path", "to_dir", "home_dir", "app_home"))


def test_the_office_server_restarts_on_failure_and_logs_to_the_journal():
    service = unit("mpb-office.service")["Service"]
    assert service["Restart"] == "on-failure" and service["StandardError"] == "journal"
    package, args = command("mpb-office.service")
    assert (package, args[0]) == ("office", "serve")


def test_the_nightly_backup_goes_to_the_mounted_second_disk_from_the_served_store():
    served = command("mpb-office.service")[1]
    package, args = command("mpb-office-backup.service")
    assert (package, args[0]) == ("office", "backup")
    db = lambda a: a[a.index("--db") + 1]   # noqa: E731
    assert db(args) == db(served)
    to = args[args.index("--to") + 1]
    mount = unit("mpb-office-backup.service")["Unit"]["RequiresMountsFor"]
    assert to.startswith(mount + "/") and not Path(db(args)).is_relative_to(mount)
    assert "--keep" in args and to in unit("mpb-office-backup.service")["Service"]["ReadWritePaths"]
    timer = unit("mpb-office-backup.timer")["Timer"]
    assert timer["OnCalendar"].startswith("*-*-* 03:") and timer["Persistent"] == "true"


def test_the_daily_expiry_unit_expires_the_served_store_at_two_in_the_morning_chongqing_time():
    served = command("mpb-office.service")[1]
    package, args = command("mpb-office-expire.service")
    assert (package, args[0]) == ("office", "expire")
    db = lambda a: a[a.index("--db") + 1]   # noqa: E731
    assert db(args) == db(served)
    assert Path(db(args)).parent.as_posix() in unit("mpb-office-expire.service")["Service"]["ReadWritePaths"]
    timer = unit("mpb-office-expire.timer")["Timer"]
    assert timer["OnCalendar"] == "*-*-* 02:00:00 Asia/Shanghai" and timer["Persistent"] == "true"


def test_the_nightly_district_backup_unit_backs_up_every_community_onto_the_mounted_disk():
    package, args = command("mpb-district-backup.service")
    assert (package, args[0]) == ("office", "backup") and "--all" in args and "--keep" in args
    assert args[args.index("--db") + 1].startswith("postgresql://")
    to = args[args.index("--to") + 1]
    service = unit("mpb-district-backup.service")
    assert to.startswith(service["Unit"]["RequiresMountsFor"] + "/") and to in service["Service"]["ReadWritePaths"]
    timer = unit("mpb-district-backup.timer")["Timer"]
    assert timer["OnCalendar"].startswith("*-*-* 03:") and timer["Persistent"] == "true"
