"""Robustness to input noise: a recurrent model against its feedforward counterpart.

Each image (normalised, mean gray 0) gets i.i.d. Gaussian pixel noise of standard deviation
``sigma`` (in units of the normalised input, i.e. of the training set's pixel SD), held fixed over
the presentation. The recurrent model sees it for ``n_steps`` and is read at the last step; the
feedforward counterpart (:meth:`AreaNetwork.feedforward`: the same layers, one pass, no recurrence
or feedback) sees the same noisy images. Both get the same noise draw.

A recurrent network can suppress noise when the directions noise excites decay fast (eigenvalues
of the Jacobian far left of the imaginary axis) while stimulus-driven directions persist (slow
modes); :func:`dynacortex.analysis.jacobian_eigs` gives that spectrum.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from torch import Tensor

from ..models import AreaNetwork

__all__ = ["noise_robustness", "plot_noise_robustness"]


def noise_robustness(model: AreaNetwork, images: Tensor, labels: Tensor, sigmas: Sequence[float], n_steps: int,
                     batch_size: int = 128, seed: int = 0) -> dict[str, list[float]]:
    """``{"sigma": [...], "recurrent": [accuracy...], "feedforward": [accuracy...]}``."""
    if any(s < 0 for s in sigmas):
        raise ValueError(f"sigmas: noise levels must be >= 0, got {list(sigmas)}")
    if n_steps < 1:
        raise ValueError(f"n_steps: must be >= 1, got {n_steps}")
    was_training = model.training
    model.eval()
    g = torch.Generator().manual_seed(seed)
    out: dict[str, list[float]] = {"sigma": [float(s) for s in sigmas], "recurrent": [], "feedforward": []}
    noise = torch.randn(images.shape, generator=g)
    for sigma in sigmas:
        hits = {"recurrent": 0, "feedforward": 0}
        for b in range(0, len(images), batch_size):
            x = images[b:b + batch_size] + sigma * noise[b:b + batch_size]
            y = labels[b:b + batch_size]
            with torch.no_grad():
                hits["recurrent"] += int((model(x, n_steps=n_steps)[:, -1].argmax(-1) == y).sum())
                hits["feedforward"] += int((model.feedforward(x).argmax(-1) == y).sum())
        for k, v in hits.items():
            out[k].append(v / len(images))
    model.train(was_training)
    return out


def plot_noise_robustness(result: dict[str, list[float]], path: Path, chance: float) -> Path:
    """Accuracy against noise SD for both models (PNG and SVG)."""
    import matplotlib.pyplot as plt

    from ..figures import save_figure

    fig, ax = plt.subplots(figsize=(4.6, 3.4))
    for key, style in (("recurrent", "o-"), ("feedforward", "s--")):
        ax.plot(result["sigma"], result[key], style, label=key)
    ax.axhline(chance, color="0.5", lw=0.8, ls=":", label="chance")
    ax.set_xlabel("input noise SD (normalised units)")
    ax.set_ylabel("test accuracy")
    ax.legend()
    ax.set_title("Noise robustness")
    fig.tight_layout()
    return save_figure(fig, path)

