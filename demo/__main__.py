"""``python -m demo``: the whole system on this machine, one app alone, or the screenshots.

    python -m demo [--dir demo-data] [--port 8080]       office + tablet + kiosk (``make demo``)
    python -m demo tablet [--dir DIR] [--camera CAM]      office + the noodle shop's tablet
    python -m demo kiosk [--dir DIR] [--camera CAM]       office + the kiosk of compound 1
    python -m demo screenshots tablet|kiosk --out DIR     docs/screenshots from the real apps
"""

from __future__ import annotations

from pathlib import Path

import click

directory = click.Path(file_okay=False, path_type=Path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.option("--dir", "work_dir", type=directory, default=Path("demo-data"), show_default=True,
              help="Where the demo lives (its community is built there when missing).")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True,
              help="The office server's port.")
@click.pass_context
def main(ctx, work_dir: Path, port: int):
    """道德积分银行 · 全系统演示 (the whole system on this machine)."""
    if ctx.invoked_subcommand is None:
        from .system import run
        run(work_dir, port)


@main.command("tablet")
@click.option("--dir", "work_dir", type=directory, default=Path("demo-data/terminal"), show_default=True)
@click.option("--camera", default=None, help="A camera index instead of the recorded video of demo cards.")
def tablet_cmd(work_dir: Path, camera: str | None):
    """Office on the demo community + an enrolled noodle-shop tablet + the app."""
    from .tablet import run
    run(work_dir, camera)


@main.command("kiosk")
@click.option("--dir", "work_dir", type=directory, default=Path("demo-data/kiosk"), show_default=True)
@click.option("--camera", default=None, help="A camera index instead of the recorded video of demo cards.")
def kiosk_cmd(work_dir: Path, camera: str | None):
    """Office on the demo community + an enrolled kiosk of compound 1 + the app."""
    from .kiosk import run
    run(work_dir, camera)


@main.command("screenshots")
@click.argument("app", type=click.Choice(["tablet", "kiosk"]))
@click.option("--out", "out_dir", type=directory, default=Path("docs/screenshots"), show_default=True)
def screenshots_cmd(app: str, out_dir: Path):
    """Regenerate docs/screenshots/terminal-*.png (1280x800) or kiosk-*.png (1920x1080) from the real app
    with demo data (one app per process: Kivy's window size is fixed when Kivy starts)."""
    if app == "tablet":
        from .tablet_screenshots import take
    else:
        from .kiosk_screenshots import take
    for path in take(out_dir):
        click.echo(str(path))


if __name__ == "__main__":
    main(prog_name="python -m demo")
