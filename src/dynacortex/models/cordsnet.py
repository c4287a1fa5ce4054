"""CordsNet (Soo, Battista, Radmard & Wang 2024): a ResNet-18-like convolutional RNN dynamical system.

Eight areas A0..A7 (64, 64, 128, 128, 256, 256, 512, 512 channels; input strides 1,1,2,1,2,1,2,1):

    tau dr_l/dt = -r_l + ReLU(W_rec,l r_l + b_l + W_in,l h_l),   alpha = dt/tau = 0.2 (2 ms, 10 ms)

with b_l a bias per channel *and* pixel (C, H, W), W_rec and W_in 3x3 convolutions without bias, and
every convolution and the readout weight-normalised. The area inputs h_l follow ResNet-18's wiring:
h_0 = stem(x) (7x7/2 conv, then 3x3/2 average pool), h_1 = r_0 + S_in(stem(x)), h_2 = r_1 + r_0,
h_3 = r_2 + S_0(r_1), h_4 = r_3 + r_2, h_5 = r_4 + S_1(r_3), h_6 = r_5 + r_4, h_7 = r_6 + S_2(r_5)
(S: 1x1 stride-2 convolutions, S_in 3x3). Since W_in is linear, each h_l is split into connections
that share W_in,l. Readout: W(avgpool(r_7 + r_6)).

With Euler and zero delays (defaults) a step is CordsNet's synchronous update
``r <- (1 - alpha) r + alpha ReLU(...)`` from the previous step's rates. Against the original's code with
random weights (``tests/fixtures/cordsnet_reference.pt``: 20 blank + 20 image steps, loaded with
:func:`load_cordsnet_weights`) every area's rates at every step agree to 5.9e-7 and the logits to
3.6e-7 (max |difference| / max |original|). The paper first runs 100 blank
steps (spontaneous steady state), then 100 with the image: use ``presentation.idle_ms = 200`` in
training configs. The spatial biases fix the input size (``input_size``, 224 by default):
11,966,420 parameters at 10 classes, 12,475,280 at 1000.
"""

from __future__ import annotations

from pathlib import Path

import torch
from pydantic import Field, field_validator
from torch import Tensor, nn
from torch.nn.utils.parametrizations import weight_norm

from ..files import load_checkpoint
from ..layers import Area, Connection
from .config import NetworkConfig, area_taus
from .network import AreaNetwork
from .registry import register_model

__all__ = ["CordsNetConfig", "build_cordsnet", "load_cordsnet_weights"]

STRIDES = (1, 1, 2, 1, 2, 1, 2, 1)


class CordsNetConfig(NetworkConfig):
    channels: tuple[int, ...] = (64, 64, 128, 128, 256, 256, 512, 512)
    input_size: int = Field(224, ge=16, description="image height = width (the spatial biases depend on it)")
    dt: float = Field(2.0, gt=0)
    tau: float | tuple[float, ...] = 10.0

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if len(v) != 8 or any(c < 1 for c in v) or any(v[i] != v[i + 1] for i in (0, 2, 4, 6)):
            raise ValueError(f"must be 8 positive channel counts in equal pairs (like 64,64,128,128,...), got {v}")
        return v


class SpatialBias(nn.Module):
    """A learned bias per channel and pixel, ``x + b`` with ``b`` of shape (C, H, W), initialised to 0."""

    def __init__(self, channels: int, size: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels, size, size))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.bias


class PooledSum(nn.Module):
    """Readout ``W avgpool(a + b)`` of two areas' rates."""

    def __init__(self, channels: int, classes: int):
        super().__init__()
        self.linear = weight_norm(nn.Linear(channels, classes))

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        return self.linear((a + b).mean(dim=(2, 3)))


def _conv(cin: int, cout: int, k: int, stride: int = 1) -> nn.Module:
    return weight_norm(nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False))


def _out(n: int, k: int, s: int) -> int:
    return (n + 2 * (k // 2) - k) // s + 1


def build_cordsnet(cfg: CordsNetConfig) -> AreaNetwork:
    c, names = cfg.channels, tuple(f"A{i}" for i in range(8))
    size = _out(_out(cfg.input_size, 7, 2), 3, 2)
    sizes = []
    for s in STRIDES:
        size = _out(size, 3, s)
        sizes.append(size)
    areas = [Area(n, ch, tau=tau, learn_tau=cfg.learn_tau, recurrence=_conv(ch, ch, 3), t_recurrence=cfg.t_recurrence,
                  phi=nn.Sequential(SpatialBias(ch, hw), nn.ReLU()))
             for n, ch, hw, tau in zip(names, c, sizes, area_taus(cfg.tau, names))]
    w_in = [_conv(c[i - 1] if i else c[0], c[i], 3, STRIDES[i]) for i in range(8)]
    skips = [_conv(c[2 * j + 1], c[2 * j + 3], 1, 2) for j in range(3)]  # S_0, S_1, S_2
    ff = cfg.t_feedforward
    conns = [Connection(names[i - 1], names[i], w_in[i], ff) for i in range(1, 8)]
    conns += [Connection(names[i - 2], names[i], w_in[i], ff, kind="skip") for i in (2, 4, 6)]  # identity skips
    conns += [Connection(names[i - 2], names[i], nn.Sequential(skips[j], w_in[i]), ff, kind="skip")
              for j, i in enumerate((3, 5, 7))]
    stem = nn.Sequential(_conv(cfg.stem_in_channels, c[0], 7, 2), nn.AvgPool2d(3, stride=2, padding=1))
    paths = [("A0", w_in[0]), ("A1", nn.Sequential(_conv(c[0], c[0], 3), w_in[1]))]  # S_in, then W_in,1
    return AreaNetwork(areas, stem, conns, PooledSum(c[7], cfg.num_classes), stimulus_paths=paths,
                       readout_from=("A6", "A7"), **cfg.network_kwargs())


register_model(
    "cordsnet", config=CordsNetConfig, default_input=(3, 224, 224),
    citation="Soo, Battista, Radmard & Wang 2024, Recurrent neural network dynamical systems for biological vision (NeurIPS)",
    description="CordsNet-R8: 8 recurrent conv areas with ResNet-18 wiring, spatial biases, weight norm; tau 10 ms",
)(build_cordsnet)


def _published_names(model: AreaNetwork) -> dict[str, str]:
    """Published CordsNet-R8 key (cordsnetr8.pth) -> this model's parameter name.

    The original's step is ``r_l <- (1 - alpha) r_l + alpha ReLU(area_conv.l(r_l) + conv_bias.l +
    area_area.l(h_l))``: ``area_conv.l`` is the recurrent W_rec,l (C_l -> C_l) and ``area_area.l`` the
    input weight W_in,l (C_{l-1} -> C_l, strided); ``inp_skip`` is S_in and ``skip_area.j`` is S_j.
    """
    own = {id(p): n for n, p in model.named_parameters()}  # shared modules: the first name
    wn = ("parametrizations.weight.original0", "parametrizations.weight.original1")

    def pair(prefix: str, module: nn.Module) -> dict[str, str]:
        return {f"{prefix}.{w}": own[id(module.get_parameter(w))] for w in wn}

    names = pair("inp_conv", model.stem[0]) | pair("inp_skip", model.stimulus_paths["A1"][0])
    for i, area in enumerate(model.areas):
        w_in = model.stimulus_paths["A0"] if i == 0 else next(c.op for c in model.connections if c.dst == area.name and c.kind == "feedforward")
        names |= pair(f"area_conv.{i}", area.recurrence) | pair(f"area_area.{i}", w_in)
        names[f"conv_bias.{i}"] = own[id(area.phi[0].bias)]
    skips = [c.op[0] for c in model.connections if c.kind == "skip" and isinstance(c.op, nn.Sequential)]
    for j, s in enumerate(skips):
        names |= pair(f"skip_area.{j}", s)
    names |= pair("out_fc", model.readout.linear)
    names["out_fc.bias"] = own[id(model.readout.linear.bias)]
    return names


def load_cordsnet_weights(model: AreaNetwork, path: "str | Path", trusted: bool = False) -> None:
    """Load CordsNet's published ``cordsnetr8.pth`` (53 tensors, no 'module.' prefix; a ``state_dict``
    entry of a larger dict also works) from disk.

    ``area_conv.l`` is the recurrent W_rec,l and ``area_area.l`` the input weight W_in,l (see
    :func:`_published_names`); a shape mismatch raises naming the key. Checked against the original's
    own code (``tests/fixtures/cordsnet_reference.pt``, see the module docstring).
    """
    state = load_checkpoint(path, trusted=trusted)
    state = {k.removeprefix("module."): v for k, v in state.get("state_dict", state).items()}
    names = _published_names(model)
    if set(state) != set(names):
        raise ValueError(f"{path}: not a CordsNet-R8 state dict (unexpected {sorted(set(state) - set(names))[:4]}, "
                         f"missing {sorted(set(names) - set(state))[:4]})")
    own = dict(model.named_parameters())
    for key, value in state.items():
        if own[names[key]].shape != value.shape:
            raise ValueError(f"{path}: {key} has shape {tuple(value.shape)}, the model expects {tuple(own[names[key]].shape)}")
    with torch.no_grad():
        for key, value in state.items():
            own[names[key]].copy_(value)
