import os

import pytest
import torch
from hypothesis import settings

from dynacortex.dynamics import denormals_flushed, flush_denormals

from .helpers import single_thread

# Hypothesis (tests/test_properties.py). "ci", the default: derandomized (examples drawn from a seed fixed by
# each test's source), no example database, so every run tests the same examples and a failure reproduces.
# "explore" (opt in: HYPOTHESIS_PROFILE=explore pytest tests/test_properties.py): fresh random examples on
# every run, 40x as many, and failures saved to .hypothesis/ and replayed first on the next run.
# Loaded here, before any test module is imported: a test's @settings inherits from the profile loaded then.
settings.register_profile("ci", derandomize=True, database=None, max_examples=25, deadline=None, print_blob=True)
settings.register_profile("explore", max_examples=1000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield


@pytest.fixture(autouse=True)
def _denormal_mode():
    """A test that runs the command line (which flushes denormals for its process) leaves the mode as it was."""
    before = denormals_flushed()
    yield
    if denormals_flushed() != before:
        flush_denormals(before)


@pytest.fixture
def one_thread():
    """One torch thread for the test, restored after it: tiny float64 matmuls, where one thread avoids BLAS
    thread contention on shared CI cores. Per test, so that no test's thread count depends on which tests ran
    before it (a module fixture set it when its first user ran and kept it for every later test)."""
    with single_thread():
        yield
