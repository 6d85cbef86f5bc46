"""Every command a user can run is documented in the README (as datasette checks its settings)."""

import re
from pathlib import Path

import click
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def command_paths(group: click.Group, prefix: str):
    for name, command in group.commands.items():
        if command.hidden:          # an alias (enroll for enrol): the README names the command once
            continue
        if isinstance(command, click.Group):
            yield from command_paths(command, f"{prefix} {name}")
            if not command.commands:
                yield f"{prefix} {name}"
        else:
            yield f"{prefix} {name}"


def cli_groups():
    from kiosk.__main__ import main as kiosk_main
    from office.cli import main as office_main
    from terminal.__main__ import main as terminal_main
    return {"python -m office": office_main, "python -m terminal": terminal_main, "python -m kiosk": kiosk_main}


@pytest.mark.parametrize("package", ["python -m office", "python -m terminal", "python -m kiosk"])
def test_every_command_is_in_the_readme(package):
    group = cli_groups()[package]
    paths = sorted(command_paths(group, package))
    assert paths
    undocumented = [p for p in paths if not re.search(re.escape(p) + r"\b", README)]
    assert undocumented == [], f"add these to README.md: {undocumented}"


def test_readme_opens_with_the_two_commands():
    first_block = README.split("```")[1]
    assert "make demo" in first_block and "make test" in first_block
