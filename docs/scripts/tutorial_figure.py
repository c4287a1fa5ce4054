"""The temporal-phenomena tutorial's figure: the report's time-course panel
(``experiments.plots.plot_time_courses``, the function the experiment report uses) for the tutorial's
tiny untrained model.

    python docs/scripts/tutorial_figure.py [OUT_DIR]      # default docs/figures -> tutorial_timecourses.png
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path

from dynacortex.experiments.plots import plot_time_courses

DOCS = Path(__file__).resolve().parents[1]


def main(out_dir: Path = DOCS / "figures") -> Path:
    spec = importlib.util.spec_from_file_location("temporal_phenomena", DOCS / "tutorials" / "temporal_phenomena.py")
    tutorial = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tutorial)
    out = tutorial.main(tiny=True, out_dir=Path(tempfile.mkdtemp(prefix="dynacortex-figure-")))
    import dynacortex.experiments as ex

    ds = ex.open_recording(out["out_dir"] / "duration.zarr")
    contrast = ds.contrast.transpose("condition", "time_ms").values
    labels = [str(c) for c in ds.condition.values]
    out_dir.mkdir(parents=True, exist_ok=True)
    return plot_time_courses(out["time_ms"], out["evoked"], out["areas"], labels, contrast,
                             "duration protocol: evoked response per area (untrained tiny DyRCNNx4)",
                             out_dir / "tutorial_timecourses.png", xlim=(-50, 250))


if __name__ == "__main__":
    print(main(*(Path(a) for a in sys.argv[1:2])))
