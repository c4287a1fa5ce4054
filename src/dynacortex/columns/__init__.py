"""Laminar cortical columns (ODE-Column model) as neural ODEs/SDEs: parameters, connectivity, the
network vector field, integration (engine solvers, torchdiffeq, torchsde), steady states and tasks."""

from .column import ColumnNetwork, StepStimulus, population_index
from .connectivity import ColumnWeights, column_weights, in_degrees, synaptic_strengths
from .integrate import simulate
from .parameters import POPULATIONS, ColumnParameters, load_column_parameters
from .rest import SteadyState, resting_rates, steady_state
from .transfer import transfer, transfer_derivative

__all__ = ["ColumnNetwork", "StepStimulus", "population_index", "ColumnWeights", "column_weights", "in_degrees",
           "synaptic_strengths", "simulate", "POPULATIONS", "ColumnParameters", "load_column_parameters",
           "SteadyState", "resting_rates", "steady_state", "transfer", "transfer_derivative"]
