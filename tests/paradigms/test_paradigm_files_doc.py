"""Every paradigm file shown in the README (one of each kind) is complete and valid."""

import re
from pathlib import Path

import pytest

from probing.paradigms import generate, validate_paradigm
from probing.stimuli import KINDS

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "README.md"


def _blocks():
    blocks = re.findall(r"```yaml\n(# file: .*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    return {re.match(r"# file: (\S+)\n", b).group(1): b for b in blocks}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A paradigms/ folder beside the project's data/, holding every file of the page."""
    root = tmp_path_factory.mktemp("doc")
    (root / "data").symlink_to(ROOT / "data", target_is_directory=True)
    (root / "paradigms").mkdir()
    for name, text in _blocks().items():
        (root / "paradigms" / name).write_text(text, encoding="utf-8")
    return root / "paradigms"


def test_the_page_shows_one_file_of_every_kind():
    kinds = [re.search(r"^kind: (\w+)", b, flags=re.M).group(1) for b in _blocks().values()]
    assert sorted(kinds) == sorted(KINDS)


@pytest.mark.parametrize("name", sorted(_blocks()))
def test_each_file_validates_and_generates(folder, name):
    spec, stimuli = validate_paradigm(folder / name)
    assert spec.name == Path(name).stem and len(stimuli.table) > 0
    again = generate(spec)
    assert again.table.equals(stimuli.table)  # the same seed, the same stimuli


def test_every_field_is_commented_somewhere_on_the_page():
    # a reader learns each field from the page: every top-level field used in a block
    # carries a comment on its line in at least one block
    commented, used = set(), set()
    for text in _blocks().values():
        for line in text.splitlines():
            match = re.match(r"^(\w+):", line)
            if match:
                used.add(match.group(1))
                if "#" in line:
                    commented.add(match.group(1))
    assert used - commented <= {"description", "reference"}
