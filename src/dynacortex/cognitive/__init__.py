"""Cognitive tasks from images: a multi-area RNN on a vision front-end, declarative tasks, training, analysis."""

from .network import MultiAreaConfig, MultiAreaRNN, RNNAreaConfig, SignedLinear
from .recordings import compare_with_recordings, condition_averages
from .raster import Timeline, TrialBatch, fixation_frame, make_batch, timeline
from .spec import Period, TaskSpec, TrialsConfig
from .tasks import get_task, list_tasks, register_task
from .trials import TrialSampler, Trials

__all__ = [
    "MultiAreaConfig", "MultiAreaRNN", "RNNAreaConfig", "SignedLinear", "Timeline", "TrialBatch", "fixation_frame",
    "make_batch", "timeline", "Period", "TaskSpec", "TrialsConfig", "get_task", "list_tasks", "register_task",
    "TrialSampler", "Trials", "compare_with_recordings", "condition_averages",
]
