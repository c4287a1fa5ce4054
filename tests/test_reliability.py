"""Nothing lost on faults: full disks, killed runs and untrusted checkpoints."""

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from dynacortex.experiments import get_protocol, open_recording, run_protocol
from dynacortex.experiments.report import load_recordings
from dynacortex.experiments.store import ZarrWriter
from dynacortex.files import load_checkpoint, write_atomic
from dynacortex.training.checkpoint import AtomicCheckpointIO

from .helpers import chain

ROOT = Path(__file__).resolve().parents[1]


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_full_disk_while_checkpointing_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    target = tmp_path / "last.ckpt"
    AtomicCheckpointIO().save_checkpoint({"w": torch.ones(3)}, target)

    def half_then_full(obj, f, *a, **k):
        f.write(b"half a checkpoint")
        _disk_full()

    monkeypatch.setattr(torch, "save", half_then_full)
    with pytest.raises(OSError, match=r"last.ckpt: could not be written \(no space left on the disk\); the previous"):
        AtomicCheckpointIO().save_checkpoint({"w": torch.zeros(3)}, target)
    assert load_checkpoint(target)["w"].sum() == 3
    assert os.listdir(tmp_path) == ["last.ckpt"]  # no temporary left


def test_full_disk_while_writing_text_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "fsync", _disk_full)
    with pytest.raises(OSError, match="metrics.json: could not be written"):
        write_atomic(tmp_path / "metrics.json", "{}")
    assert os.listdir(tmp_path) == []


def test_full_disk_during_an_experiment_keeps_the_old_store(tmp_path, monkeypatch):
    model, images = chain(2, 3, dt=1.0), torch.randn(2, 2, 6, 6)
    target = tmp_path / "response.zarr"
    proto = get_protocol("response", duration_ms=60, idle_ms=20)
    run_protocol(model, proto, images, target, progress=False)
    before = open_recording(target).response.values.copy()
    monkeypatch.setattr(ZarrWriter, "write", _disk_full)
    with pytest.raises(OSError, match="response.zarr: could not be written \\(no space left on the disk\\)"):
        run_protocol(model, proto, images, target, progress=False)
    assert [p.name for p in tmp_path.iterdir()] == ["response.zarr"]
    np.testing.assert_array_equal(open_recording(target).response.values, before)


_RUN = """
import sys, time, torch
from tests.helpers import chain
from dynacortex.experiments import get_protocol, run_protocol
torch.manual_seed(0)
model = chain(2, 3, dt=1.0)
images = torch.randn(4, 2, 6, 6)
proto = get_protocol("response", duration_ms=400, idle_ms=20)
steps = []
with model.observe(lambda t, y: steps.append(time.sleep(float(sys.argv[2])))):  # slow enough to be killed
    run_protocol(model, proto, images, sys.argv[1], batch_size=2, chunk_steps=50, progress=False, resume=True)
print(len(steps))
"""


def _run(target, delay):
    return subprocess.Popen([sys.executable, "-c", _RUN, str(target), str(delay)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_killed_experiment_is_never_read_as_complete_and_resumes_to_the_same_result(tmp_path):
    import zarr

    target = tmp_path / "response.zarr"
    proc = _run(target, 0.004)  # one image per batch (2 conditions x 1 image), 4 batches
    try:
        deadline = time.time() + 300
        while time.time() < deadline:  # wait until the first batch is complete
            partial = list(tmp_path.glob(".response.zarr.partial-*"))
            try:
                if partial and zarr.open_group(str(partial[0]), mode="r").attrs.get("done", 0) >= 1:
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.05)
        else:
            pytest.fail("the experiment never completed a batch")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not target.exists() and len(partial) == 1
    with pytest.raises(FileNotFoundError, match="partial store of an interrupted run"):
        open_recording(partial[0])  # even opened by its own name it does not pass as finished
    with pytest.raises(FileNotFoundError, match="no recordings"):
        load_recordings(tmp_path)
    done = zarr.open_group(str(partial[0]), mode="r").attrs["done"]
    assert 1 <= done < 4
    steps = []
    for path in (target, tmp_path / "fresh" / "response.zarr"):
        out, err = _run(path, 0.0).communicate(timeout=300)
        assert out.strip(), err.decode()[-2000:]
        steps.append(int(out) - 1)  # minus the one-step shape probe
    assert steps[0] * 4 == steps[1] * (4 - done)  # the resumed run simulated only the missing batches
    assert [p.name for p in tmp_path.iterdir() if p.name != "fresh"] == ["response.zarr"]
    a, b = open_recording(target), open_recording(tmp_path / "fresh" / "response.zarr")
    np.testing.assert_array_equal(a.response.values, b.response.values)  # resumed == uninterrupted
    assert np.isfinite(a.response.values).all() and "done" not in a.attrs and "fingerprint" not in a.attrs


class _Foreign:  # an object torch's weights-only unpickler refuses
    pass


def test_untrusted_checkpoints_are_refused_unless_trusted(tmp_path):
    path = tmp_path / "foreign.pth"
    torch.save({"w": torch.ones(2), "meta": _Foreign()}, path)
    with pytest.raises(ValueError, match=r"load it only if you trust its source \(trusted=True in Python, --trusted"):
        load_checkpoint(path)
    assert load_checkpoint(path, trusted=True)["w"].sum() == 2
