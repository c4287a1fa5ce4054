"""Property-based tests (hypothesis) of solver and delay invariants and of config parsing.

Reproducible by default: the "ci" profile (tests/conftest.py) derandomizes hypothesis, so every run draws the
same 25 examples per test. For an exploratory run with fresh random examples (1000 per test, failures kept in
.hypothesis/ and replayed first next time): ``HYPOTHESIS_PROFILE=explore pytest tests/test_properties.py``.
"""

import os
import re

import pytest
import torch
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

import dynacortex as dc
from dynacortex.config import load_config
from dynacortex.layers import Area
from dynacortex.models import AreaNetwork
from dynacortex.training import TrainConfig

from .test_network_dynamics import impulse_response, two_areas

SOLVERS = st.sampled_from(["euler", "heun", "rk4", "exp_euler"])


@given(solver=SOLVERS, dt=st.sampled_from([0.5, 1.0, 2.0]), t_ff=st.floats(0, 10), t_rc=st.floats(0, 10),
       t_fb=st.floats(0, 20), recurrence=st.sampled_from(["full", "self", "depthpointwise", "local"]))
def test_zero_input_and_zero_state_stay_zero(solver, dt, t_ff, t_rc, t_fb, recurrence):
    """Without biases, rest is a fixed point: zero in, zero out, for any solver and delays."""
    model = dc.create_model("dyrcnnx4", channels=(4, 5, 6, 7), solver=solver, dt=dt, t_feedforward=t_ff,
                            t_recurrence=t_rc, feedback=True, t_feedback=t_fb, recurrence=recurrence)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.zero_()
        _, carry = model.run(torch.zeros(1, 3, 16, 16), n_steps=12)
    assert all(torch.equal(s, torch.zeros_like(s)) for s in carry.state)


@given(dt=st.sampled_from([0.25, 0.5, 1.0, 2.0]), k=st.integers(1, 12))
def test_a_delay_shifts_the_signal_by_exactly_the_delay(dt, k):
    n = 30
    _, b0 = impulse_response(two_areas(0.0, dt), n)
    _, b = impulse_response(two_areas(k * dt, dt), n)
    assert torch.allclose(b[k:], b0[:-k], atol=1e-7) and torch.all(b[:k] == 0)


@given(solver=SOLVERS, tau=st.floats(1.0, 20.0), u=st.floats(-3, 3))
def test_a_linear_area_relaxes_to_its_drive(solver, tau, u):
    """tau dr/dt = -r + u: every solver converges to r = u (identity activation, no recurrence)."""
    conv = nn.Conv2d(1, 1, 1, bias=False)
    nn.init.constant_(conv.weight, u)
    net = AreaNetwork([Area("A", 1, tau=tau, activation="identity", recurrence="none")], conv, [], None,
                      in_channels=1, dt=tau / 4, solver=solver)
    with torch.no_grad():
        _, carry = net.run(torch.ones(1, 1, 1, 1), n_steps=200)
    assert abs(float(carry.state[0].flatten()[0]) - u) < 1e-4 * max(1.0, abs(u))


# -- config parsing -----------------------------------------------------------------------------------
IDENT = st.from_regex(r"[a-z][a-z_]{2,12}", fullmatch=True)


@given(lr=st.floats(1e-6, 1.0), batch=st.integers(1, 512), epochs=st.integers(1, 50),
       dt=st.sampled_from([0.5, 1.0, 2.0]), recurrence=st.sampled_from(["full", "self", "depthpointwise", "none"]))
def test_overrides_round_trip_through_the_resolved_config(lr, batch, epochs, dt, recurrence):
    """--set values land in their fields, and the resolved config reloads to the same config and run folder."""
    sets = [f"optim.lr={lr!r}", f"data.batch_size={batch}", f"trainer.max_epochs={epochs}", f"model.dt={dt}",
            f"model.recurrence={recurrence}"]
    cfg = load_config(TrainConfig, None, sets)
    assert (cfg.optim.lr, cfg.data.batch_size, cfg.trainer.max_epochs) == (lr, batch, epochs)
    assert cfg.model.kwargs["dt"] == dt and cfg.model.kwargs["recurrence"] == recurrence
    again = TrainConfig.model_validate(yaml.safe_load(yaml.safe_dump(cfg.resolved())))
    assert again.model_dump() == TrainConfig.model_validate(cfg.resolved()).model_dump()
    assert again.run_dir == cfg.run_dir


@given(section=st.sampled_from(["data", "optim", "trainer"]), key=IDENT)
def test_any_unknown_key_is_refused_by_name(section, key):
    assume(key not in TrainConfig.model_fields[section].annotation.model_fields)
    with pytest.raises(ValueError, match=rf"{section}\.{key}[\s\S]*allowed in {section}:"):
        load_config(TrainConfig, None, [f"{section}.{key}=1"])


@given(field=st.sampled_from(["data.batch_size", "data.image_size", "trainer.max_epochs", "optim.lr"]),
       word=st.from_regex(r"[a-z]{3,10}", fullmatch=True))
def test_a_word_where_a_number_belongs_names_the_field(field, word):
    assume(word not in ("inf", "nan", "true", "false", "yes", "off", "null"))
    with pytest.raises(ValueError, match=re.escape(field)):
        load_config(TrainConfig, None, [f"{field}={word}"])


@pytest.mark.skipif(os.environ.get("HYPOTHESIS_PROFILE", "ci") != "ci", reason="the exploratory profile is random")
def test_the_default_profile_draws_the_same_examples_every_run():
    """The "ci" profile is loaded unless HYPOTHESIS_PROFILE says otherwise, and it is derandomized."""
    assert settings.default.derandomize and settings.default.database is None
    drawn: list[list[float]] = [[], []]
    for run in drawn:
        @given(x=st.floats(0, 10))
        def probe(x):
            run.append(x)

        probe()
    assert len(drawn[0]) == settings.default.max_examples and drawn[0] == drawn[1]
