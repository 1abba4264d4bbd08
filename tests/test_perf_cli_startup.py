"""The command line builds only the command it runs: the same help, errors and exit codes as the whole app."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from modelkit.cli.main import app, app_for, command_word

COMMANDS = sorted(w for w in (command_word(c) for c in app.registered_commands) if w)


@pytest.mark.parametrize(
    "args",
    [[name, "--help"] for name in COMMANDS]
    + [["compile", "--no-such-option"], ["run", "-s"], ["docs", "generate", "--help"], ["--help"], ["nope"], []],
    ids=lambda args: " ".join(args) or "(nothing)",
)
def test_a_command_alone_answers_as_the_whole_app(args: list[str]) -> None:
    runner = CliRunner()
    whole = runner.invoke(app, args, prog_name="modelkit")
    alone = runner.invoke(app_for(args), args, prog_name="modelkit")
    assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output)


def test_only_a_plain_command_is_built_alone() -> None:
    assert len(COMMANDS) > 10
    for name in COMMANDS:
        built = app_for([name])
        assert built is not app and [command_word(c) for c in built.registered_commands] == [name]
    for args in (["docs", "generate"], ["source", "freshness"], ["--version"], ["nope"], []):
        assert app_for(args) is app
