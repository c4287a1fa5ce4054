import pytest
import torch

from dynacortex.dynamics import denormals_flushed, flush_denormals


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


@pytest.fixture(scope="module")
def one_thread():
    """Tiny float64 matmuls: one thread avoids BLAS thread contention on shared CI cores."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
