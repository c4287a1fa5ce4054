"""Trial generators: each trial's images (screen layers) and correct choice, from an offline dataset.

Images are pixel intensities in [0, 1] on a black screen (the digits' background is 0), scaled by
the trial's coherence. Train and held-out trials draw from the dataset's train and test splits.

- ``classify``: ``stimulus`` = an image of class ``classes[c]``; choice ``c``.
- ``match``: ``sample`` of class a, ``test`` of class b (b = a with ``match_probability``, two
  different exemplars); choice 1 if a = b else 0.
- ``context``: ``stimulus`` = a half-size image of class ``classes[c]`` centred in the left (s = 0) or
  right (s = 1) half; ``cue`` = lit top and bottom rows (context 0: report the class, choice c) or
  lit left and right columns (context 1: report the side, choice s).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..data.catalog import load_dataset
from .spec import TrialsConfig

__all__ = ["Trials", "TrialSampler"]


@dataclass
class Trials:
    layers: dict[str, Tensor]  # name -> (B, C, H, W)
    choice: Tensor  # (B,) long, in [0, n_choices)
    conditions: dict[str, Tensor]  # per-trial variables, (B,) each (class, coherence, context, ...)


class TrialSampler:
    """Draws trials of ``cfg`` at ``image_size`` from the ``split`` of the dataset."""

    def __init__(self, cfg: TrialsConfig, image_size: int, split: str = "train"):
        self.cfg, self.size = cfg, image_size
        load = image_size // 2 if cfg.generator == "context" else image_size
        x, y, names = load_dataset(cfg.dataset, split, load)
        bad = [c for c in cfg.classes if c >= len(names)]
        if bad:
            raise ValueError(f"trials.classes: {bad} out of range; {cfg.dataset} has classes 0..{len(names) - 1}")
        self.by_class = [x[y == c].float() / 255.0 for c in cfg.classes]
        self.channels = x.shape[1]

    def _images(self, cls: Tensor, g: torch.Generator) -> Tensor:
        out = torch.empty(len(cls), *self.by_class[0].shape[1:])
        for i, c in enumerate(cls.tolist()):
            pool = self.by_class[c]
            out[i] = pool[int(torch.randint(len(pool), (1,), generator=g))]
        return out

    def sample(self, n: int, g: torch.Generator) -> Trials:
        cfg, k = self.cfg, len(self.cfg.classes)
        coh = torch.tensor(cfg.coherence)[torch.randint(len(cfg.coherence), (n,), generator=g)]
        scale = coh.view(-1, 1, 1, 1)
        cls = torch.randint(k, (n,), generator=g)
        if cfg.generator == "classify":
            return Trials({"stimulus": self._images(cls, g) * scale}, cls, {"class": cls, "coherence": coh})
        if cfg.generator == "match":
            match = torch.rand(n, generator=g) < cfg.match_probability
            other = (cls + torch.randint(1, k, (n,), generator=g)) % k
            test_cls = torch.where(match, cls, other)
            layers = {"sample": self._images(cls, g) * scale, "test": self._images(test_cls, g) * scale}
            return Trials(layers, match.long(), {"class": cls, "test_class": test_cls, "coherence": coh})
        side = torch.randint(2, (n,), generator=g)
        context = torch.randint(2, (n,), generator=g)
        small = self._images(cls, g) * scale
        s, h = self.size, small.shape[-1]
        top = (s - h) // 2
        stimulus = torch.zeros(n, self.channels, s, s)
        cue = torch.zeros_like(stimulus)
        for i in range(n):
            left = (s // 2 - h) // 2 + (s // 2) * int(side[i])
            stimulus[i, :, top:top + h, left:left + h] = small[i]
            if context[i] == 0:
                cue[i, :, [0, -1], :] = 1.0
            else:
                cue[i, :, :, [0, -1]] = 1.0
        choice = torch.where(context == 0, cls, side)
        return Trials({"stimulus": stimulus, "cue": cue}, choice,
                      {"class": cls, "side": side, "context": context, "coherence": coh})
