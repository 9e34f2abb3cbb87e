"""Stimuli.item_ids: item of each stimulus id, in the order asked."""

import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.stimuli import REGION_COLUMNS, Stimuli


@pytest.fixture
def stimuli():
    table = pd.DataFrame({"stimulus_id": ["s1", "s2", "s3"], "item_id": [7, 7, 8],
                          "condition": ["a", "b", "a"], "text": ["x", "y", "z"]})
    return Stimuli("p", "rsa", table, pd.DataFrame(columns=REGION_COLUMNS))


def test_item_ids_follow_the_requested_order(stimuli):
    assert stimuli.item_ids(pd.Series(["s3", "s1", "s2", "s3"])).tolist() == [8, 7, 7, 8]


def test_unknown_stimulus_id_is_named(stimuli):
    with pytest.raises(ProbingError, match=r"no stimulus_id \['s9'\] in p"):
        stimuli.item_ids(["s1", "s9"])
