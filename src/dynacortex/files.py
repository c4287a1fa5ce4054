"""Safe files: writes that are complete or absent, and checkpoint loads that run no foreign code.

Writes go under a hidden temporary name, are flushed, and renamed into place. A reader (or a resumed run) sees the previous complete file or the new one, never a half-written one.
When writing fails -- a full disk (ENOSPC), a quota (EDQUOT), an I/O error -- the temporary is removed,
the target is untouched, and the error names the file and the reason. A process killed mid-write leaves
only a hidden ``.<name>.tmp-<pid>`` file that no reader opens.

Loads use ``torch.load(weights_only=True)`` (tensors and plain Python values; unpickling cannot run
code). ``trusted=True`` lifts that for a file whose source you trust (e.g. a checkpoint that pickles
other objects), and only then.
"""

from __future__ import annotations

import errno
import os
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator, Optional

import torch

__all__ = ["atomic_open", "write_atomic", "write_error", "load_checkpoint"]


def write_error(path: "str | Path", e: OSError) -> OSError:
    """A clear ``OSError`` for a failed write of ``path`` (same errno)."""
    why = "no space left on the disk" if e.errno in (errno.ENOSPC, errno.EDQUOT) else (e.strerror or str(e))
    return OSError(e.errno, f"{path}: could not be written ({why}); the previous version, if any, is intact "
                            "and no partial file was left")


@contextmanager
def atomic_open(path: "str | Path", mode: str = "wb") -> Iterator[IO]:
    """``with atomic_open(path) as f: f.write(...)``: ``path`` appears, complete, when the block ends."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise write_error(path, e) from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: "str | Path", text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_open(path, "w") as f:
        f.write(text)


def _looks_like_torch_file(path: Path) -> bool:
    """A ``torch.save`` file: a zip archive (since torch 1.6) or a bare pickle (protocol 2+)."""
    with open(path, "rb") as f:
        head = f.read(4)
    return head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"


def load_checkpoint(path: "str | Path", map_location: Optional[Any] = "cpu", trusted: bool = False) -> Any:
    """Load a checkpoint (weights only unless ``trusted``); a missing, foreign or corrupt file raises a
    clear error (``FileNotFoundError`` / ``ValueError``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint: {path} does not exist")
    if not _looks_like_torch_file(path):
        raise ValueError(f"checkpoint: {path} is not a PyTorch checkpoint (neither a zip archive nor a pickle: "
                         "another kind of file, or corrupt); a training run's checkpoint is "
                         "<run folder>/checkpoints/last.ckpt")
    try:
        return torch.load(path, map_location=map_location, weights_only=not trusted)
    except Exception as e:  # torch raises several types for truncated / foreign files
        text = str(e)
        if not trusted and "Unsupported global" in text:
            raise ValueError(f"checkpoint: {path} holds Python objects other than tensors and plain values, and "
                             "loading those can run code; load it only if you trust its source (trusted=True in "
                             "Python, --trusted on the command line)") from e
        detail = text.split("WeightsUnpickler error:")[-1]  # torch's own reason, without its advice
        first = next((line.strip() for line in detail.splitlines() if line.strip()), "")
        raise ValueError(f"checkpoint: {path} is corrupt or not a dynacortex checkpoint ({type(e).__name__}"
                         f"{': ' + first if first else ''})") from e
