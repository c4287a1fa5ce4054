"""The benchmark's bare loop and the model compute the same thing (an independent check of the engine)."""

import sys
from pathlib import Path

import pytest
import torch

import dynacortex as dc

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from floor import floor_forward  # noqa: E402


@pytest.mark.parametrize("recurrence", ["full", "depthpointwise", "local", "none"])
def test_floor_matches_model(recurrence):
    model = dc.create_model("dyrcnnx4", recurrence=recurrence)
    x = torch.rand(2, 9, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(floor_forward(model, x), model(x), atol=1e-5)
