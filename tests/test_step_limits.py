"""dt against tau: the stability limit is an error, the accuracy limit a warning, both named together."""

import math
import warnings

import pytest

import dynacortex as dc
from dynacortex.models import step_limits
from dynacortex.models.step_limits import AccuracyWarning, accuracy_limit, check_step, decay_factor


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch):
    monkeypatch.setattr(step_limits, "_warned", set())  # each test sees its warnings


def test_decay_factors_are_the_solvers_polynomials():
    """Independent of the solvers' code: one step on tau dy/dt = -y multiplies y by the Taylor polynomial."""
    for h in (0.3, 1.2, 1.6):
        assert decay_factor("euler", h) == pytest.approx(1 - h, abs=1e-15)
        assert decay_factor("heun", h) == pytest.approx(1 - h + h**2 / 2, abs=1e-15)
        assert decay_factor("rk4", h) == pytest.approx(1 - h + h**2 / 2 - h**3 / 6 + h**4 / 24, abs=1e-15)


def test_accuracy_limits():
    # Euler: 1 - h reaches 0 at h = 1; Heun: 1 - h + h^2/2 is lowest at h = 1; RK4: its quartic is lowest
    # where 1 - h + h^2/2 - h^3/6 = 0, h = 1.5961 (solved by hand with Newton's method)
    assert accuracy_limit("euler") == 1.0 and accuracy_limit("heun") == 1.0
    assert accuracy_limit("rk4") == pytest.approx(1.596, abs=1e-3)
    assert accuracy_limit("exp_euler") == math.inf


@pytest.mark.parametrize("solver, dt", [("euler", 6.0), ("rk4", 8.0), ("heun", 5.5)])
def test_stable_but_inaccurate_steps_warn_with_both_limits(solver, dt):
    with pytest.warns(AccuracyWarning, match=rf"dt/tau = {dt / 5:.3g} is stable but beyond the accuracy limit "
                                             r"[\d.]+ of solver .* \(stability limit [\d.]+\)"):
        dc.create_model("dyrcnnx4", channels=(4, 4, 4, 4), dt=dt, tau=5.0, solver=solver)


@pytest.mark.parametrize("solver, dt", [("euler", 2.0), ("euler", 5.0), ("rk4", 7.9), ("exp_euler", 50.0)])
def test_accurate_steps_do_not_warn(solver, dt):
    with warnings.catch_warnings():
        warnings.simplefilter("error", AccuracyWarning)
        dc.create_model("dyrcnnx4", channels=(4, 4, 4, 4), dt=dt, tau=5.0, solver=solver)


def test_unstable_steps_are_refused_naming_both_limits():
    with pytest.raises(ValueError, match=r"dt/tau = 2\.4 exceeds the stability limit 2 of solver 'euler' "
                                         r"\(accuracy limit 1\); use a smaller dt"):
        check_step(12.0, 5.0, "euler")
    check_step(12.0, 5.0, "euler", allow_unstable=True)  # the user's choice: no error, no warning


def test_the_warning_is_given_once_for_a_config_and_the_network_built_from_it():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        dc.create_model("dyrcnnx4", channels=(4, 4, 4, 4), dt=6.0, tau=5.0)
    assert len([w for w in seen if issubclass(w.category, AccuracyWarning)]) == 1
