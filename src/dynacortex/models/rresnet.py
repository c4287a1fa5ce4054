"""A recurrent ResNet for ImageNet-scale work (no torchvision): every residual block is an area.

Stem: 7x7/2 conv, GroupNorm, ReLU, 3x3/2 max-pool. Stages of BasicBlocks (``depth`` 18: 2,2,2,2;
34: 3,4,6,3) with 64, 128, 256, 512 channels; the first block of stages 2-4 has stride 2 and a
1x1 conv + GroupNorm shortcut. Block l is an area with rate r_l:

    tau dr_l/dt = -r_l + ReLU( F_l(r_{l-1}(t - t_feedforward)) + J_l r_l(t - t_recurrence) )
    F_l(x) = GN(conv3x3(ReLU(GN(conv3x3(x))))) + shortcut(x)

With ``recurrence="none"``, Euler and ``dt = tau`` the top area after ``L`` steps equals the
feed-forward ResNet (GroupNorm in place of BatchNorm) on the image: 11,689,512 parameters at 1000
classes for depth 18, as torchvision's resnet18. ``J`` is any recurrence type (default ``full``,
gain-limited by ``recurrence_gain``); readout: global average pool + linear on the last block.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field
from torch import Tensor, nn

from ..layers import Area, Connection, pooled_linear
from .config import NetworkConfig, area_taus
from .dyrcnn import Recurrence
from .network import AreaNetwork
from .registry import register_model

__all__ = ["RResNetConfig", "build_rresnet"]

BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
WIDTHS = (64, 128, 256, 512)


class RResNetConfig(NetworkConfig):
    depth: Literal[18, 34] = 18
    recurrence: Recurrence = "full"
    recurrence_gain: Optional[float] = Field(0.9, gt=0)
    norm_groups: int = Field(32, ge=1)
    dt: float = Field(2.0, gt=0)
    tau: float | tuple[float, ...] = 10.0
    t_recurrence: float = Field(2.0, ge=0)


class BasicBlock(nn.Module):
    """``GN(conv(ReLU(GN(conv(x))))) + shortcut(x)`` (the ReLU after the sum is the area's Phi)."""

    def __init__(self, cin: int, cout: int, stride: int, groups: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.GroupNorm(groups, cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.GroupNorm(groups, cout))
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.GroupNorm(groups, cout))
                         if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x) + self.shortcut(x)


def build_rresnet(cfg: RResNetConfig) -> AreaNetwork:
    g = cfg.norm_groups
    specs = []  # (name, cin, cout, stride)
    cin = WIDTHS[0]
    for s, (n_blocks, width) in enumerate(zip(BLOCKS[cfg.depth], WIDTHS)):
        for b in range(n_blocks):
            specs.append((f"s{s + 1}b{b + 1}", cin, width, 2 if (b == 0 and s > 0) else 1))
            cin = width
    names = tuple(n for n, *_ in specs)
    taus = area_taus(cfg.tau, names)
    areas = [Area(n, cout, tau=tau, learn_tau=cfg.learn_tau, recurrence=cfg.recurrence, t_recurrence=cfg.t_recurrence,
                  recurrence_gain=cfg.recurrence_gain if cfg.recurrence not in ("none", "identity") else None)
             for (n, _, cout, _), tau in zip(specs, taus)]
    conns = [Connection(specs[i - 1][0], n, BasicBlock(ci, co, st, g), cfg.t_feedforward)
             for i, (n, ci, co, st) in enumerate(specs) if i > 0]
    stem = nn.Sequential(nn.Conv2d(cfg.stem_in_channels, WIDTHS[0], 7, stride=2, padding=3, bias=False),
                         nn.GroupNorm(g, WIDTHS[0]), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1),
                         BasicBlock(WIDTHS[0], WIDTHS[0], 1, g))  # the first block's F acts on the stem
    readout = pooled_linear(WIDTHS[-1], cfg.num_classes)
    return AreaNetwork(areas, stem, conns, readout, **cfg.network_kwargs())


register_model(
    "rresnet", config=RResNetConfig, default_input=(3, 224, 224),
    citation="He et al. 2016 (ResNet) with recurrent areas per block, as in CordsNet / recurrent ResNets",
    description="Recurrent ResNet-18/34: each BasicBlock an area with gain-limited lateral recurrence; ImageNet scale",
)(build_rresnet)
