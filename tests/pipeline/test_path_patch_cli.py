"""``probing path-patch``: its per-pair table is the Python ``path_patch`` API's numbers;
bad components are refused in one line, before the weights load."""

import json

import numpy as np
import pandas as pd
import pytest

from probing.cli.main import main
from probing.models import path_patch
from tests.conftest import PARADIGMS

PARADIGM = str(PARADIGMS / "agreement_pp_attractor.yaml")
ARGV = ["path-patch", PARADIGM, "--contrast", "subject_number", "--readout", "logit_diff",
        "--limit", "3", "--n-boot", "10"]


@pytest.fixture
def tiny(make_lm, monkeypatch):
    import probing.models

    lm = make_lm("llama")
    monkeypatch.setattr(probing.models, "load_model", lambda *args, **kwargs: lm)
    monkeypatch.setattr("probing.models.config_shape.config_shape", lambda name: None)
    return lm


def _api_reads(lm, pairs, sender, receiver, positions, good):
    """Per pair: the target run's and the patched run's read-outs (good minus bad)."""
    table = path_patch(lm, pairs[["pair_id", "source", "target"]], sender=sender,
                       receiver=receiver, positions=positions, readout="logit_diff")
    bad = "target" if good == "source" else "source"
    wide = table.pivot_table(index=["pair_id", "run"], columns="member", values="logprob")
    return (wide[good] - wide[bad]).unstack("run")


def test_cli_tables_equal_the_python_api(tiny, tmp_path, capsys):
    from probing.pipeline.causal_run import screen
    from probing.pipeline.commands.execute import load_paradigm_value
    from probing.pipeline.commands.path_patch import PathPatchOptions, prepare_path_patch

    out = tmp_path / "run"
    # from the preposition's last token the change reaches the answer position only through
    # what that position reads there: keys and values (a query there moves nothing read)
    argv = [*ARGV, "--sender", "head_out:1:0", "--receiver", "v:2:1,mlp_out:1",
            "--region", "prep", "--direction", "both", "--out", str(out)]
    assert main(argv) == 0
    assert "restored fraction per cell" in capsys.readouterr().out
    got = pd.read_csv(out / "path_patching_pairs.csv")
    assert set(got["receiver"]) == {"v:2:1", "mlp_out:1"} and set(got["sender"]) == {
        "head_out:1:0"}
    # the same pairs and the preposition's last token in each member, from the shared screen
    options = PathPatchOptions(contrast="subject_number", readout="logit_diff", limit=3,
                               sender="head_out:1:0", receiver="q:2:1")
    with pytest.warns(UserWarning, match="fewer than 20 items"):
        prep = screen(prepare_path_patch(load_paradigm_value(PARADIGM), options), tiny)
    where = prep.where[prep.where["label"] == "2:prep"].set_index("pair_id")
    swapped = prep.pairs.rename(columns={"source": "target", "target": "source"})
    checked = 0
    for direction, pairs, member, good in (("denoising", prep.pairs, "target", "source"),
                                           ("noising", swapped, "source", "target")):
        positions = {pid: [int(p)] for pid, p in where[f"{member}_position"].items()}
        for receiver in (("v", 2, 1), ("mlp_out", 1)):
            reads = _api_reads(tiny, pairs, ("head_out", 1, 0), receiver, positions, good)
            label = ":".join(map(str, receiver))
            rows = got[(got["direction"] == direction) & (got["receiver"] == label)]
            rows = rows.set_index(rows["pair_id"].astype(str))
            np.testing.assert_allclose(rows.loc[reads.index, "patched"], reads["patched"],
                                       rtol=0, atol=1e-9)
            np.testing.assert_allclose(rows.loc[reads.index, "estimate"],
                                       reads["patched"] - reads["target"], rtol=0, atol=1e-9)
            checked += len(reads)
    assert checked == 4 * len(prep.pairs) and (got["estimate"].abs() > 1e-6).all()
    # the summary: one row per cell and metric, its mean the per-pair mean
    summary = pd.read_csv(out / "path_patching.csv")
    manifest = json.loads((out / "manifest.json").read_text())
    assert (summary["n_items"] == manifest["notes"]["n_items"]).all()
    mean = got.groupby(["direction", "receiver"])["estimate"].mean()
    diff = summary[summary["metric"] == "logprob_diff"].set_index(["direction", "receiver"])
    np.testing.assert_allclose(diff.loc[mean.index, "estimate"], mean, atol=1e-12)
    assert (diff["ci_low"] <= diff["estimate"] + 1e-12).all()
    corrected = pd.read_csv(out / "path_patching_corrected.csv")
    assert len(corrected) == 4 and (corrected["n_cells"] == 4).all()


@pytest.fixture
def tiny_folder(make_model, tmp_path, monkeypatch):
    """A tiny GPT-2 (2 layers, 2 heads) saved to a folder, whose weights must never load."""
    import probing.models

    model, tokenizer = make_model("gpt2")
    folder = tmp_path / "tiny-gpt2"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)

    def never(*args, **kwargs):
        raise AssertionError("the weights were loaded although a component was bad")

    monkeypatch.setattr(probing.models, "load_model", never)
    return str(folder)


@pytest.mark.parametrize("components,message", [
    (["--sender", "q:1:0", "--receiver", "q:2:0"],
     "--sender 'q:1:0': site 'q'; allowed head_out, attn_out, mlp_out"),
    (["--sender", "head_out:one", "--receiver", "q:2:0"],
     "--sender 'head_out:one': write SITE:LAYER[:HEAD]"),
    (["--sender", "mlp_out:1:0", "--receiver", "q:2:0"],
     "--sender 'mlp_out:1:0': site 'mlp_out' has no heads"),
    (["--sender", "head_out:1:0", "--receiver", "q:2:0,q:2:0"], "a component repeats"),
    (["--sender", "head_out:1:0", "--receiver", "q:2:0", "--positions", "tokens"],
     "--positions tokens: probing path-patch patches the sender at each region's tokens"),
    (["--sender", "head_out:2:0", "--receiver", "q:1:0"],
     "receiver q:1:0 does not come after sender head_out:2:0"),
    (["--sender", "head_out:1:0", "--receiver", "mlp_out:1,q:3:0"],
     "receiver q:3:0: site 'q' has layers 1..2"),
    (["--sender", "head_out:1:5", "--receiver", "q:2:0"],
     "sender head 5 out of range [0, 2) at site 'head_out'"),
], ids=["sender-site", "syntax", "no-heads", "repeat", "tokens", "order", "layer", "head"])
def test_bad_components_are_refused_before_the_weights_load(tiny_folder, tmp_path, capsys,
                                                            components, message):
    argv = [*ARGV, *components, "--model", tiny_folder, "--out", str(tmp_path / "run")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0, err
    assert not (tmp_path / "run").exists()


def test_sender_and_receiver_are_required(tmp_path, capsys):
    with pytest.raises(SystemExit) as code:
        main([*ARGV, "--sender", "head_out:1:0", "--out", str(tmp_path / "run")])
    assert code.value.code == 2 and "--receiver" in capsys.readouterr().err
