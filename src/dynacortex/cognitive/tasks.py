"""Built-in tasks and the task registry: ``get_task(name | spec | YAML path)``, ``register_task(spec)``.

Timings (ms) follow the usual monkey-task structure (neurogym conventions); the response period's
loss weight is raised so the choice, not the long fixation, dominates the loss.

- ``perceptual_decision``: fixation, a noisy image (pixel noise 0.6, coherence 0.25-1) for 300 ms,
  respond with the image's class (digits 0 vs 1).
- ``delayed_match_to_sample``: fixation, sample image 200 ms, delay 200-400 ms, test image 200 ms,
  respond match / non-match (digits 0, 1, 2).
- ``context_categorisation``: fixation, context cue, a digit left or right of centre with the cue,
  respond with the digit's class (context 0) or its side (context 1).
"""

from __future__ import annotations

from pathlib import Path

from .spec import Period, TaskSpec, TrialsConfig

__all__ = ["get_task", "list_tasks", "register_task"]

_TASKS: dict[str, TaskSpec] = {}


def register_task(spec: TaskSpec) -> TaskSpec:
    """Make ``spec`` available to ``get_task(spec.name)``."""
    if spec.name in _TASKS:
        raise ValueError(f"task name {spec.name!r} is already registered")
    _TASKS[spec.name] = spec
    return spec


def list_tasks() -> list[str]:
    return sorted(_TASKS)


def get_task(task: "str | Path | TaskSpec") -> TaskSpec:
    """A registered task by name, a :class:`TaskSpec`, or a YAML file describing one."""
    if isinstance(task, TaskSpec):
        return task
    if str(task) in _TASKS:
        return _TASKS[str(task)]
    if Path(task).suffix in (".yaml", ".yml"):
        return TaskSpec.from_yaml(task)
    raise ValueError(f"task: unknown task {str(task)!r}; built-in tasks are {list_tasks()} (or a .yaml file)")


register_task(TaskSpec(
    name="perceptual_decision",
    trials=TrialsConfig(generator="classify", classes=[0, 1], coherence=[0.25, 0.5, 1.0]),
    periods=[
        Period(name="fixation", duration_ms=(50, 150), show=["fixation"]),
        Period(name="stimulus", duration_ms=300, show=["fixation", "stimulus"], noise_std=0.6),
        Period(name="response", duration_ms=100, target="choice", loss_weight=5.0),
    ],
))

register_task(TaskSpec(
    name="delayed_match_to_sample",
    trials=TrialsConfig(generator="match", classes=[0, 1, 2]),
    periods=[
        Period(name="fixation", duration_ms=100, show=["fixation"]),
        Period(name="sample", duration_ms=200, show=["fixation", "sample"]),
        Period(name="delay", duration_ms=(200, 400), show=["fixation"]),
        Period(name="test", duration_ms=200, show=["fixation", "test"]),
        Period(name="response", duration_ms=100, target="choice", loss_weight=5.0),
    ],
))

register_task(TaskSpec(
    name="context_categorisation",
    trials=TrialsConfig(generator="context", classes=[0, 1]),
    periods=[
        Period(name="fixation", duration_ms=100, show=["fixation"]),
        Period(name="cue", duration_ms=100, show=["fixation", "cue"]),
        Period(name="stimulus", duration_ms=300, show=["fixation", "cue", "stimulus"]),
        Period(name="response", duration_ms=100, target="choice", loss_weight=5.0),
    ],
))
