"""The model's own binning against Brain-Score's ``assembly_time_align``: recorded per integration step and
aligned by Brain-Score's code ("portion" mode, its default), or recorded directly in the target bins, the
responses must be equal, for bins on and off the step grid; and a benchmark's ``time_bin`` values (an
object array of tuples) are accepted as time bins."""

import numpy as np
import pytest
from brainscore_vision.model_helpers.brain_transformation.temporal import assembly_time_align

from dynacortex.brainscore import as_brain_model
from dynacortex.brainscore import offline as off


@pytest.fixture(scope="module")
def brain():
    return as_brain_model(off.generating_model(0, noise=0.0), image_size=8, batch_size=512)  # deterministic


@pytest.mark.parametrize("target", [[(t, t + 10) for t in range(0, 200, 10)],   # on the 2 ms step grid
                                    [(t, t + 5) for t in range(1, 196, 5)],     # 5 ms bins off the grid
                                    [(33, 97), (70, 170), (101, 250)]])         # long, overlapping, uneven
def test_binning_equals_assembly_time_align(brain, digits, target):
    dt = brain.model.dt
    steps = [(k * dt, (k + 1) * dt) for k in range(int(round(250 / dt)))]
    brain.start_recording("IT", steps)
    fine = brain.look_at(digits.iloc[:12])
    brain.start_recording("IT", target)
    direct = brain.look_at(digits.iloc[:12]).transpose("presentation", "neuroid", "time_bin")
    aligned = assembly_time_align(fine, target).transpose("presentation", "neuroid", "time_bin")
    assert float(np.abs(direct.values).max()) > 0.01  # IT responds in these bins
    np.testing.assert_allclose(direct.values, aligned.values, rtol=1e-5, atol=1e-7)


def test_time_bins_as_benchmarks_pass_them(brain, digits):
    bins = [(t, t + 10) for t in range(70, 250, 10)]
    brain.start_recording("IT", bins)
    rec = brain.look_at(digits.iloc[:4])
    brain.start_recording("IT", rec["time_bin"].values)  # what NeuralBenchmark passes: tuples in an object array
    again = brain.look_at(digits.iloc[:4])
    assert rec["time_bin"].values.dtype == object
    np.testing.assert_array_equal(again.values, rec.values)
