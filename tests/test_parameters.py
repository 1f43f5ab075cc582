"""The library's errors name a parameter by its Python name; the command line calls it by the running command's
flag for it, and no module outside cnnapp/cli writes a flag of its own."""

import ast
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cnnapp.cli.app import App, Command
from cnnapp.cli.main import cli
from cnnapp.data.datasets import parse_classes
from cnnapp.errors import CnnappError

SRC = Path(__file__).parents[1] / "src"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
COMMAND_LINE = re.compile(rf"cnnapp (?:{'|'.join(cli.commands)})\b[^`<]*")
"""A cnnapp command quoted whole (`cnnapp predict --json`), its flags included: the user types it as it stands."""


def flags_outside_the_command_line(src: Path = SRC) -> list[str]:
    """'path:line: --flag' for each flag in a string of a module outside cnnapp/cli, but for flags in a quoted
    cnnapp command and strings that are one argument of another program (pip's --quiet)."""
    found = []
    for path in sorted((src / "cnnapp").rglob("*.py")):
        if path.relative_to(src / "cnnapp").parts[0] == "cli":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            if re.fullmatch(r"--[a-z-]+(=\S*)?", node.value):
                continue
            for flag in FLAG.findall(COMMAND_LINE.sub("", node.value)):
                found.append(f"{path.relative_to(src)}:{node.lineno}: {flag}")
    return found


def test_no_module_outside_the_command_line_writes_a_flag():
    assert flags_outside_the_command_line() == []


def test_the_check_sees_a_flag_in_a_message(tmp_path):
    (tmp_path / "cnnapp" / "data").mkdir(parents=True)
    (tmp_path / "cnnapp" / "cli").mkdir()
    (tmp_path / "cnnapp" / "cli" / "ok.py").write_text('MESSAGE = "give --out"\n')
    (tmp_path / "cnnapp" / "data" / "bad.py").write_text(
        "# a comment may say --out\n"
        'PIP = ["pip", "download", "--no-deps", "--only-binary=:all:"]\n'
        'HINT = "see `cnnapp evaluate RUN --variants`"\n'
        'def f(out):\n    raise ValueError(f"{out}: exists; choose another --out")\n'
    )
    assert flags_outside_the_command_line(tmp_path) == ["cnnapp/data/bad.py:5: --out"]


def test_a_library_error_names_the_parameter_not_a_flag():
    with pytest.raises(CnnappError) as caught:
        parse_classes("5-0")
    assert caught.value.parameter == "classes"
    assert str(caught.value) == "`classes` 5-0: range 5-0 runs backwards"
    with pytest.raises(CnnappError) as caught:
        parse_classes("1,1", "seeds")
    assert (caught.value.parameter, str(caught.value)) == ("seeds", "`seeds` 1,1: 1 given twice")


def test_the_command_line_shows_the_flag_for_it(tmp_path):
    result = CliRunner().invoke(cli, ["train", "happy", "--data", str(tmp_path), "--classes", "5-0"])
    assert (result.exit_code, result.stderr) == (2, "cnnapp: error: --classes 5-0: range 5-0 runs backwards\n")


@click.command(cls=Command)
@click.argument("run")
@click.argument("parameter")
@click.option("-o", "--out")
@click.option("--seeds", "seed_text")
@click.option("--max-minutes", type=float)
def failing(run: str, parameter: str, **options) -> None:
    """Fails with an error about parameter."""
    raise CnnappError(f"`{parameter}` {run}: unusable; choose another `{parameter}`", parameter=parameter)


@pytest.mark.parametrize(
    ("parameter", "called"),
    [
        ("run", "RUN"),
        ("out", "--out"),
        ("seeds", "--seeds"),
        ("seed_text", "--seeds"),
        ("max_minutes", "--max-minutes"),
        ("colour", "`colour`"),
    ],
)
def test_an_option_is_called_by_its_longest_flag_an_argument_by_its_metavar(parameter, called):
    """A parameter the command does not have keeps the library's words."""
    result = CliRunner().invoke(App(commands=[failing]), ["failing", "x", parameter])
    assert (result.exit_code, result.stderr) == (2, f"cnnapp: error: {called} x: unusable; choose another {called}\n")
