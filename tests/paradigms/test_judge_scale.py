"""Judge scale files: the shipped one loads; bad ones fail with one located line."""

from pathlib import Path

import pytest

from probing._core.errors import ProbingError
from probing.paradigms.judge_scale import load_judge_scale, render_judge_question

SHIPPED = Path(__file__).resolve().parents[2] / "paradigms" / "judge" / "acceptability_1to4.yaml"
GOOD_TEMPLATES = "templates:\n  q: \"Rate {sentence}\\n{scale}\"\n"


def test_the_shipped_scale_has_four_labels_and_three_paraphrases():
    scale = load_judge_scale(SHIPPED)
    assert scale.labels == ("1", "2", "3", "4") and scale.values == (1.0, 2.0, 3.0, 4.0)
    assert len(scale.templates) >= 3
    for name in scale.templates:
        text = render_judge_question(scale, name, "Dogs bark.", "descending")
        assert "Dogs bark." in text and text.index("4 = ") < text.index("1 = ")


@pytest.mark.parametrize("body, message", [
    ("scale: []\n" + GOOD_TEMPLATES, r":1: scale: the scale is empty"),
    (GOOD_TEMPLATES, r"scale: the scale is empty"),
    ("scale:\n  - {label: '1'}\n" + GOOD_TEMPLATES, r"scale: the scale has one label \('1'\)"),
    ("scale:\n  - {label: a}\n  - {label: a}\n" + GOOD_TEMPLATES, r"scale: labels repeat"),
    ("scale:\n  - {label: a}\n  - {label: ' b'}\n" + GOOD_TEMPLATES,
     r"scale.1.label: label ' b' must be a non-empty string"),
    ("scale:\n  - {label: a, value: x}\n  - {label: b}\n" + GOOD_TEMPLATES,
     r"scale: values \['x', 2\] must be one number per label"),
    ("scale:\n  - {label: a}\n  - {label: b}\ntemplates:\n  q: 'Rate it.\\n{scale}'\n",
     r"templates.q: the template has no \{sentence\} slot; it needs \{sentence\} and \{scale\}"),
    ("scale:\n  - {label: a}\n  - {label: b}\ntemplates:\n  q: 'Rate {sentence}'\n",
     r"templates.q: the template has no \{scale\} slot"),
    ("scale:\n  - {label: a}\n  - {label: b}\ntemplates:\n  q: '{sentence} {scale} {x}'\n",
     r"templates.q: unknown slot\(s\) \['x'\]"),
    ("scale:\n  - {label: a}\n  - {label: b}\n", r"templates: give at least one named prompt"),
])
def test_bad_scale_files_are_one_line_errors(tmp_path, body, message):
    path = tmp_path / "scale.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ProbingError, match=r"^" + str(path).replace(".", r"\.") + r".*" + message):
        load_judge_scale(path)
