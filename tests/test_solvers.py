"""Solvers: measured convergence orders, exactness of exponential Euler, custom solvers."""

import math

import numpy as np
import pytest
import torch

import dynacortex as dc
from dynacortex.dynamics import axpy, integrate

def logistic(t, y):
    """y' = y (1 - y) + 0.5 sin(t) y: nonlinear and time-dependent (tests stage times)."""
    return y * (1 - y) + 0.5 * torch.sin(torch.as_tensor(t, dtype=y.dtype)) * y


def reference(y0, t_end):
    return integrate(logistic, y0, solver=dc.get_solver("rk4"), dt=t_end / 4000, n_steps=4000)


def measured_order(solver, steps=(20, 40, 80, 160)):
    y0 = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)
    t_end = 3.0
    ref = reference(y0, t_end)
    errs = [float((integrate(logistic, y0, solver=solver, dt=t_end / n, n_steps=n) - ref).abs().max()) for n in steps]
    slope = np.polyfit(np.log([t_end / n for n in steps]), np.log(errs), 1)[0]
    return slope


@pytest.mark.parametrize("name,order", [("euler", 1), ("heun", 2), ("rk4", 4)])
def test_convergence_order(name, order):
    solver = dc.get_solver(name)
    assert solver.order == order
    assert abs(measured_order(solver) - order) < 0.2


def test_exp_euler_is_exact_on_linear_decay():
    tau, u = 7.0, 2.5

    class Leak:
        def __init__(self):
            self.tau = tau

        def __call__(self, t, y):
            return (u - y) / tau

    y0 = torch.tensor([0.0, 1.0, -3.0], dtype=torch.float64)
    for dt in (0.1, 1.0, 5.0, 40.0):  # exact for any step, also far beyond Euler's limit
        n = 5
        y = integrate(Leak(), y0, solver=dc.get_solver("exp_euler"), dt=dt, n_steps=n)
        exact = u + (y0 - u) * math.exp(-n * dt / tau)
        assert torch.allclose(y, exact, atol=1e-12, rtol=0)


def test_exp_euler_first_order_on_nonlinear_leak():
    class Leaky:
        tau = 1.0

        def __call__(self, t, y):
            return -y + torch.tanh(2 * y) + 0.3

    y0 = torch.tensor([0.2, -0.4], dtype=torch.float64)
    ref = integrate(Leaky(), y0, solver=dc.get_solver("rk4"), dt=1e-3, n_steps=2000)
    errs = [float((integrate(Leaky(), y0, solver=dc.get_solver("exp_euler"), dt=2 / n, n_steps=n) - ref).abs().max())
            for n in (20, 40, 80, 160)]
    slope = np.polyfit(np.log([2 / n for n in (20, 40, 80, 160)]), np.log(errs), 1)[0]
    assert abs(slope - 1) < 0.2


def test_exp_euler_needs_tau():
    with pytest.raises(ValueError, match="exp_euler.*tau"):
        dc.get_solver("exp_euler").step(logistic, 0.0, torch.ones(2, dtype=torch.float64), 0.1)


def test_solvers_accept_tuple_states():
    def f(t, y):
        return (-y[0], 2 * y[1])

    y = integrate(f, (torch.ones(2, dtype=torch.float64), torch.ones(3, dtype=torch.float64)), solver=dc.get_solver("rk4"), dt=0.01, n_steps=100)
    assert isinstance(y, tuple)
    assert torch.allclose(y[0], torch.full((2,), math.exp(-1), dtype=torch.float64), atol=1e-9)
    assert torch.allclose(y[1], torch.full((3,), math.exp(2), dtype=torch.float64), atol=1e-7)


def test_custom_solver_subclass_registers_and_converges():
    class Midpoint(dc.Solver, name="test_midpoint"):
        order = 2

        def step(self, rhs, t, y, dt):
            k1 = rhs(t, y)
            return axpy(y, dt, rhs(t + dt / 2, axpy(y, dt / 2, k1)))

    assert "test_midpoint" in dc.list_solvers()
    assert isinstance(dc.get_solver("test_midpoint"), Midpoint)
    assert abs(measured_order(Midpoint()) - 2) < 0.2


def test_unknown_solver_lists_allowed():
    with pytest.raises(ValueError, match=r"solver: unknown solver 'rk5'.*euler.*rk4"):
        dc.get_solver("rk5")


def test_docs_example_midpoint_runs():
    """The solver module docstring's example is valid code."""
    from dynacortex.dynamics.solvers import base

    src = base.__doc__.split("::")[1]
    code = "\n".join(line[4:] for line in src.splitlines())
    code = code.replace('name="midpoint"', 'name="doc_midpoint"')
    ns = {"Solver": dc.Solver, "axpy": axpy}
    exec(code, ns)
    y = integrate(logistic, torch.tensor([0.5], dtype=torch.float64), solver=dc.get_solver("doc_midpoint"), dt=0.01, n_steps=10)
    assert torch.isfinite(y).all()
