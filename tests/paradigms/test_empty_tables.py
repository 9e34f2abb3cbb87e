"""An empty data file says so, for every kind read from a CSV/TSV table (one shared check)."""

import pytest

from probing._core.errors import ProbingError
from probing.paradigms.importers.human import read_human_source
from probing.paradigms.importers.table import read_table_source

CASES = [
    (read_human_source, "ratings", {"text": "sentence", "rating": "mean"}),
    (read_human_source, "reading_times",
     {"word": "w", "word_position": "z", "item_id": "i", "time": "ms"}),
    (read_table_source, "minimal_pairs", {"good": "ok", "bad": "not_ok"}),
    (read_table_source, "factorial", {"text": "sentence", "condition": "cond"}),
]


@pytest.mark.parametrize("content", ["", "\n\n", " \n"], ids=["no-bytes", "blank-lines", "space"])
@pytest.mark.parametrize("reader, kind, columns", CASES, ids=[c[1] for c in CASES])
def test_empty_file_says_it_is_empty(tmp_path, reader, kind, columns, content):
    path = tmp_path / "data.csv"
    path.write_text(content)
    with pytest.raises(ProbingError, match=r"data.csv: the file is empty: expected a header "
                       r"row naming the columns \[") as info:
        reader(path, kind=kind, columns=columns)
    assert "is not in the file" not in str(info.value)


def test_header_only_ratings_file_has_no_data_rows(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("sentence,mean\n")
    with pytest.raises(ProbingError, match="data.csv: no data rows"):
        read_human_source(path, kind="ratings", columns={"text": "sentence", "rating": "mean"})
