"""Tests for the ``probing`` command line (probing.cli).

Most run ``main([...])`` in-process; a few run ``python -m probing`` in a subprocess to
see exactly what a user sees (exit status, stderr, no traceback).
"""

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import probing
from probing._core.errors import SpecError
from probing.cli.main import main
from probing.paradigms import generate, load_paradigm, shipped_paradigms

REPO = Path(__file__).resolve().parents[2]
LEXICON = REPO / "data" / "lexicon" / "english_core.tsv"
SIMPLE = (REPO / "paradigms" / "agreement_simple.yaml").read_text(encoding="utf-8")
GOOD = SIMPLE.replace("../data/lexicon/english_core.tsv", str(LEXICON)).replace(
    "items_per_cell: 50", "items_per_cell: 4")
BAD = GOOD.replace("number: $subject_number", "number: $subject_numbr")
# loads (every cell has entries) but cannot be generated: a verb and its contrast partner
# always differ by one character (smiles/smile), so no item matches in length
UNSATISFIABLE = GOOD + "match: {length: chars, tolerance: 0}\n"
UNSAT_LINE = UNSATISFIABLE.splitlines().index("items_per_cell: 4") + 1
BAD_LINE = next(i for i, line in enumerate(BAD.splitlines(), start=1) if "$subject_numbr" in line)
SUBCOMMANDS = ["list", "validate", "generate", "run", "demo"]


@pytest.fixture
def files(tmp_path):
    """good.yaml, bad.yaml (fails to load), unsat.yaml (loads, fails generation and validate)."""
    out = {}
    for name, text in (("good", GOOD), ("bad", BAD), ("unsat", UNSATISFIABLE)):
        out[name] = tmp_path / f"{name}.yaml"
        out[name].write_text(text, encoding="utf-8")
    return out


def _run_module(*args, cwd):
    return subprocess.run([sys.executable, "-m", "probing", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def _bad_message(path):
    return (f"{path}:{BAD_LINE}: slots.subject.number: '$subject_numbr' names no factor; "
            "allowed: $subject_number")


# --- version and help ----------------------------------------------------------------------


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"probing {probing.__version__}\n"


def test_python_dash_m_version():
    done = _run_module("--version", cwd=REPO)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"probing {probing.__version__}\n", "")


def test_console_script_points_at_main():
    scripts = importlib.metadata.entry_points(group="console_scripts")
    assert [e.value for e in scripts if e.name == "probing"] == ["probing.cli.main:main"]


@pytest.mark.parametrize("argv", [["--help"], *[[c, "--help"] for c in SUBCOMMANDS]],
                         ids=["top", *SUBCOMMANDS])
def test_help_at_every_level(argv, capsys):
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0
    out = capsys.readouterr().out
    prog = "probing" if argv == ["--help"] else f"probing {argv[0]}"
    assert out.startswith(f"usage: {prog} ")
    if argv == ["--help"]:
        assert all(c in out for c in SUBCOMMANDS) and "--version" in out and "--debug" in out


@pytest.mark.parametrize(("argv", "message"), [
    ([], "the following arguments are required: COMMAND"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["generate"], "the following arguments are required: FILE"),
    (["validate"], "the following arguments are required: FILE"),
    (["generate", "x.yaml", "--seed", "three"], "argument --seed: invalid int value: 'three'"),
], ids=["no-command", "unknown-command", "generate-no-file", "validate-no-file", "seed-not-int"])
def test_usage_errors_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "usage:" not in err


# --- list and validate ---------------------------------------------------------------------


def test_list_names_every_shipped_paradigm(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    specs = [load_paradigm(p) for p in shipped_paradigms()]
    assert [line.split()[:3] for line in lines[:len(specs)]] == [
        [s.name, s.kind, str(p)] for s, p in zip(specs, shipped_paradigms(), strict=True)]
    assert all(line.endswith(s.description) for line, s in zip(lines[:len(specs)], specs, strict=True))
    # then the shipped experiment files, with where each lives
    experiments = sorted((REPO / "paradigms" / "experiments").glob("*.yaml"))
    assert len(experiments) >= 3  # agreement_paper, localize_lesion, theory_of_mind
    assert [line.split()[1] for line in lines[len(specs):]] == ["experiment"] * len(experiments)


def test_list_another_folder(files, capsys):
    files["bad"].unlink()
    files["unsat"].unlink()
    assert main(["list", "--dir", str(files["good"].parent)]) == 0
    assert capsys.readouterr().out.split()[:2] == ["agreement_simple", "minimal_pairs"]


def test_list_a_folder_with_a_bad_file(files, capsys):
    assert main(["list", "--dir", str(files["good"].parent)]) == 2
    err = capsys.readouterr().err
    assert err == f"probing list: error: {_bad_message(files['bad'])}\n"


def test_validate_every_shipped_paradigm(capsys):
    paths = [str(p) for p in shipped_paradigms()]
    assert main(["validate", *paths]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    assert [line.split()[:2] for line in out.out.splitlines()] == [["ok", p] for p in paths]


def test_validate_bad_file_one_line_on_stderr(files, capsys):
    assert main(["validate", str(files["bad"])]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == f"probing validate: error: {_bad_message(files['bad'])}\n"


def test_validate_reports_every_file(files, capsys):
    missing = files["good"].parent / "missing.yaml"
    argv = ["validate", str(files["good"]), str(files["bad"]), str(missing), str(files["unsat"])]
    assert main(argv) == 2
    out = capsys.readouterr()
    assert out.out.splitlines() == [
        f"ok {files['good']} (minimal_pairs, agreement_simple; generates 16 stimuli)"]
    assert out.err.splitlines() == [
        f"probing validate: error: {_bad_message(files['bad'])}",
        f"probing validate: error: {missing}: no such file",
        f"probing validate: error: {files['unsat']}:{UNSAT_LINE}: items_per_cell: could generate "
        "only 0 of 4 distinct length-matched items per cell after 100 draws; add lexicon entries "
        "or lower items_per_cell"]


# --- generate ------------------------------------------------------------------------------


def test_generate_to_stdout(files, capsys):
    assert main(["generate", str(files["good"]), "--seed", "3"]) == 0
    out = capsys.readouterr()
    expected = generate(load_paradigm(files["good"]), seed=3).table
    assert out.out == expected.to_csv(index=False, lineterminator="\n")
    assert out.err == ""


def test_generate_to_csv(files, tmp_path, capsys):
    out = tmp_path / "out" / "stim.csv"
    out.parent.mkdir()
    assert main(["generate", str(files["good"]), "--out", str(out)]) == 0
    names = sorted(p.name for p in out.parent.iterdir())
    assert names == ["stim.csv", "stim.meta.json", "stim.regions.csv", "stim.words.csv"]
    stimuli = generate(load_paradigm(files["good"]))
    assert out.read_text() == stimuli.table.to_csv(index=False, lineterminator="\n")
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(f"{len(stimuli.table)} stimuli of agreement_simple (minimal_pairs) -> ")
    assert str(out) in printed[0]


def test_generate_to_parquet(files, tmp_path):
    out = tmp_path / "stim.parquet"
    assert main(["generate", str(files["good"]), "--seed", "2", "--out", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir() if "stim" in p.name) == [
        "stim.meta.json", "stim.parquet", "stim.regions.parquet", "stim.words.parquet"]
    expected = generate(load_paradigm(files["good"]), seed=2)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected.table, check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "stim.regions.parquet"),
                                  expected.regions, check_dtype=False)


def test_generate_same_seed_same_bytes_other_seed_other_bytes(files, tmp_path):
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        assert main(["generate", str(files["good"]), "--seed", seed,
                     "--out", str(tmp_path / f"{name}.csv")]) == 0
    read = {n: (tmp_path / f"{n}.csv").read_bytes() for n in "abc"}
    assert read["a"] == read["b"] != read["c"]
    assert (tmp_path / "a.regions.csv").read_bytes() == (tmp_path / "b.regions.csv").read_bytes()


def _only_inputs(folder):
    return sorted(p.name for p in folder.iterdir()) == ["bad.yaml", "good.yaml", "unsat.yaml"]


@pytest.mark.parametrize(("out", "message"), [
    ("stim.txt", "--out {out}: must end in .csv or .parquet"),
    ("stim", "--out {out}: must end in .csv or .parquet"),
    ("stim.CSV", "--out {out}: must end in .csv or .parquet"),
    ("missing/stim.csv", "--out {out}: folder {folder} does not exist"),
], ids=["txt", "no-suffix", "upper-case", "missing-folder"])
def test_generate_bad_out_path(out, message, files, tmp_path, capsys):
    out = tmp_path / out
    assert main(["generate", str(files["good"]), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == "probing generate: error: " + message.format(out=out, folder=out.parent) + "\n"
    assert _only_inputs(tmp_path)


@pytest.mark.parametrize("which", ["bad", "unsat", "missing"], ids=["invalid", "unsatisfiable", "missing"])
def test_generate_error_leaves_no_files(which, files, tmp_path, capsys):
    path = files.get(which, tmp_path / "missing.yaml")
    assert main(["generate", str(path), "--out", str(tmp_path / "stim.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"probing generate: error: {path}")
    assert _only_inputs(tmp_path)


def test_generate_error_names_the_field_and_keeps_an_earlier_output(files, tmp_path, capsys):
    out = tmp_path / "stim.csv"
    out.write_text("earlier run\n")
    assert main(["generate", str(files["unsat"]), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"probing generate: error: {files['unsat']}: items_per_cell: could "
                          "generate only 0 of 4 distinct length-matched items")
    assert out.read_text() == "earlier run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "good.yaml", "stim.csv", "unsat.yaml"]


def test_generate_negative_seed(files, capsys):
    assert main(["generate", str(files["good"]), "--seed", "-1"]) == 2
    assert capsys.readouterr().err == "probing generate: error: seed: must be an integer >= 0, got -1\n"


def test_debug_raises_instead(files):
    with pytest.raises(SpecError, match="names no factor"):
        main(["--debug", "generate", str(files["bad"])])


def test_no_traceback_without_debug(files, tmp_path):
    done = _run_module("generate", str(files["bad"]), "--out", str(tmp_path / "s.csv"), cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"probing generate: error: {_bad_message(files['bad'])}\n"
    assert _only_inputs(tmp_path)
    done = _run_module("--debug", "generate", str(files["bad"]), cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr and "SpecError" in done.stderr


def test_list_into_a_closed_pipe_ends_quietly(tmp_path):
    """`probing list | head -1`: the reader closes the pipe early; no BrokenPipeError."""
    proc = subprocess.Popen([sys.executable, "-m", "probing", "list"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # the reader goes away after one line
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
