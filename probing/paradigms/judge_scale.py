"""A judge scale: the Likert labels a model rates with and the prompts that ask it.

A model as judge (issue #26, item 5) reads a sentence in a prompt and rates it on a
scale whose labels are answer tokens (``1`` ... ``4``). The scale file (YAML) declares

``scale``
    A list of ``{label, value, description}`` from the lowest rating to the highest:
    ``label`` is what the model answers (one token of its tokenizer, checked with the
    tokenizer alone in :func:`probing.models.judge_prompts.check_judge_tokens`), ``value`` the
    rating it stands for (default: its 1-based position), ``description`` what it means.
``templates``
    Named paraphrases of the question, each holding the slots ``{sentence}`` (the rated
    sentence) and ``{scale}`` (the scale's lines, written in ascending or descending
    order so that position bias can be measured).

``paradigms/judge/acceptability_1to4.yaml`` is the shipped scale (Lau et al.'s 1-4
acceptability scale, three paraphrases). Torch-free: only the file is read here.
"""

from __future__ import annotations

import dataclasses
import string

from probing._core.errors import SpecError
from probing._core.values import SCALE_ORDERS
from probing.paradigms.yamlio import read_yaml

__all__ = ["SCALE_ORDERS", "JudgeScale", "load_judge_scale", "render_judge_question",
           "render_scale"]

_SLOTS = ("sentence", "scale")


@dataclasses.dataclass(frozen=True)
class JudgeScale:
    """A validated judge scale (module docstring).

    Examples
    --------
    >>> scale = JudgeScale(labels=("1", "2"), values=(1.0, 2.0), descriptions=("bad", "good"),
    ...                    templates={"q": "Rate: {sentence}\\n{scale}"})
    >>> scale.label_values()
    {'1': 1.0, '2': 2.0}
    """

    labels: tuple
    values: tuple
    descriptions: tuple
    templates: dict
    file: str = "<scale>"

    def __post_init__(self):
        _check_labels(self.labels, self.values, self.file)
        object.__setattr__(self, "values", tuple(float(v) for v in self.values))
        _check_templates(self.templates, self.file)

    def label_values(self):
        """Label -> rating value."""
        return dict(zip(self.labels, self.values, strict=True))

    def record(self):
        """The scale and its prompt texts as a manifest records them."""
        return {"file": self.file, "labels": list(self.labels), "values": list(self.values),
                "descriptions": list(self.descriptions), "templates": dict(self.templates)}


def _check_labels(labels, values, file):
    if not labels:
        raise SpecError("the scale is empty; give at least two labels", file=file, field="scale")
    if len(labels) < 2:
        raise SpecError(f"the scale has one label ({labels[0]!r}); give at least two",
                        file=file, field="scale")
    for i, label in enumerate(labels):
        if not isinstance(label, str) or not label.strip() or label != label.strip():
            raise SpecError(f"label {label!r} must be a non-empty string without outer spaces",
                            file=file, field=f"scale.{i}.label")
    if len(set(labels)) != len(labels):
        raise SpecError(f"labels repeat: {list(labels)}", file=file, field="scale")
    if len(values) != len(labels) or any(
            isinstance(v, bool) or not isinstance(v, int | float) for v in values):
        raise SpecError(f"values {list(values)} must be one number per label",
                        file=file, field="scale")


def _check_templates(templates, file):
    if not isinstance(templates, dict) or not templates:
        raise SpecError("give at least one named prompt template", file=file, field="templates")
    for name, text in templates.items():
        where = f"templates.{name}"
        if not isinstance(text, str) or not text.strip():
            raise SpecError("must be a non-empty string", file=file, field=where)
        try:
            found = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
        except ValueError as err:
            raise SpecError(f"not a valid template ({err}); write literal braces as {{{{ }}}}",
                            file=file, field=where) from None
        for slot in _SLOTS:
            if slot not in found:
                raise SpecError(f"the template has no {{{slot}}} slot; it needs "
                                f"{{sentence}} and {{scale}}", file=file, field=where)
        extra = sorted(found - set(_SLOTS))
        if extra:
            raise SpecError(f"unknown slot(s) {extra}; allowed: {{sentence}}, {{scale}}",
                            file=file, field=where)


def load_judge_scale(path):
    """Read and validate a judge scale file.

    Parameters
    ----------
    path : str or path-like
        A YAML file with ``scale`` and ``templates`` (module docstring).

    Returns
    -------
    JudgeScale

    Raises
    ------
    SpecError
        One line naming the file, the field (``scale.2.label``, ``templates.plain``) and
        what is allowed.

    Examples
    --------
    >>> load_judge_scale("paradigms/judge/acceptability_1to4.yaml").labels  # doctest: +SKIP
    ('1', '2', '3', '4')
    """
    data, lines = read_yaml(path)
    file = str(path)
    rows = data.get("scale")
    if rows is None or rows == []:
        raise SpecError("the scale is empty; give a list of {label, value, description}",
                        file=file, field="scale", line=lines.line("scale"))
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise SpecError("must be a list of {label, value, description}", file=file,
                        field="scale", line=lines.line("scale"))
    labels = tuple(str(r["label"]) if isinstance(r.get("label"), int) else r.get("label")
                   for r in rows)
    values = tuple(r.get("value", i + 1) for i, r in enumerate(rows))
    descriptions = tuple(str(r.get("description", "")) for r in rows)
    templates = data.get("templates")
    return JudgeScale(labels=labels, values=values, descriptions=descriptions,
                      templates=dict(templates) if isinstance(templates, dict) else templates,
                      file=file)


def render_scale(scale, order):
    """The scale's lines (``label = description``) in ``order``."""
    if order not in SCALE_ORDERS:
        raise SpecError(f"scale order {order!r}: allowed {', '.join(SCALE_ORDERS)}")
    rows = list(zip(scale.labels, scale.descriptions, strict=True))
    if order == "descending":
        rows = rows[::-1]
    return "\n".join(f"{label} = {text}" if text else label for label, text in rows)


def render_judge_question(scale, template, sentence, order):
    """The question of template ``template`` about ``sentence``, the scale in ``order``.

    Examples
    --------
    >>> scale = JudgeScale(labels=("1", "2"), values=(1.0, 2.0), descriptions=("bad", "good"),
    ...                    templates={"q": "Rate: {sentence}\\n{scale}"})
    >>> render_judge_question(scale, "q", "Dogs bark.", "descending")
    'Rate: Dogs bark.\\n2 = good\\n1 = bad'
    """
    return scale.templates[template].format(sentence=sentence, scale=render_scale(scale, order))
