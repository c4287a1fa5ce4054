"""``dynacortex brainscore plugin``: a Brain-Score model plugin folder from a training checkpoint.

Module-level imports stay light (no Brain-Score, no torch): the work is imported inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..cli_support import TYPER, usage_errors

brainscore_app = typer.Typer(help="Brain-Score: score dynacortex models over time (docs/brainscore.md).", **TYPER)


def _regions(items: Optional[List[str]]) -> Optional[dict[str, List[str]]]:
    if not items:
        return None
    out: dict[str, List[str]] = {}
    for item in items:
        region, sep, areas = item.partition("=")
        if not sep or not region or not areas:
            raise ValueError(f"--region: need REGION=AREA[,AREA...], e.g. IT=IT or V4=V4,V2; got {item!r}")
        out[region] = areas.split(",")
    return out


@brainscore_app.command("plugin")
def plugin(
    checkpoint: Path = typer.Option(..., "--checkpoint", exists=True, help="A run folder or its checkpoint "
                                    "(dynacortex train)."),
    out: Path = typer.Option(..., "--out", help="The plugin folder to write (brainscore_vision/models/<name>/)."),
    identifier: Optional[str] = typer.Option(None, help="The Brain-Score model identifier (default: the run name)."),
    region: Optional[List[str]] = typer.Option(None, "--region", metavar="REGION=AREA[,AREA]",
                                               help="Map a Brain-Score region to model areas (repeatable; default "
                                                    "V1=V1, V4=V4, IT=IT)."),
    visual_degrees: float = typer.Option(8.0, help="Degrees of visual angle the model's input spans."),
    presentation_ms: float = typer.Option(100.0, help="How long an image is shown (ms); blank after it."),
    blank_before_ms: float = typer.Option(0.0, help="Blank before the image (ms)."),
    noise: Optional[float] = typer.Option(None, help="State noise sigma (rate units per sqrt(ms)) for trial-to-trial "
                                                     "variability (default: the model's own)."),
    trusted: bool = typer.Option(False, "--trusted", help="Load a checkpoint that pickles objects other than "
                                                          "tensors (only for a file whose source you trust)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT if it exists."),
) -> None:
    """Write a submission-ready Brain-Score model plugin (registry entry, model loader, requirements, test,
    weights and the dynacortex runtime) for a trained model.

    Example: dynacortex brainscore plugin --checkpoint runs/demo-3e7d5981 --out plugins/dynacortex_demo
    """
    from .plugin import write_plugin

    settings: dict = dict(visual_degrees=visual_degrees, presentation_ms=presentation_ms,
                          blank_before_ms=blank_before_ms, noise=noise)
    with usage_errors(types=(ValueError, FileNotFoundError, FileExistsError)):
        regions = _regions(region)
        if regions is not None:
            settings["regions"] = regions
        if identifier is not None:
            settings["identifier"] = identifier
        path = write_plugin(checkpoint, out, trusted=trusted, overwrite=overwrite, **settings)
    typer.echo(f"plugin: {path.resolve()}")
