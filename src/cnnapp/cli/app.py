"""The command group: one-line errors and exit codes.

0 success; 1 something unexpected (a bug or a fault of the machine); 2 bad usage or data; 3 an architecture
check that found differences (`cnnapp summary`, `cnnapp demo`); 130 interrupted (Ctrl-C).
"""

import os
import sys
import traceback
from typing import ClassVar

import click

from cnnapp.errors import CnnappError

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

    def main(self, *args, **kwargs):
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except (click.exceptions.Abort, KeyboardInterrupt):
            click.echo("cnnapp: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except click.ClickException as error:
            error.show()
            sys.exit(EXIT_BAD_INPUT)
        except CnnappError as error:
            click.echo(f"cnnapp: error: {error}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except Exception as error:
            if os.environ.get("CNNAPP_DEBUG"):
                traceback.print_exc()
            detail = str(error).splitlines()[0] if str(error) else ""
            click.echo(
                f"cnnapp: unexpected error: {type(error).__name__}: {detail} (set CNNAPP_DEBUG=1 for details)",
                err=True,
            )
            sys.exit(EXIT_UNEXPECTED)
        sys.exit(code if isinstance(code, int) else 0)
