"""Tests in the Brain-Score environment (make test-brainscore): nothing is downloaded, plugins install nothing."""

import os
import warnings

import pytest

pytest.importorskip("brainscore_vision")
os.environ["BS_INSTALL_DEPENDENCIES"] = "no"
warnings.filterwarnings("ignore", category=FutureWarning)


@pytest.fixture(scope="session")
def digits(tmp_path_factory):
    from dynacortex.brainscore.offline import digit_stimuli

    return digit_stimuli(tmp_path_factory.mktemp("digits"), n=150, classes=(0, 1, 2))
