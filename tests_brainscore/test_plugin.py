"""The plugin written by `dynacortex brainscore plugin` loads through Brain-Score's plugin machinery with
BS_INSTALL_DEPENDENCIES=no, without the installed dynacortex (it carries its runtime), and passes its own test."""

import shutil
import subprocess
import sys
from pathlib import Path

import torch

import brainscore_vision
import dynacortex as dc
from dynacortex.brainscore.bundle import FORMAT
from dynacortex.brainscore.plugin import write_plugin_folder


def test_plugin_loads_offline_without_dynacortex_installed(tmp_path):
    torch.manual_seed(0)
    model = dc.create_model("dyrcnnx4", channels=(4, 4, 4, 8), in_channels=1, noise=0.02, t_feedforward=10.0)
    bundle = {"format": FORMAT, "model": "dyrcnnx4",
              "kwargs": {"channels": [4, 4, 4, 8], "in_channels": 1, "noise": 0.02, "t_feedforward": 10.0},
              "state_dict": model.state_dict(),
              "settings": {"identifier": "dynacortex-plugin-test", "image_size": 8, "mean": [0.5], "std": [0.25],
                           "classes": [str(i) for i in range(10)]}}
    target = Path(brainscore_vision.__file__).parent / "models" / "dynacortex_plugin_test"
    try:
        write_plugin_folder(bundle, target, overwrite=True)
        code = ("import sys; sys.modules['dynacortex'] = None\n"  # the installed package is not importable
                "import brainscore_vision\n"
                "m = brainscore_vision.load_model('dynacortex-plugin-test')\n"
                "assert m.identifier == 'dynacortex-plugin-test' and m.visual_degrees() == 8\n"
                "assert type(m).__module__.startswith('brainscore_vision.models.dynacortex_plugin_test.dynacortex')")
        subprocess.run([sys.executable, "-c", code], check=True)
        ini = tmp_path / "pytest.ini"  # Brain-Score's rules (its travis_slow marker), not our pytest settings
        ini.write_text("[pytest]\nmarkers =\n    travis_slow\n")
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(ini),
                        str(target / "test.py")], check=True)
    finally:
        shutil.rmtree(target, ignore_errors=True)
