"""The benchmark's bare loop and the model compute the same thing (an independent check of the engine)."""

import pytest
import torch

import dynacortex as dc
from dynacortex.benchmark import floor_forward


@pytest.mark.parametrize("recurrence", ["full", "depthpointwise", "local", "none"])
def test_floor_matches_model(recurrence):
    model = dc.create_model("dyrcnnx4", recurrence=recurrence)
    x = torch.rand(2, 9, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(floor_forward(model, x), model(x), atol=1e-5)
