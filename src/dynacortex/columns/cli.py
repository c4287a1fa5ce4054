"""``dynacortex column rest`` and ``dynacortex column train TASK`` (laminar cortical columns).

Module-level imports stay light: the models, solvers and task code are imported inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from ..cli_support import SET_METAVAR, TYPER, Command, usage_errors
from ..validation import unknown_name
from .tasks import TASKS

column_app = typer.Typer(help="Laminar cortical columns (ODE-Column model) as neural ODEs/SDEs.", **TYPER)


@column_app.command("rest")
def rest(
    as_json: bool = typer.Option(False, "--json", help="Print the rates as one JSON object."),
    area: str = typer.Option("mt", help="Population-size table (v1, v2, v3, v3a, mt, mstd, lip, fef, fst)."),
    small: bool = typer.Option(False, help="The reference's small mode (background in-degree 2510)."),
    params: Optional[Path] = typer.Option(None, exists=True, dir_okay=False, help="Parameter YAML "
                                          "(default: the packaged configs/columns.yaml)."),
) -> None:
    """Steady-state rates (Hz) of one column with background input only.

    Example: dynacortex column rest --json
    """
    from .column import ColumnNetwork
    from .parameters import load_column_parameters
    from .rest import resting_rates

    with usage_errors():
        net = ColumnNetwork(area=area, small=small, params=load_column_parameters(params))
    rates = resting_rates(net)
    if as_json:
        typer.echo(json.dumps(rates))
    else:
        for name, r in rates.items():
            typer.echo(f"{name:5s} {r:10.4f} Hz")


@column_app.command("train", cls=Command)
def train(
    task: str = typer.Argument(..., metavar="TASK", help=f"One of {', '.join(TASKS)}."),
    out: Path = typer.Option(Path("runs/columns"), help="Folder; results land in OUT/TASK-HASH/ (config.yaml, "
                                                        "model.pt, metrics.json, TASK.png/.svg)."),
    steps: Optional[int] = typer.Option(None, "--steps", "--epochs", help="Optimizer steps (task default if unset)."),
    seed: int = typer.Option(0, help="Random seed."),
    set_: Optional[List[str]] = typer.Option(None, "--set", metavar=SET_METAVAR,
                                             help="Task config field, key=value (value parsed as YAML), "
                                                  "e.g. --set dt=5e-4 --set 'columns_per_area=[4,2,1]'."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Train a column task, save the model and a plot in OUT/TASK-HASH, print the metrics.

    HASH is 8 hex digits of the task's resolved config (steps, seed and every --set included), so
    another config never overwrites a run.

    Examples:
      dynacortex column train xor
      dynacortex column train hopf --steps 600 --out runs/columns
      dynacortex column train parity --set 'columns_per_area=[4,2,1]' --steps 50
    """
    from ..config import apply_overrides
    from .tasks import task_config, train_task

    with usage_errors():
        if task not in TASKS:
            raise ValueError(f"task: {unknown_name('task', task, TASKS)}")
        overrides = apply_overrides({}, set_ or [])
        overrides["seed"] = seed
        if steps is not None:
            overrides["steps"] = steps
        cfg = task_config(task, overrides)
    result = train_task(task, cfg, out, progress)
    status = "reached" if result.criterion_met else "NOT reached"
    typer.echo(f"{task}: final loss {result.final_loss:.4g} after {result.steps} steps ({result.seconds:.1f} s); "
               f"criterion {status}: {result.criterion}")
    typer.echo(json.dumps(result.metrics))
    typer.echo(f"saved: {result.files.get('model')} {result.files.get('plot')}")
