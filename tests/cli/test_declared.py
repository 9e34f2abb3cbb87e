"""Guard tests generated from the command declarations: a new command is covered at once.

Every option with allowed values, a minimum or a check gets a bad value on the command
line; the command must exit 2 with one line on stderr, before the model loads (the
model path cannot load). The options reference must be what the declarations generate.
"""

from pathlib import Path

import pytest

from probing.cli.declared import DECLARATIONS
from probing.cli.main import main
from probing.commands import ModelSettings, option_fields, options_markdown
from probing.commands.parser import flag_of
from probing.pipeline.commands import COMMANDS

REPO = Path(__file__).resolve().parents[2]


def _bad_cases():
    for command in COMMANDS:
        for cls in (command.options, *command.settings):
            for field, declared in option_fields(cls):
                if isinstance(field.default, bool) or not declared.cli:
                    continue
                if declared.choices is not None or declared.check is not None:
                    yield command, field, declared, "?bogus?"
                if declared.minimum is not None:
                    yield command, field, declared, str(int(declared.minimum) - 1)


CASES = list(_bad_cases())


def _argv(command, field, declared, value, tmp_path):
    fields = [(f, d) for cls in (command.options, *command.settings) for f, d in option_fields(cls)]
    given = command.example.get("paradigm", ())
    files = [str(REPO / "paradigms" / name)
             for name in (given if isinstance(given, tuple) else (given,))]
    positional = [str(command.example.get(f.name, tmp_path)) for f, d in fields if d.positional]
    required = [arg for f, d in fields if d.required and not d.positional and f.name != field.name
                for arg in (flag_of(f, d), str(command.example.get(f.name, tmp_path / "run")))]
    return [command.name, *positional, *files, flag_of(field, declared), value, *required]


@pytest.mark.parametrize(("command", "field", "declared", "value"), CASES,
                         ids=[f"{c.name}-{f.name}={v}" for c, f, _, v in CASES])
def test_a_bad_option_exits_2_with_one_line_before_the_model_loads(
        command, field, declared, value, tmp_path, capsys):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{ not json")
    argv = _argv(command, field, declared, value, tmp_path)
    loads_model = any(issubclass(cls, ModelSettings) for cls in command.settings)
    if field.name != "model" and loads_model:
        argv += ["--model", str(broken)]
    if command.writes_run_folder:
        argv += ["--out", str(tmp_path / "run")]
    try:  # a value the flag's type cannot read is argparse's one-line error, also exit 2
        status = main(argv)
    except SystemExit as done:
        status = done.code
    err = capsys.readouterr().err
    assert status == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert "broken-model" not in err and "config.json" not in err, err
    assert value in err, err
    assert not (tmp_path / "run").exists()


def test_every_kind_of_bad_option_is_generated():
    names = {(c.name, f.name) for c, f, _, _ in CASES}
    assert {("probe", "probes"), ("probe", "cv"), ("extract", "site"), ("extract", "layers"),
            ("lens", "layers"), ("probe", "model_dtype")} <= names


def test_the_options_reference_is_current():
    text = (REPO / "docs" / "options.md").read_text(encoding="utf-8")
    assert text == options_markdown(DECLARATIONS), (
        "docs/options.md is out of date: python -m probing.pipeline.commands > docs/options.md")


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
def test_help_lists_allowed_values_and_defaults(command, capsys):
    with pytest.raises(SystemExit):
        main([command.name, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for cls in (command.options, *command.settings):
        for field, declared in option_fields(cls):
            if not declared.cli:  # an API-only option
                continue
            for value in declared.choices or ():
                assert str(value) in text, (command.name, field.name, value)
            assert (declared.metavar if declared.positional else flag_of(field, declared)) in text


def test_every_declared_command_is_in_the_independence_contract():
    import configparser
    import fnmatch

    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    patterns = config["importlinter:contract:commands-independent"]["modules"].split()
    for command in COMMANDS:  # the contract's wildcard covers each one's module
        module = command.run.__module__
        assert any(fnmatch.fnmatchcase(module, p) and module.count(".") == p.count(".")
                   for p in patterns), f"{module} is not in the independence contract"


def test_a_command_may_read_several_paradigms(tmp_path):
    import argparse

    from probing.commands import Command, ModelSettings, Result, SeedOption, add_subcommand
    from probing.pipeline.commands.execute import run_command

    class Loaded:  # a loaded model: run_command calls nothing on it
        provenance = {}

    names = ("rsa_number_animacy.yaml", "agreement_simple.yaml")
    both = Command(name="both", help="h", description="d", options=SeedOption,
                   prepare=lambda paradigms, options: tuple(p.name for p in paradigms),
                   run=lambda plan, lm: Result(notes={"plan": plan}), many=True,
                   settings=(ModelSettings,))
    result = run_command(both, [REPO / "paradigms" / n for n in names], Loaded())
    assert result.notes["plan"] == ("rsa_number_animacy", "agreement_simple")
    sub = argparse.ArgumentParser().add_subparsers()
    add_subcommand(sub, both, handler=None)
    assert len(sub.choices["both"].parse_args(list(names)).files) == 2
