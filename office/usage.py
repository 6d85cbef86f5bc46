"""Usage mistakes at the office's command line as one plain Chinese line: a wrong option, a
missing argument, a bad value, an unknown command. click's own report is an English usage
block, a hint and the error; the office staff get one sentence and where to look for help.

``PlainGroup`` is the class of ``python -m office``'s top group; every subcommand's parse
errors reach its ``main``."""

from __future__ import annotations

import re
import sys

import click

# click's English value messages (click 8) and what a person reads instead.
_VALUES = [
    (re.compile(r"^'?(.*?)'? is not a valid integer( range)?\.?$", re.S), "“{0}”不是整数"),
    (re.compile(r"^'?(.*?)'? is not a valid float( range)?\.?$", re.S), "“{0}”不是数字"),
    (re.compile(r"^'?(.*?)'? is not a valid boolean\.?$", re.S), "“{0}”应为 yes 或 no"),
    (re.compile(r"^'?(.*?)'? is not (?:one of )?(.*?)\.?$", re.S), "“{0}”不是可选的值(可选:{1})"),  # noqa: RUF001
    (re.compile(r"^(?:File|Directory|Path) '(.*)' does not exist\.?$", re.S), "“{0}”不存在"),
    (re.compile(r"^(?:File|Path) '(.*)' is a directory\.?$", re.S), "“{0}”是文件夹,应为文件"),
    (re.compile(r"^(?:Directory|Path) '(.*)' is a file\.?$", re.S), "“{0}”是文件,应为文件夹"),
    (re.compile(r"^(?:File|Directory|Path) '(.*)' is not (?:readable|writable)\.?$", re.S), "没有权限读写“{0}”"),
    (re.compile(r"^(.*) is not in the range (.*)\.?$", re.S), "{0} 超出范围 {1}"),
]


def _name(param: click.Parameter | None) -> str:
    if param is None:
        return "参数"
    if isinstance(param, click.Option):
        return f"选项 {max(param.opts, key=len)}"
    return f"参数 {param.human_readable_name}"


def _value(message: str) -> str:
    for pattern, zh in _VALUES:
        m = pattern.match(message.strip())
        if m:
            return zh.format(*(g.replace("'", "").replace(", ", "、") if g else "" for g in m.groups()))
    return message.strip()


def sentence(exc: click.UsageError) -> str:
    """The Chinese sentence for one usage error (one line, no usage block)."""
    if isinstance(exc, click.NoSuchOption):
        guess = f"是不是 {'、'.join(sorted(exc.possibilities))}?" if exc.possibilities else ""
        return f"没有 {exc.option_name} 这个选项。{guess}"
    if isinstance(exc, click.MissingParameter):
        return f"缺少{_name(exc.param)}。"
    if isinstance(exc, click.BadOptionUsage):
        if "requires an argument" in exc.message:
            return f"选项 {exc.option_name} 后面要写一个值。"
        return f"选项 {exc.option_name} 用法不对:{_value(exc.message)}。"
    if isinstance(exc, click.BadParameter):
        return f"{_name(exc.param)} 的值不对:{_value(exc.message)}。"
    m = re.match(r"No such command '(.*)'\.?$", exc.message)
    if m:
        return f"没有“{m[1]}”这个命令。"
    m = re.match(r"Got unexpected extra arguments? \((.*)\)$", exc.message)
    if m:
        return f"多出了参数:{m[1]}。"
    if exc.message.startswith("Missing command"):
        return "缺少要执行的命令。"
    return _value(exc.message)


def line(exc: click.UsageError) -> str:
    where = exc.ctx.command_path if exc.ctx is not None else "python -m office"
    text = " ".join(sentence(exc).split())
    return f"错误:{text}(用法见 {where} --help)"


class PlainGroup(click.Group):
    """A group whose usage errors are one line on stderr (exit 2, as click's are)."""

    def main(self, *args, **kwargs):
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help(), err=True)     # a bare group: its help, as click gives it
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            click.echo(line(exc), err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("已取消。", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            click.echo(f"错误:{exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        # Without standalone mode click returns an exit code (from --help, or ctx.exit) instead
        # of leaving; a command's own return value is not an exit status.
        sys.exit(result if isinstance(result, int) else 0)
