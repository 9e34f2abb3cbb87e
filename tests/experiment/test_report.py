"""The report renders in a real headless Chromium with every figure decoded."""

import os
import re
import shutil
import subprocess

import pytest

from probing._core.errors import ProbingError
from probing.pipeline.report import build_report, write_report

pytestmark = pytest.mark.filterwarnings("ignore:SANITY CHECK FAILED")

CHROMIUM = ("chromium", "chromium-browser")


def _chromium():
    found = next((shutil.which(name) for name in CHROMIUM if shutil.which(name)), None)
    assert found, "Chromium is missing: `make test` installs it (apt-get install chromium)"
    return found


def _dump_dom(page, tmp_path):
    profile = tmp_path / "profile"
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
               "--virtual-time-budget=5000", "--dump-dom", page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def test_report_renders_in_chromium_with_every_figure(reference, copy_of, tmp_path):
    folder = copy_of(reference[0])
    page = write_report(folder / "results")
    source = page.read_text()
    n_images = source.count("<img ")
    # two region-by-condition figures (factorial paradigm x 2 models), two norm curves
    assert n_images == 4
    assert "http://" not in source and "https://" not in source  # nothing to fetch
    dom = _dump_dom(page, tmp_path)
    assert f'data-figures-rendered="{n_images}"' in dom
    assert dom.count('data-rendered="yes"') == n_images
    assert "Surprisal by region and condition: garden_path_npz, gpt2" in dom
    for text in ("Methods", "agreement_simple", "8 stimuli with generation seed 0", "p_corr",
                 "ci_low", "holm",
                 "Provenance", "Marvin &amp; Linzen (2018) EMNLP"):
        assert text in dom, text


def test_report_needs_a_results_folder(tmp_path):
    with pytest.raises(ProbingError, match="manifest.json"):
        build_report(tmp_path)


def test_report_lists_every_step_with_its_key(reference):
    source = build_report(reference[0] / "results")
    keys = re.findall(r"<td>([0-9a-f]{16})</td>", source)
    assert sorted(keys) == sorted(s.key[:16] for s in _steps(reference[0]))


def _steps(folder):
    from probing.pipeline.experiment import load_experiment, plan_experiment

    return plan_experiment(load_experiment(folder / "experiment.yaml"))


def test_the_cli_writes_the_report_and_prints_its_path(reference, copy_of, capsys):
    from probing.cli.main import main

    folder = copy_of(reference[0])
    assert main(["report", str(folder / "results")]) == 0
    assert capsys.readouterr().out.strip() == str(folder / "results/report.html")
    mask = os.umask(0)
    os.umask(mask)
    assert (folder / "results/report.html").stat().st_mode & 0o777 == 0o666 & ~mask


def test_the_cli_refuses_a_folder_without_manifest(tmp_path, capsys):
    from probing.cli.main import main

    assert main(["report", str(tmp_path)]) == 2
    assert "no readable manifest.json" in capsys.readouterr().err
