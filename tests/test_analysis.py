"""Dynamical-systems analysis: the vector field's Jacobian, fixed points, spectra, stability."""

import pytest
import torch

import dynacortex as dc
from dynacortex.analysis import (
    dense_jacobian, fixed_point, is_stable, jacobian_eigs, linear_response, slow_points, spectral_radius,
    vector_field,
)

from .helpers import chain


@pytest.fixture
def small():
    model = chain(3, 4, delay=2.0, t_recurrence=3.0)
    return model, torch.randn(2, 8, 8)


def test_jvp_matches_finite_differences_of_F(small):
    model, image = small
    vf = vector_field(model, image)
    g = torch.Generator().manual_seed(1)
    y, v = (torch.randn(vf.n, generator=g, dtype=torch.float64) for _ in range(2))
    fd = (vf(y + 1e-6 * v) - vf(y - 1e-6 * v)) / 2e-6
    assert torch.allclose(vf.jvp(y, v), fd, atol=1e-8)
    assert torch.allclose(dense_jacobian(vf, y) @ v, fd, atol=1e-8)
    assert vf.n == 4 * (64 + 16 + 4)  # three areas of 4 channels at 8x8, 4x4, 2x2


def test_fixed_point_is_the_steady_state_of_the_delayed_network(small):
    model, image = small
    fp = fixed_point(model, image, tol=1e-10)
    assert fp.converged and fp.residual < 1e-10 and fp.iterations >= 1
    with torch.no_grad():
        _, carry = model.double().run(image.double().unsqueeze(0), n_steps=800)  # delays and all
    assert torch.allclose(vector_field(model, image).flatten(carry.state), fp.state, atol=1e-9)


def test_newton_converges_from_far_away(small):
    model, image = small
    vf = vector_field(model, image)
    start = 3.0 * torch.randn(vf.n, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    fp = fixed_point(vf, start=start, tol=1e-9)
    assert fp.converged and fp.iterations >= 2
    assert torch.allclose(fp.state, fixed_point(vf, tol=1e-9).state, atol=1e-7)


def test_eigenpairs_satisfy_Jv_equals_lambda_v_and_arnoldi_agrees_with_dense(small):
    model, image = small
    vf = vector_field(model, image)
    fp = fixed_point(vf, tol=1e-10)
    dense_vals, _ = jacobian_eigs(vf, None, fp.state, k=8, method="dense")
    vals, vecs = jacobian_eigs(vf, None, fp.state, k=8, method="arnoldi")
    assert torch.allclose(vals, dense_vals, atol=1e-8)
    J = dense_jacobian(vf, fp.state).to(torch.complex128)
    assert (J @ vecs - vecs * vals).abs().max() < 1e-8
    assert is_stable(vals)  # a contracting tanh chain
    all_vals = torch.linalg.eigvals(J)
    assert spectral_radius(vf, fp.state, iters=400) == pytest.approx(float(all_vals.abs().max()), rel=1e-3)


def test_strong_positive_recurrence_is_unstable_at_rest():
    """A linear area with self-recurrence w: J = (w - 1) / tau; w > 1 is unstable."""
    area = dc.Area("A", 2, tau=4.0, activation="identity", recurrence="self")
    with torch.no_grad():
        area.recurrence.weight.copy_(torch.tensor([0.5, 1.5]).view(2, 1, 1))
    net = dc.AreaNetwork([area], torch.nn.Identity(), [], None, in_channels=2, allow_unstable=True)
    vf = vector_field(net, torch.zeros(2, 3, 3))
    vals, _ = jacobian_eigs(vf, None, vf.zeros(), k=16, which="LR")  # 9 units per channel
    assert vals.real[0].item() == pytest.approx((1.5 - 1) / 4.0)
    assert sorted(set(round(v, 9) for v in vals.real.tolist())) == [-0.125, 0.125]
    assert not is_stable(vals)


@pytest.mark.parametrize("call, match", [
    (lambda vf, y: jacobian_eigs(vf, None, y, which="XX"), "which"),
    (lambda vf, y: jacobian_eigs(vf, None, y, method="qr"), "method"),
    (lambda vf, y: jacobian_eigs(vf, None, y, k=0), "k: need"),
    (lambda vf, y: jacobian_eigs(vf, None, y, k=vf.n - 1, method="arnoldi"), "k: need 1 <= k <= 334 for arnoldi"),
    (lambda vf, y: vf(y[:-1]), "state: expected a flat vector"),
    (lambda vf, y: fixed_point(vf, tol=0), "tol"),
])
def test_bad_analysis_input(small, call, match):
    model, image = small
    vf = vector_field(model, image)
    with pytest.raises(ValueError, match=match):
        call(vf, vf.zeros())
    with pytest.raises(ValueError, match="image: expected one stimulus"):
        vector_field(model, torch.randn(2, 2, 8, 8))


def bistable():
    """tau dr/dt = -r + tanh(2 r): fixed points 0 (unstable) and +-0.9575 (stable)."""
    area = dc.Area("A", 1, tau=5.0, activation="tanh", recurrence="self")
    with torch.no_grad():
        area.recurrence.weight.fill_(2.0)
    net = dc.AreaNetwork([area], torch.nn.Identity(), [], None, in_channels=1, allow_unstable=True)
    return vector_field(net, torch.zeros(1, 1, 1))


def test_slow_points_find_every_fixed_point_of_a_bistable_unit():
    vf = bistable()
    pts = slow_points(vf, torch.linspace(-2, 2, 9, dtype=torch.float64).view(-1, 1))
    assert len(pts) == 3 and all(p.is_fixed for p in pts) and sum(p.count for p in pts) == 9
    values = sorted(float(p.state) for p in pts)
    assert values[1] == pytest.approx(0.0, abs=1e-8)
    assert values[2] == pytest.approx(-values[0]) and values[2] == pytest.approx(float(torch.tanh(torch.tensor(2 * values[2]))))
    slopes = {round(float(p.state), 3): jacobian_eigs(vf, None, p.state, k=1, method="dense")[0] for p in pts}
    # J = (-1 + 2 (1 - tanh^2(2r))) / tau: +1/5 at 0 (unstable), negative at the outer two (stable)
    assert float(slopes[0.0].real[0]) == pytest.approx(0.2) and not is_stable(slopes[0.0])
    assert is_stable(slopes[round(values[2], 3)])


def test_linear_response_matches_a_small_perturbation_of_the_network(small):
    model, image = small
    vf = vector_field(model, image)
    fp = fixed_point(vf, tol=1e-11)
    delta = 1e-4 * torch.randn(vf.n, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    times, deltas = linear_response(vf, fp.state, delta, duration_ms=30.0, dt=0.5, solver="euler")
    y = fp.state + delta
    for _ in range(60):
        y = y + 0.5 * vf(y)
    assert times[-1] == 30.0 and deltas.shape == (61, vf.n)
    assert (y - fp.state - deltas[-1]).norm() < 1e-3 * delta.norm()  # second order in |delta|
    lead = jacobian_eigs(vf, None, fp.state, k=1)[0][0].real.item()
    _, late = linear_response(vf, fp.state, delta, duration_ms=400.0, solver="euler")
    rate = (late[-1].norm() / late[-101].norm()).log().item() / 100.0  # per ms over the last 100 ms
    assert rate == pytest.approx(lead, rel=0.05)


def test_analysis_copies_leave_a_gain_limited_model_intact():
    model = dc.create_model("dyrcnnx4", recurrence="full", recurrence_gain=0.9, channels=[4, 4, 4, 4], in_channels=1)
    image = torch.rand(1, 8, 8)
    before = model(image.unsqueeze(0), n_steps=3)
    a, b = vector_field(model, image), vector_field(model, image)  # twice: the copies must not share classes
    y = torch.rand(a.n, dtype=torch.float64)
    assert torch.allclose(a(y), b(y))
    assert torch.allclose(model(image.unsqueeze(0), n_steps=3), before)
    assert any(torch.nn.utils.parametrize.is_parametrized(m) for m in model.modules())


def test_noise_on_the_state_decays_at_the_mean_eigenvalue_then_at_the_slowest():
    """A linear area with per-channel self-weights w: J = diag((w - 1) / tau) (tau 4 ms)."""
    from dynacortex.analysis import perturbation_decay

    w = torch.tensor([0.5, 0.0, -1.0, 0.9])
    area = dc.Area("A", 4, tau=4.0, activation="identity", recurrence="self")
    with torch.no_grad():
        area.recurrence.weight.copy_(w.view(4, 1, 1))
    net = dc.AreaNetwork([area], torch.nn.Identity(), [], None, in_channels=4, dt=0.5)
    vf = vector_field(net, torch.zeros(4, 24, 24))
    lam = (w - 1) / 4.0  # -0.125, -0.25, -0.5, -0.025 per ms
    d = perturbation_decay(vf, vf.zeros(), duration_ms=150.0, n_samples=6)
    assert d.mean_rate == pytest.approx(float(lam.mean()), rel=0.03)  # tr(J)/n
    assert d.late_rate == pytest.approx(float(lam.max()), rel=1e-3)  # the slowest mode is left
    exact = ((2 * lam[:, None] * d.times_ms[None]).exp().mean(0)).sqrt()  # E|delta(t)|^2 = mean_i e^{2 lambda_i t}
    assert torch.allclose(d.norm, exact, rtol=0.05)
    assert 0 < d.half_life_ms < 150 and d.norm[0] == pytest.approx(1.0)
