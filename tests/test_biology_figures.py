"""docs/scripts/biology_figures.py runs and writes its figures (so docs/biology.md never shows stale code)."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).parents[1] / "docs" / "scripts" / "biology_figures.py"


def test_biology_figures_script_writes_png_and_svg(tmp_path):
    spec = importlib.util.spec_from_file_location("biology_figures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    paths = module.main(tmp_path)
    assert [p.name for p in paths] == ["retina.png", "ssn.png", "learnable_delay.png", "ecog_proxy.png"]
    for p in paths:
        assert p.stat().st_size > 10_000 and p.with_suffix(".svg").stat().st_size > 10_000
