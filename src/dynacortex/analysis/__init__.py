"""Dynamical-systems analysis on the network's own vector field (fixed points, spectra, slow points,
linear response) and comparison with neural recordings over time."""

from .fixed_point import FixedPoint, fixed_point, relax
from .linear_response import PerturbationDecay, linear_response, perturbation_decay
from .noise import noise_robustness, plot_noise_robustness
from .neural import (align, load_neural, object_solution_times, ost_correlation, pls_predictivity_over_time,
                     predictivity_over_time, rdm, rsa_over_time, solution_times)
from .slow_points import SlowPoint, slow_points
from .spectrum import dense_jacobian, is_stable, jacobian_eigs, spectral_radius
from .vector_field import VectorField, vector_field

__all__ = [
    "FixedPoint", "fixed_point", "relax", "linear_response", "PerturbationDecay", "perturbation_decay", "align",
    "load_neural", "noise_robustness", "object_solution_times", "ost_correlation", "pls_predictivity_over_time",
    "solution_times", "plot_noise_robustness", "predictivity_over_time", "rdm", "rsa_over_time",
    "SlowPoint", "slow_points", "dense_jacobian", "is_stable", "jacobian_eigs", "spectral_radius", "VectorField",
    "vector_field",
]
