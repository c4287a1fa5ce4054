"""Turn a folder of recordings into ``metrics.json``, figures and ``report.html`` with a reading of each.

``write_experiment_report(DIR)`` reads every ``DIR/<protocol>.zarr`` and writes:
``metrics.json`` (the schema of :func:`.metrics.compute_metrics`), ``dynvision_metrics.json``,
``<protocol>_time_courses.png`` per recording, ``summation.png``, ``contrast_timing.png``,
``recovery.png``, ``latency.png``, ``memory.png`` (each also as SVG) and ``report.html``, whose readings
judge the cortex metrics against human numbers (:mod:`.readings`; for the twin and DN beside them see
:mod:`.cortex_report`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from ..report import Table, write_report
from ..files import write_atomic
from . import plots
from .dynvision_metrics import dynvision_metrics
from .metrics import baseline_drift, compute_metrics, evoked
from .phenomena import PHENOMENA
from .readings import cortex_readings
from .protocols import list_protocols
from .store import open_recording

__all__ = ["load_recordings", "readings", "provenance", "write_experiment_report"]


def load_recordings(folder: "str | Path") -> dict[str, Any]:
    """``{protocol: Dataset}`` for every ``<protocol>.zarr`` in ``folder`` (built-ins first, in order)."""
    folder = Path(folder)
    found = {p.name[:-5]: p for p in folder.glob("*.zarr") if not p.name.startswith(".")}
    if not found:
        raise FileNotFoundError(f"experiment: no recordings (*.zarr) in {folder}; run `dynacortex experiment run` first")
    order = [n for n in list_protocols() if n in found] + sorted(set(found) - set(list_protocols()))
    return {n: open_recording(found[n]) for n in order}


def readings(metrics: dict[str, Any], chance: Optional[float] = None) -> list[str]:
    """One plain sentence per phenomenon: what was measured, and whether it looks like cortex."""
    return [p.reading(metrics[p.key], chance) for p in PHENOMENA if p.key in metrics]


def _summary_table(metrics: dict[str, Any]) -> Table:
    areas = list(next(iter(metrics.values())))
    present = [p for p in PHENOMENA if p.key in metrics]
    rows = [[a, *(p.cell(metrics[p.key][a]) for p in present)] for a in areas]
    return "Per-area summary", ["area", *(p.column for p in present)], rows


def experiment_figures(recordings: dict[str, Any], metrics: dict[str, Any], folder: Path,
                       chance: Optional[float]) -> list[tuple[str, Path]]:
    """All figures for ``recordings`` / ``metrics`` written into ``folder``: ``[(caption, png)]``."""
    figs = []
    for name, ds in recordings.items():
        t, d = evoked(ds)
        conds = [str(c) for c in ds.condition.values]
        ecog = ds.attrs.get("signal", {}).get("kind") == "ecog"
        figs.append((f"{name}: evoked {'ECoG proxy' if ecog else 'population response'} per area and condition "
                     "(bars: stimulus on)",
                     plots.plot_time_courses(t, d, [str(a) for a in ds.area.values], conds, ds.contrast.values,
                                             f"{name} protocol", folder / f"{name}_time_courses.png", xlim=(-50, t[-1]),
                                             ylabel="evoked ECoG proxy (a.u.)" if ecog else "evoked population rate (a.u.)")))
    for p in PHENOMENA:
        if p.key in metrics and p.figure is not None:
            caption, file, plot = p.figure
            figs.append((caption, plot(metrics[p.key], folder / file, chance)))
    return figs


def provenance(folder: Path) -> tuple[list[str], Optional[float], Optional[float]]:
    """What was recorded (the checkpoint, model and its test accuracy, from ``provenance.json`` if any), and
    the accuracy and chance level."""
    path = folder / "provenance.json"
    if not path.is_file():
        return [], None, None
    prov = json.loads(path.read_text())
    model = prov.get("train_config", {}).get("model", {})
    text = f"Recorded from {prov.get('checkpoint', 'an unknown checkpoint')} (model {model.get('name', '?')}"
    run = Path(prov.get("run_folder", "")) / "metrics.json"
    accuracy = chance = None
    if run.is_file():
        m = json.loads(run.read_text())
        accuracy, chance = m.get("test_accuracy"), m.get("chance")
        if accuracy is not None and chance is not None:
            text += f"; test accuracy {accuracy:.3f}, chance {chance:.3f}"
    return [text + ")."], accuracy, chance


def write_experiment_report(folder: "str | Path", title: str = "dynacortex experiment",
                            notes: Sequence[str] = (), figures: Sequence[tuple[str, Path]] = (),
                            scalars: Optional[dict[str, Any]] = None) -> Path:
    """Compute metrics from ``folder``'s recordings and write the report there; return ``report.html``.
    ``notes``/``figures``/``scalars`` (e.g. from training) are placed before the experiment's own."""
    import matplotlib

    matplotlib.use("Agg")
    folder = Path(folder)
    recordings = load_recordings(folder)
    metrics = compute_metrics(recordings)
    write_atomic(folder / "metrics.json", json.dumps(metrics, indent=2))
    write_atomic(folder / "dynvision_metrics.json", json.dumps(dynvision_metrics(recordings), indent=2))
    chance = None
    if "memory" in recordings and "label" in recordings["memory"].coords:
        chance = 1.0 / len(np.unique(recordings["memory"].label.values))
    figs = [*figures, *experiment_figures(recordings, metrics, folder, chance)]
    recorded, accuracy, level = provenance(folder)
    notes = [*recorded, *notes]
    tables = [_summary_table(metrics)] if metrics else []
    checks = []
    if "response" in recordings:
        drift = baseline_drift(recordings["response"])
        worst = max(drift, key=lambda a: np.nan_to_num(drift[a]))
        checks.append(f"Baseline check: the blank trial stays within {100 * drift[worst]:.2g}% of the evoked peak "
                      f"({worst})" + (" - settled." if drift[worst] < 0.05 else
                                      " - the model had not settled during the idle time; lengthen idle_ms."))
    signals = sorted({str(ds.response.attrs.get("units", "")) for ds in recordings.values()})
    checks.append(f"Population signal: {'; '.join(signals)} (see dynacortex.experiments.signals).")
    judged = (cortex_readings([metrics["cortex"]], accuracy=accuracy, chance=level,
                              reasons=metrics.get("cortex_null_reasons")) if "cortex" in metrics else [])
    return write_report(folder / "report.html", title, scalars or {}, figs,
                        [*notes, *readings(metrics, chance), *judged, *checks], tables)
