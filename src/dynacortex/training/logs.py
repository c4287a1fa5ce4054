"""``logs/metrics.csv`` that a resumed run continues instead of erasing.

Lightning's ``CSVLogger`` deletes an existing ``metrics.csv`` when it starts ("Previous log files
in this directory will be deleted"), so a resumed run would lose the training curve of everything
before the checkpoint. :class:`RunCSVLogger` with ``resume_step=s`` keeps the rows logged before
step ``s`` (those after it belong to work the checkpoint does not hold, and the resumed run logs them
again), drops the rest, and appends. A fresh run (``resume_step=None``) starts a fresh file.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Optional

from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.fabric.loggers.logger import rank_zero_experiment

from ..files import write_atomic

__all__ = ["RunCSVLogger"]


class _ContinuingWriter(ExperimentWriter):
    def __init__(self, log_dir: str, resume_step: Optional[int]) -> None:
        self._resume_step = resume_step
        super().__init__(log_dir)

    def _check_log_dir_exists(self) -> None:  # called by __init__ instead of deleting the old file
        path = Path(self.metrics_file_path)
        if self._resume_step is None or not path.is_file():
            if path.is_file():
                path.unlink()  # a fresh run: a fresh log
            return
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            keys = list(reader.fieldnames or [])
            rows = [r for r in reader if r.get("step") and int(r["step"]) < self._resume_step]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=keys, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_atomic(path, out.getvalue())
        self.metrics_keys = keys


class RunCSVLogger(CSVLogger):
    """``CSVLogger(run_dir, name="logs", version="")`` writing ``run_dir/logs/metrics.csv``; with
    ``resume_step``, the rows before that step are kept and the run appends to them."""

    def __init__(self, run_dir: "str | Path", resume_step: Optional[int] = None) -> None:
        super().__init__(run_dir, name="logs", version="")
        self._resume_step = resume_step

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:  # type: ignore[override]
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _ContinuingWriter(self.log_dir, self._resume_step)
        return self._experiment
