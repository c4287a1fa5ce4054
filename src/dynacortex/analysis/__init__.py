"""Dynamical-systems analysis on the network's own vector field: fixed points, Jacobian spectra."""

from .fixed_point import FixedPoint, fixed_point, relax
from .linear_response import linear_response
from .slow_points import SlowPoint, slow_points
from .spectrum import dense_jacobian, is_stable, jacobian_eigs, spectral_radius
from .vector_field import VectorField, vector_field

__all__ = ["FixedPoint", "fixed_point", "relax", "linear_response", "SlowPoint", "slow_points", "dense_jacobian", "is_stable", "jacobian_eigs", "spectral_radius",
           "VectorField", "vector_field"]
