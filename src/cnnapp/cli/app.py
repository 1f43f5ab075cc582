"""The command group: one-line errors and exit codes.

0 success; 1 something unexpected (a bug or a fault of the machine); 2 bad usage or data; 3 an architecture
check that found differences (`cnnapp summary`, `cnnapp demo`); 130 interrupted (Ctrl-C).
"""

import math
import os
import sys
import traceback
from typing import ClassVar

import click

from cnnapp.errors import CnnappError, printable
from cnnapp.extras import missing_extra

EXIT_UNEXPECTED = 1
EXIT_BAD_INPUT = 2
EXIT_CHECK_FAILED = 3
EXIT_INTERRUPTED = 130


class App(click.Group):
    """A click group that turns CnnappError into one line on stderr and exit code 2, and lists its commands by
    task: sections, (title, command names) pairs, in the order shown."""

    sections: ClassVar[list[tuple[str, list[str]]]] = []

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        for title, names in self.sections:
            with formatter.section(title):
                formatter.write_dl([(name, self.commands[name].get_short_help_str()) for name in names])

    def invoke(self, ctx: click.Context):
        """Runs the command; a package of an extra that is not installed is named as that extra, in one line."""
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as error:
            raise missing_extra(error, f"cnnapp {ctx.invoked_subcommand}") from None

    def main(self, *args, **kwargs):
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except (click.exceptions.Abort, KeyboardInterrupt):
            click.echo("cnnapp: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except click.ClickException as error:
            click.echo(f"cnnapp: error: {printable(error.format_message())}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except CnnappError as error:
            click.echo(f"cnnapp: error: {printable(str(error))}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except Exception as error:
            if os.environ.get("CNNAPP_DEBUG"):
                traceback.print_exc()
            detail = printable(str(error).splitlines()[0]) if str(error) else ""
            click.echo(
                f"cnnapp: unexpected error: {type(error).__name__}: {detail} (set CNNAPP_DEBUG=1 for details)",
                err=True,
            )
            sys.exit(EXIT_UNEXPECTED)
        sys.exit(code if isinstance(code, int) else 0)


def on_command_line(text: str, parameter: str | None) -> str:
    """text with the parameter it names (in backticks, see CnnappError) called as the running command's user calls
    it: an option by its flag, an argument by its metavar; text as it is when the command has no such parameter."""
    for param in click.get_current_context().command.params if parameter else []:
        if parameter in {param.name, *(opt.lstrip("-").replace("-", "_") for opt in param.opts)}:
            called = max(param.opts, key=len) if isinstance(param, click.Option) else param.human_readable_name
            return text.replace(f"`{parameter}`", called)
    return text


class Command(click.Command):
    """A cnnapp command: a CnnappError that names one of its parameters names it as the command line does."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CnnappError as error:
            raise CnnappError(on_command_line(str(error), error.parameter)) from None


class Finite(click.FloatRange):
    """A number in a range that is also finite: nan and inf are refused by the option's name, as any number out of
    the range is."""

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value} is not a finite number", param, ctx)
        return number


POSITIVE = Finite(min=0, min_open=True)
"""The type of every option that takes a real number above zero: a rate, a size, a time."""

SEED = click.IntRange(0, 2**32 - 1)
"""The type of every seed option: the range NumPy, scikit-learn and TensorFlow all accept."""
