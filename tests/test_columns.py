"""Laminar columns: transfer function, connectivity and rates against ODE-Column, solvers, SDE noise, errors.

Reference numbers: computed from ccnmaastricht/ODE-Column at commit b296580 (config/model.toml and the
equations of src/coupled_columns.py / src/utils.py, incl. the tanh soft clamp of the exponent) in a
scratch numpy script (scipy LSODA, rtol = atol = 1e-10), not part of this repository.
"""

import math

import pytest
import torch
from pydantic import ValidationError

from dynacortex.columns import (ColumnNetwork, StepStimulus, column_weights, in_degrees, load_column_parameters,
                                simulate, steady_state, transfer, transfer_derivative)
from dynacortex.columns.integrate import sample_trajectory

F64 = dict(dtype=torch.float64)


pytestmark = pytest.mark.usefixtures("one_thread")


# ------------------------------------------------------------------ transfer function
@pytest.mark.parametrize("clamp", [80.0, None])
def test_transfer_exact_at_removable_singularity(clamp):
    x = torch.tensor([981.0 / 48.0], **F64)  # a x = b exactly
    assert transfer(x, clamp=clamp).item() == pytest.approx(1 / 0.0089, rel=1e-15)
    assert transfer_derivative(x, clamp=clamp).item() == pytest.approx(24.0, rel=1e-12)  # a / 2
    xs = 981.0 / 48.0 + torch.tensor([-1e-6, -1e-9, 0.0, 1e-9, 1e-6], **F64)
    for dtype in (torch.float64, torch.float32):
        y, g = transfer(xs.to(dtype), clamp=clamp), transfer_derivative(xs.to(dtype), clamp=clamp)
        assert torch.isfinite(y).all() and torch.isfinite(g).all()
        assert torch.allclose(g.double(), torch.full_like(xs, 24.0), rtol=1e-4)


@pytest.mark.parametrize("clamp", [80.0, None])
def test_transfer_matches_formula_away_from_singularity(clamp):
    x = torch.linspace(-5.0, 60.0, 301, **F64)
    u = 48.0 * x - 981.0
    z = -0.0089 * u
    if clamp is not None:
        z = clamp * torch.tanh(z / clamp)
    ref = u / (1 - torch.exp(z))
    assert torch.allclose(transfer(x, clamp=clamp), ref, rtol=1e-9, atol=0)
    h = 1e-5
    central = (transfer(x + h, clamp=clamp) - transfer(x - h, clamp=clamp)) / (2 * h)
    assert torch.allclose(transfer_derivative(x, clamp=clamp), central, rtol=1e-6, atol=1e-9)


def test_transfer_limits():
    x = torch.tensor([-1e4, 1e4], **F64)
    assert transfer(x, clamp=None).tolist() == pytest.approx([0.0, 48.0 * 1e4 - 981.0], rel=1e-14, abs=1e-300)


# ------------------------------------------------------------------ connectivity vs reference
def test_in_degrees_and_weights_match_reference():
    p = load_column_parameters()
    cw = column_weights(p, "mt")
    k_ref = [6446.115475, 3162.663072, 2597.835526, 601.647337, 465.442854, 0.0, 120.820902, 0.0]
    w_ref = [565.968939, -984.450672, 228.089959, -211.313531, 40.865883, 0.0, 10.608075, 0.0]
    assert torch.allclose(cw.in_degrees[0], torch.tensor(k_ref, **F64), rtol=1e-6)  # reference: log(1 - x), ours log1p
    assert torch.allclose(cw.recurrent[0], torch.tensor(w_ref, **F64), rtol=1e-6)
    assert cw.recurrent[7, 7].item() == pytest.approx(-216.687381, rel=1e-6)
    assert cw.background.tolist() == pytest.approx([140.48, 131.7, 184.38, 166.82, 175.6, 166.82, 254.62, 184.38])
    assert cw.feedforward[2:4].tolist() == pytest.approx([25.901, 16.3308])
    small = column_weights(p, "mt", n_columns=2, small=True)  # sizes halved, K_bg = 2510
    assert small.recurrent[0, :2].tolist() == pytest.approx([282.9845, -492.2253], rel=1e-6)
    assert small.background.tolist() == pytest.approx([2510 * 0.0878] * 8)


def test_in_degree_formula_small_p_limit():
    """K -> P N_source when 1/(N_i N_j) and P are small (the Potjans-Diesmann formula's limit)."""
    k = in_degrees(torch.tensor([[1e-6]], **F64), torch.tensor([1e4], **F64))
    assert k.item() == pytest.approx(1e-6 * 1e4, rel=1e-5)


def test_network_blocks_and_inhibitory_scaling():
    net = ColumnNetwork((2, 1))
    w = net.w_int
    assert torch.equal(w[:8, :8], w[8:16, 8:16]) and not w[:8, 8:].any() and not w[16:, :16].any()
    sizes = torch.tensor(load_column_parameters().sizes("mt"), **F64)
    ratio = w[:8, 1] / column_weights(net.params, "mt").in_degrees[:8, 1]
    assert torch.allclose(ratio, -0.0878 * sizes[0] / sizes[1] * torch.ones(8, **F64))


# ------------------------------------------------------------------ dynamics vs reference
def test_one_second_from_rest_matches_reference():
    net = ColumnNetwork()
    v, a = simulate(net, net.initial_state(), torch.tensor([0.0, 1.0], **F64), method="dopri5", rtol=1e-8, atol=1e-8)
    ref = [0.450391, 1.266419, 4.195474, 4.906397, 0.426878, 2.889455, 0.015809, 6.098469]  # t = 1 s
    # the reference is rounded to 1e-6 Hz; measured agreement 5.9e-7 Hz (dopri5 at rtol 1e-8)
    assert torch.allclose(net.rates(v[-1], a[-1])[0], torch.tensor(ref, **F64), rtol=0, atol=2e-6)


def test_steady_state_small_mode_matches_reference_and_is_stable():
    ss = steady_state(ColumnNetwork(small=True))
    ref = [0.143711, 1.685283, 4.453985, 5.701984, 0.006185, 3.405161, 0.0, 6.997254]  # 100 s, small mode
    # the reference is rounded to 1e-6 Hz (L6i: 0.0 for 3.8e-7); measured agreement 1.3e-6 Hz (L4e), at most
    # 2.9e-5 relative (L5e: 0.006 Hz, where the rounding alone is 8e-5). A 1 % error would be 1e-3 to 7e-2 Hz.
    assert torch.allclose(ss.rates_hz, torch.tensor(ref, **F64), rtol=0, atol=3e-6)
    assert ss.eigenvalues.real.max() < 0  # stable; slowest mode = adaptation, -1/tau_a
    assert ss.eigenvalues.real.max().item() == pytest.approx(-0.1, rel=0.05)


# A step input onto two columns (onset at 20 ms) and the transient that follows, sampled at TIMES. Max |rate error|
# (Hz; rates up to 26 Hz) against dopri5 at rtol 1e-11 (rtol 1e-9: 1e-7 Hz off), measured at dt and dt/2:
# euler 0.485 / 0.238, heun 4.23e-2 / 1.05e-2, rk4 3.03e-3 / 1.68e-4, exp_euler 0.475 / 0.233. The tolerance is
# 1.5x the error at dt, and halving dt must cut the error by 2^order (measured orders 1.03, 2.01, 4.18, 1.02).
# Before the sample intervals were integrated on [t0, t1) (columns.integrate._Interval), RK4 and Heun were
# first order here: the step that ended at the onset saw the stimulus in its last stage (rk4: 1.9e-3 Hz off at
# 60 ms, 0.46 Hz in the transient).
TIMES = [0.0, 0.02, 0.022, 0.024, 0.026, 0.03, 0.04, 0.06]
DOPRI5_AGREEMENT_HZ = {"euler": 0.73, "heun": 6.3e-2, "rk4": 4.5e-3, "exp_euler": 0.71}


@pytest.mark.parametrize("method,dt,order", [("euler", 1e-4, 1), ("heun", 2e-4, 2), ("rk4", 5e-4, 4),
                                             ("exp_euler", 1e-4, 1)])
def test_engine_solvers_agree_with_dopri5(method, dt, order):
    def rates(**kw):
        net = ColumnNetwork((2,), n_inputs=2, small=True)
        for c in range(2):
            net.connect_input(net.index(0, c, "L4e"), c, 25.9)
        net.set_stimulus(StepStimulus(torch.tensor([[20.0, 5.0]], **F64), onset_s=0.02))
        with torch.no_grad():
            return net.rates(*simulate(net, net.initial_state(), torch.tensor(TIMES, **F64), **kw))

    ref = rates(method="dopri5", rtol=1e-11, atol=1e-11)
    errs = [float((rates(method=method, dt=h) - ref).abs().max()) for h in (dt, dt / 2)]
    assert errs[0] < DOPRI5_AGREEMENT_HZ[method], errs
    assert math.log2(errs[0] / errs[1]) > order - 0.2, errs
    assert ref[-1, 0, 0] > ref[-1, 0, 8]  # the stronger input drives its column harder


def test_sample_trajectory_generic_system():
    """Exact exponential decay y' = -y sampled at several times (RK4 error O(dt^4))."""
    times = torch.linspace(0, 1, 5, **F64)
    y = sample_trajectory(lambda t, y: -y, torch.ones(1, **F64), times, "rk4", 0.01)
    assert torch.allclose(y[:, 0], torch.exp(-times), rtol=1e-8)


@pytest.mark.parametrize("noise", ["scalar", "diagonal"])
def test_sdeint_noise_scale(noise):
    """With the synapses switched off (J -> 1e-12) V is an Ornstein-Uhlenbeck process,
    dV = -V/tau_m dt + sigma dW: Var V(t) = sigma^2 tau_m / 2 (1 - exp(-2 t / tau_m)); A gets no noise."""
    torch.manual_seed(1)
    net = ColumnNetwork(params=load_column_parameters(overrides={"synaptic_strength": 1e-12}))
    sigma, t_end, n = 10.0, 0.02, 4000
    with torch.no_grad():
        v, a = simulate(net, net.initial_state(n), torch.tensor([0.0, t_end], **F64), method="euler",
                        noise_std=sigma, noise=noise, dt=2e-4)
    expected = sigma**2 * 0.02 / 2 * (1 - math.exp(-2 * t_end / 0.02))
    var = v[-1].var(dim=0)
    assert torch.allclose(var, torch.full_like(var, expected), rtol=0.08)  # SE of one variance: 2.2%
    corr = torch.corrcoef(v[-1, :, :2].T)[0, 1].item()
    assert corr == pytest.approx(1.0 if noise == "scalar" else 0.0, abs=0.1)
    assert a[-1, :, 1:].std(dim=0).max() == 0 and a[-1, :, 0].std() < 1e-3  # only via kappa r (L2/3e)


def test_srk_runs_and_is_close_to_ode_without_noise_scale():
    net = ColumnNetwork()
    times = torch.tensor([0.0, 2e-3], **F64)
    with torch.no_grad():
        v, _ = simulate(net, net.initial_state(2), times, method="srk", noise_std=1e-6, dt=1e-4)
        v_det, _ = simulate(net, net.initial_state(1), times, method="rk4", dt=1e-4)
    assert torch.allclose(v[-1], v_det[-1].expand(2, -1), atol=1e-5)


def test_gradients_reach_only_open_synapses():
    net = ColumnNetwork((2,), n_inputs=1, small=True)
    src, tgt = net.index(0, 1, "L23e"), net.index(0, 0, "L23i")
    net.connect(tgt, src, 1.0)
    net.connect_input(net.index(0, 0, "L4e"), 0, 25.9)
    net.set_stimulus(StepStimulus(torch.tensor([[10.0]], **F64)))
    v, a = simulate(net, net.initial_state(), torch.tensor([0.0, 0.01], **F64), method="euler", dt=5e-4)
    net.rates(v[-1], a[-1]).sum().backward()
    grad = net.weight.grad
    assert grad[tgt, src] != 0 and (grad != 0).sum() == 1
    assert net.input_weight.grad[net.index(0, 0, "L4e"), 0] != 0 and (net.input_weight.grad != 0).sum() == 1


# ------------------------------------------------------------------ errors
def test_parameter_errors_name_the_field(tmp_path):
    p = load_column_parameters()
    bad = p.model_dump()
    bad["population_sizes"]["mt"] = [1.0] * 8
    with pytest.raises(ValidationError, match="population_sizes.mt"):
        type(p).model_validate(bad)
    bad = p.model_dump()
    bad["network"]["lateral"] = [["L7e", "L23i", -0.1]]
    with pytest.raises(ValidationError, match="network.lateral: unknown population 'L7e'"):
        type(p).model_validate(bad)
    with pytest.raises(ValidationError, match="adaptation_strength"):
        load_column_parameters(overrides={"adaptation_strength": [1.5]})
    with pytest.raises(ValueError, match="area: unknown area 'v9'"):
        ColumnNetwork(area="v9")


def test_simulation_errors():
    net = ColumnNetwork()
    y0, times = net.initial_state(), torch.tensor([0.0, 1e-3], **F64)
    with pytest.raises(ValueError, match="method: unknown method 'rk5'"):
        simulate(net, y0, times, method="rk5")
    with pytest.raises(ValueError, match="dt: the fixed-step solver 'rk4' needs dt"):
        simulate(net, y0, times, method="rk4")
    with pytest.raises(ValueError, match="multiple of dt"):
        simulate(net, y0, times, method="rk4", dt=3e-4)
    with pytest.raises(ValueError, match="noise_std > 0 use an SDE method"):
        simulate(net, y0, times, method="dopri5", noise_std=1.0)
    with pytest.raises(ValueError, match="noise: unknown noise type"):
        simulate(net, y0, times, method="srk", noise_std=1.0, noise="additive")
    with pytest.raises(ValueError, match="times_s"):
        simulate(net, y0, torch.tensor([1.0, 0.0], **F64))
    with pytest.raises(ValueError, match="population: unknown population 'L3e'"):
        net.index(0, 0, "L3e")
    with pytest.raises(ValueError, match="offset_s"):
        StepStimulus(torch.zeros(1, 1), onset_s=0.5, offset_s=0.1)
    with pytest.raises(ValueError, match="columns_per_area"):
        ColumnNetwork(())
