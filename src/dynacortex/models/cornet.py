"""CORnet-RT (Kubilius et al. 2019) as a continuous-time area network.

Each area (V1, V2, V4, IT; 64/128/256/512 channels) obeys

    tau dr/dt = -r + Phi(I),   I = inp(r_below(t - t_feedforward)) + r(t - t_recurrence)
    inp(x) = ReLU(GN(conv_input(x))),   Phi(u) = ReLU(GN(conv1(u)))

with conv_input 7x7/4 for V1 (on the image) and 3x3/2 above, conv1 3x3 without bias, GroupNorm(32,
C), and a decoder (global average pool + linear) on IT at every step. The recurrence is the identity
(CORnet adds an area's previous output to its input), so the model has CORnet-RT's exact 4,701,066
parameters at 10 classes (5,208,936 at 1000).

Start-up (``skip_input_at_rest``, on by default): CORnet-RT gives V2, V4 and IT no input at t = 0, as
their sources have no output yet, so their first output is ReLU(norm1.bias). Here the input stage of
V2, V4 and IT contributes 0 while its source is still at rest (a read at t - t_feedforward <= 0 of a
run started from rest) instead of inp(0) = ReLU(GN(conv_input bias)). Off, the model is the plain ODE
above, in which a silent source drives its target with inp(0).

With ``dt = tau`` and Euler (the defaults: 10 ms each) a step is ``r_{n+1} = Phi(I_n)``: CORnet-RT's
discrete update, every area reading the area below and itself from the previous step. Against the
original's code with random weights (``tests/fixtures/cornet_rt_reference.pt``, 5 steps) every area's
output at every step agrees to 1.5e-6 and the logits to 1.4e-7 (max |difference| / max |original|).
Smaller ``dt`` gives the continuous-time model.

``load_cornet_rt_weights(model, path)`` loads the published state dict from a file on disk.
"""

from __future__ import annotations

from pathlib import Path

import torch
from pydantic import Field, field_validator, model_validator
from torch import Tensor, nn

from ..files import load_checkpoint
from ..layers import Area, Connection, pooled_linear
from .config import NetworkConfig, area_taus, check_channels
from .network import AreaNetwork
from .registry import register_model

__all__ = ["CORnetRTConfig", "build_cornet_rt", "load_cornet_rt_weights"]

AREA_NAMES = ("V1", "V2", "V4", "IT")


class CORnetRTConfig(NetworkConfig):
    channels: tuple[int, ...] = (64, 128, 256, 512)
    dt: float = Field(10.0, gt=0, description="integration step (ms)")
    tau: float | tuple[float, ...] = Field(10.0, description="time constant (ms)")
    norm_groups: int = Field(32, ge=1)
    skip_input_at_rest: bool = Field(
        True, description="CORnet-RT's start-up: the input stage of V2, V4 and IT gives 0 while its source is "
                          "at rest (CORnet's inp = 0 at t = 0), not ReLU(GN(conv_input bias)); False: the plain ODE")

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        return check_channels(v, AREA_NAMES)

    @model_validator(mode="after")
    def _groups(self) -> "CORnetRTConfig":
        bad = [c for c in self.channels if c % self.norm_groups]
        if bad:
            raise ValueError(f"norm_groups: {self.norm_groups} must divide every channel count, not {bad}")
        area_taus(self.tau, AREA_NAMES)
        if self.skip_input_at_rest and self.learn_delays:
            raise ValueError("skip_input_at_rest: needs fixed delays (a learnable delay has no rest time); "
                             "set skip_input_at_rest=False with learn_delays=True")
        return self


class GroupNorm(nn.GroupNorm):
    """``nn.GroupNorm`` that normalises channels-last CPU tensors on an NCHW copy: PyTorch's CPU kernel for
    channels-last input loses precision where a group's mean is large against its spread (V1 of the
    reference fixture at t = 0: 1.7e-5 relative to float64, the NCHW kernel 6.3e-7); same parameters."""

    def forward(self, x: Tensor) -> Tensor:
        if x.device.type != "cpu" or x.is_contiguous():
            return super().forward(x)
        return super().forward(x.contiguous()).contiguous(memory_format=torch.channels_last)


class Stage(nn.Sequential):
    """``ReLU(GN(conv(x)))``. ``skip_at_rest``: as a connection, it gives 0 while its source is at rest
    (read by :class:`~dynacortex.models.field.NetworkField`), CORnet-RT's start-up."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, groups: int, bias: bool,
                 skip_at_rest: bool = False):
        super().__init__(nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=bias),
                         GroupNorm(groups, cout), nn.ReLU())
        self.skip_at_rest = skip_at_rest


def build_cornet_rt(cfg: CORnetRTConfig) -> AreaNetwork:
    c, g = cfg.channels, cfg.norm_groups
    areas = [
        Area(name, ch, tau=tau, learn_tau=cfg.learn_tau, recurrence="identity", t_recurrence=cfg.t_recurrence,
             phi=Stage(ch, ch, 3, 1, g, bias=False))
        for name, ch, tau in zip(AREA_NAMES, c, area_taus(cfg.tau, AREA_NAMES))
    ]
    connections = [Connection(AREA_NAMES[i], AREA_NAMES[i + 1],
                              Stage(c[i], c[i + 1], 3, 2, g, bias=True, skip_at_rest=cfg.skip_input_at_rest),
                              cfg.t_feedforward) for i in range(3)]
    readout = pooled_linear(c[3], cfg.num_classes)
    stem = Stage(cfg.stem_in_channels, c[0], 7, 4, g, bias=True)
    return AreaNetwork(areas, stem, connections, readout, **cfg.network_kwargs())


register_model(
    "cornet_rt", config=CORnetRTConfig, default_input=(3, 224, 224),
    citation="Kubilius et al. 2019, Brain-like object recognition with high-performing shallow recurrent ANNs (CORnet)",
    description="CORnet-RT's V1/V2/V4/IT blocks (64-512 channels, GroupNorm) in continuous time; dt = tau is CORnet-RT",
)(build_cornet_rt)


def _published_names(model: AreaNetwork) -> dict[str, str]:
    """Published CORnet-RT key (without 'module.') -> this model's parameter name."""
    names = {"decoder.linear.weight": "readout.2.weight", "decoder.linear.bias": "readout.2.bias"}
    for i, area in enumerate(AREA_NAMES):
        inp = "stem" if i == 0 else f"connections.{i - 1}.op"
        names |= {
            f"{area}.conv_input.weight": f"{inp}.0.weight", f"{area}.conv_input.bias": f"{inp}.0.bias",
            f"{area}.norm_input.weight": f"{inp}.1.weight", f"{area}.norm_input.bias": f"{inp}.1.bias",
            f"{area}.conv1.weight": f"areas.{i}.phi.0.weight",
            f"{area}.norm1.weight": f"areas.{i}.phi.1.weight", f"{area}.norm1.bias": f"areas.{i}.phi.1.bias",
        }
    return names


def load_cornet_rt_weights(model: AreaNetwork, path: "str | Path", strict_decoder: bool = True,
                           trusted: bool = False) -> None:
    """Load CORnet-RT's published checkpoint (``{'state_dict': {'module.V1.conv_input.weight': ...}}``
    or a bare state dict) from ``path`` (weights only). With ``strict_decoder=False`` a decoder of
    another class count is skipped (e.g. ImageNet weights into a 10-class model). ``trusted``: see
    :func:`dynacortex.files.load_checkpoint`."""
    ckpt = load_checkpoint(path, trusted=trusted)
    state = ckpt.get("state_dict", ckpt)
    state = {k.removeprefix("module."): v for k, v in state.items()}
    names = _published_names(model)
    unknown = sorted(set(state) - set(names))
    missing = sorted(set(names) - set(state))
    if unknown or missing:
        raise ValueError(f"{path}: not a CORnet-RT state dict (unexpected keys {unknown[:5]}, missing {missing[:5]})")
    own = dict(model.named_parameters())
    mapped = {}
    for key, value in state.items():
        target = own[names[key]]
        if key.startswith("decoder") and target.shape != value.shape and not strict_decoder:
            continue
        if target.shape != value.shape:
            raise ValueError(f"{path}: {key} has shape {tuple(value.shape)}, the model expects {tuple(target.shape)}")
        mapped[names[key]] = value
    with torch.no_grad():
        for name, value in mapped.items():
            own[name].copy_(value)
