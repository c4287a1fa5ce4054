"""DynVision 0.1.0 checkpoints: :func:`load_dynvision` builds the matching DyRCNNx4 and loads the weights.

DynVision's forward is a discrete-time recursion, not our ODE. The loaded model reproduces it with these
options, each an opt-in rule of the engine (defaults: the ODE) checked against DynVision 0.1.0's source
(``model_components``, ``base/temporal.py``, ``models/dyrcnn.py``) and its outputs
(``tests/fixtures/make_dynvision_reference.py``):

======================================  ==============================================================
DynVision 0.1.0                         option here
======================================  ==============================================================
``EulerStep`` then ReLU, the rectified  area ``update="rectified"``: ``r <- ReLU(r + dt/tau (I - r))``
rate stored and fed back
areas run V1 -> IT inside each step     network ``ordering="sequential"``
delays of ``t/dt`` steps                network ``delay_from="step_end"``; delays of ``L dt`` with
                                        ``L = int(t_recurrence/dt)``, ``int(t_feedforward/dt)``,
                                        ``round(t_skip/dt)``, ``round(t_feedback/dt)`` (0 recurrence or
                                        feedback steps read the previous step, as there)
``None`` before an input arrives        network ``start="on_input"`` (no bias from a silent source, a
                                        silent area stays 0, zero logits)
classifier on IT's delayed output       network ``readout_delay = L_ff dt``
skip/feedback ``nn.Upsample(nearest)``  ``resample="nearest"`` (1x1 conv with bias, then resampling)
recurrence layouts and biases           ``recurrence_layout="dynvision"``, ``recurrence_bias=bias``
``tau_V1`` ... per area                 ``tau`` per area (learnable if ``train_tau``)
======================================  ==============================================================

Measured against DynVision's own outputs for every recurrence type and the delay cases: every area at
every step and the logits agree to 2.6e-7 relative (max |difference| / max |DynVision|; 5.8e-7 for the
full-size DyRCNNx4); with any one of the options off they differ by 38 % or more (``tests/test_dynvision.py``,
``docs/comparison.md``).

Not supported (refused with a message): ``recurrence_target`` other than ``output``, multiplicative
feedback, ``dynamics_solver="rk4"``, ``supralinearity`` != 1, ``input_adaption_weight``, ``use_retina``,
``feedforward_only``, DyRCNNx2/x8, and delays whose reads DynVision's buffers (``int(history_length/dt)``
steps) never deliver. DynVision's ``idle_timesteps`` belong to its forward call, not to the
model: run that many blank frames first (``x = torch.cat([blank, x], 1)``) and drop their logits.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import Tensor, nn

from ..files import load_checkpoint
from ..layers.recurrence import DYNVISION_TYPES
from .network import AreaNetwork
from .registry import create_model

__all__ = ["load_dynvision", "dynvision_options", "DYNVISION_DEFAULTS"]

AREAS = ("V1", "V2", "V4", "IT")

#: DynVision 0.1.0's DyRCNNx4 defaults for what a state dict does not record (times in ms)
DYNVISION_DEFAULTS: dict[str, Any] = dict(
    dt=2.0, t_feedforward=0.0, t_recurrence=6.0, t_feedback=30.0, t_skip=0.0, train_tau=False,
    feedback_mode="additive", recurrence_target="output", dynamics_solver="euler", supralinearity=1.0,
    input_adaption_weight=0.0, use_retina=False, feedforward_only=False, idle_timesteps=0,
)
_ALIASES = {"trc": "t_recurrence", "tff": "t_feedforward", "tfb": "t_feedback", "tsk": "t_skip",
            "rctype": "recurrence_type", "rctarget": "recurrence_target", "solver": "dynamics_solver",
            "idle": "idle_timesteps", "ffonly": "feedforward_only", "taugrad": "train_tau", "supralin": "supralinearity",
            "inadapt": "input_adaption_weight", "fbmode": "feedback_mode"}
_SETTINGS = {*DYNVISION_DEFAULTS, "tau", "recurrence_type", "skip", "feedback", "n_classes", "bias"}
_REFUSED = {  # setting -> (the value DynVision's forward needs here, why)
    "recurrence_target": ("output", "only recurrence on the area's output is supported"),
    "feedback_mode": ("additive", "multiplicative feedback is not supported"),
    "dynamics_solver": ("euler", "DynVision's rk4 step is not supported"),
    "supralinearity": (1.0, "DynVision's SupraLinearity is not supported"),
    "input_adaption_weight": (0.0, "input adaptation is not supported"),
    "use_retina": (False, "DynVision's retina is not supported"),
    "feedforward_only": (False, "feedforward_only is not supported; use recurrence_type='none', skip and "
                                "feedback off"),
}


def dynvision_options(t_feedforward: float = 0.0) -> dict[str, Any]:
    """The ``create_model("dyrcnnx4", ...)`` options of DynVision 0.1.0's forward (see the module table);
    ``t_feedforward`` (a multiple of dt) sets the readout delay."""
    return dict(update="rectified", recurrence_layout="dynvision", recurrence_bias=True, resample="nearest",
                ordering="sequential", delay_from="step_end", start="on_input", readout_delay=t_feedforward,
                solver="euler", form="rate", activation="relu", t_feedforward=t_feedforward)


def _read(source: "str | Path | Mapping[str, Any]", trusted: bool) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """``(state dict, hyper-parameters)`` of a Lightning checkpoint, a state dict, or a file holding either."""
    raw = load_checkpoint(source, trusted=trusted) if isinstance(source, (str, Path)) else source
    if not isinstance(raw, Mapping):
        raise ValueError(f"load_dynvision: expected a state dict or a Lightning checkpoint, got {type(raw).__name__}")
    state = raw.get("state_dict", raw)
    hparams = dict(raw.get("hyper_parameters") or {}) if "state_dict" in raw else {}
    state = {k.removeprefix("module.").removeprefix("model."): v for k, v in state.items()}
    if not all(isinstance(v, Tensor) for v in state.values()):
        raise ValueError("load_dynvision: the state dict holds values that are not tensors")
    return state, hparams


def _recurrence_type(state: Mapping[str, Tensor]) -> str:
    """DynVision's recurrence type from V1's recurrence keys (and, for the two separable types, their order)."""
    keys = [k.removeprefix("V1.recurrence.") for k in state if k.startswith("V1.recurrence.")]
    if "local_conv.conv.weight" in keys:
        return "localdepthwise"
    if "flat_plane_mapping" in keys:
        return "local"
    if "conv.weight" in keys:
        return "full"
    if "depthwise_conv.weight" in keys:
        first = keys.index("depthwise_conv.weight") < keys.index("pointwise_conv.weight")
        return "depthpointwise" if first else "pointdepthwise"
    return "self" if "weight" in keys else "none"


def _kernel(state: Mapping[str, Tensor], kind: str) -> int:
    """The recurrence's (depthwise) kernel size; the sheet kernel of the local types follows the channels."""
    key = {"full": "conv.weight", "depthpointwise": "depthwise_conv.weight", "pointdepthwise": "depthwise_conv.weight",
           "localdepthwise": "patchy_conv.weight"}.get(kind)
    return int(state[f"V1.recurrence.{key}"].shape[-1]) if key else 3


def load_dynvision(source: "str | Path | Mapping[str, Any]", *, trusted: bool = False, **settings: Any) -> AreaNetwork:
    """Build the DyRCNNx4 that reproduces a DynVision 0.1.0 DyRCNNx4 and load its weights.

    Args:
        source: a Lightning checkpoint (``.ckpt``: its ``state_dict`` and ``hyper_parameters``), a state dict,
            or a file holding a state dict; DynVision's own key names.
        trusted: load Python objects other than tensors and plain values from a file (only for files you
            trust; Lightning checkpoints normally load without).
        settings: DynVision's constructor arguments (``dt``, ``tau``, ``t_feedforward``, ``t_recurrence``,
            ``t_feedback``, ``t_skip``, ``recurrence_type``, ``skip``, ``feedback``, ... or its short aliases),
            for what the source does not record (a bare state dict records no times: DynVision's defaults are
            used) or to override the checkpoint's hyper-parameters.

    The channels, classes, recurrence type, skips, feedback, biases and per-area taus come from the state dict
    (a conflicting setting raises). Returns the model with the options of :func:`dynvision_options`; its
    forward ``model(x)`` on DynVision's input ``(B, T, C, H, W)`` gives DynVision's logits, and
    :func:`dynacortex.record` its per-area rates at every step.
    """
    state, hparams = _read(source, trusted)
    given = {_ALIASES.get(k, k): v for k, v in settings.items()}
    unknown = sorted(set(given) - _SETTINGS)
    if unknown:
        raise ValueError(f"load_dynvision: unknown settings {unknown}; accepted are {sorted(_SETTINGS)}")
    cfg = {**DYNVISION_DEFAULTS, **{k: v for k, v in hparams.items() if k in _SETTINGS}, **given}
    missing = [f"{a}.conv.weight" for a in AREAS if f"{a}.conv.weight" not in state]
    if missing or any(k.startswith(("layer1.", "retina.", "input_adaption.")) for k in state) \
            or any(f"{a}.conv2.weight" in state for a in AREAS):
        raise ValueError("load_dynvision: not a DynVision DyRCNNx4 checkpoint (DyRCNNx2/x8, a retina or input "
                         f"adaptation are not supported; missing {missing})")
    for name, (need, why) in _REFUSED.items():
        if cfg[name] != need and not (isinstance(need, float) and float(cfg[name]) == need):
            raise ValueError(f"load_dynvision: {name}={cfg[name]!r}: {why}")
    if int(cfg["idle_timesteps"]) > 0:
        warnings.warn(f"load_dynvision: the checkpoint's idle_timesteps={cfg['idle_timesteps']} are part of "
                      "DynVision's forward call, not of the model: prepend that many blank frames and drop their "
                      "logits to reproduce it", stacklevel=2)

    kind = _recurrence_type(state)
    asked = str(cfg.get("recurrence_type", kind)).lower()
    if asked != kind:
        raise ValueError(f"load_dynvision: recurrence_type={asked!r}, but the state dict holds a {kind!r} recurrence")
    assert kind in DYNVISION_TYPES
    channels = tuple(int(state[f"{a}.conv.weight"].shape[0]) for a in AREAS)
    found = dict(n_classes=int(state["classifier.2.weight"].shape[0]), bias="V1.conv.bias" in state,
                 skip=any(f"addskip_{a}.conv.weight" in state for a in ("V4", "IT")),
                 feedback=any(f"addfeedback_{a}.conv.weight" in state for a in ("V1", "V2")))
    for name in ("skip", "feedback"):  # without its 1x1 convolution (equal channel counts) only the settings tell
        found[name] = found[name] or bool(cfg.get(name, False))
    for name, value in found.items():
        if name in cfg and cfg[name] != value:
            raise ValueError(f"load_dynvision: {name}={cfg[name]!r}, but the state dict has {name}={value!r}")
    dt = float(cfg["dt"])
    taus = tuple(float(state[f"tau_{a}"]) if f"tau_{a}" in state else float(cfg.get("tau", 5.0)) for a in AREAS)
    if "tau" in given:  # an explicit tau overrides the stored ones
        taus = tuple(given["tau"]) if isinstance(given["tau"], (tuple, list)) else (float(given["tau"]),) * 4

    # DynVision's delays in steps: int() for recurrence and feedforward, round() for skip and feedback; its
    # buffers hold int(history_length / dt) steps, and a longer read never arrives there
    lag_rc = int(float(cfg["t_recurrence"]) / dt)
    lag_ff = int(float(cfg["t_feedforward"]) / dt)
    lag_skip = int(round(float(cfg["t_skip"]) / dt))
    lag_fb = int(round(float(cfg["t_feedback"]) / dt))
    skip, feedback = found["skip"], found["feedback"]
    history = max(float(cfg["t_feedforward"]), float(cfg["t_recurrence"]),
                  float(cfg["t_feedback"]) if feedback else 0.0, float(cfg["t_skip"]) + dt if skip else 0.0)
    capacity = int(history / dt)
    if capacity < 1:
        raise ValueError(f"load_dynvision: with these delays DynVision 0.1.0 keeps no past state (its buffers hold "
                         f"int({history:g} / {dt:g}) = 0 steps) and then integrates the value before the ReLU: "
                         "not supported")
    for name, index, on in (("t_recurrence", max(lag_rc, 1), kind != "none"), ("t_feedforward", lag_ff, True),
                            ("t_skip", lag_skip + 1, skip), ("t_feedback", max(lag_fb, 1), feedback)):
        if on and index > capacity:
            raise ValueError(f"load_dynvision: {name}={cfg[name]} ms with dt={dt} ms reads {index} steps back, "
                             f"but DynVision 0.1.0 keeps {capacity}: that input never arrives there")

    model = create_model(
        "dyrcnnx4", channels=channels, in_channels=int(state["V1.conv.weight"].shape[1]),
        num_classes=found["n_classes"], recurrence=kind, dt=dt,
        tau=taus, learn_tau=bool(cfg["train_tau"]), t_recurrence=lag_rc * dt, t_skip=lag_skip * dt,
        t_feedback=lag_fb * dt, skip=skip, feedback=feedback, recurrence_kernel_size=_kernel(state, kind),
        **{**dynvision_options(lag_ff * dt), "recurrence_bias": found["bias"]})
    _load_weights(model, state, kind, found["bias"])
    return model


def _targets(model: AreaNetwork, kind: str) -> dict[str, nn.Module]:
    """DynVision's module prefix -> the module here holding the same weights (``weight``/``bias``)."""
    conn = {(c.src, c.dst): c.op for c in model.connections}
    out: dict[str, nn.Module] = {
        "V1.conv": model.stem, "V2.conv": conn["V1", "V2"][1], "V4.conv": conn["V2", "V4"][1],
        "IT.conv": conn["V4", "IT"], "classifier.2": model.readout[2],
    }
    for src, dst, key in (("V1", "V4", "addskip_V4"), ("V2", "IT", "addskip_IT"), ("V4", "V1", "addfeedback_V1"),
                          ("IT", "V2", "addfeedback_V2")):
        if (src, dst) in conn:
            out[f"{key}.conv"] = conn[src, dst].conv
    parts = {"self": {"": None}, "full": {"conv": None}, "local": {"conv": None},
             "depthpointwise": {"depthwise_conv": 0, "pointwise_conv": 1},
             "pointdepthwise": {"pointwise_conv": 0, "depthwise_conv": 1},
             "localdepthwise": {"local_conv.conv": 0, "patchy_conv": 1}}.get(kind, {})
    for area in model.areas:
        for name, index in parts.items():
            prefix = f"{area.name}.recurrence" + (f".{name}" if name else "")
            out[prefix] = area.recurrence if index is None else area.recurrence[index]
    return out


def _load_weights(model: AreaNetwork, state: Mapping[str, Tensor], kind: str, bias: bool) -> None:
    ignored = ("flat_plane_mapping", "flat_layer_mapping")
    used = {k for k in state if ".source." in k or k.startswith("tstep_") or k == "n_residual_timesteps"
            or k.endswith(ignored) or k.startswith("tau_")}
    copies: list[tuple[Tensor, Tensor, str]] = []
    for prefix, module in _targets(model, kind).items():
        for p in ("weight", "bias"):
            own = getattr(module, p, None)
            if own is None:
                continue
            key = f"{prefix}.{p}"
            if key not in state:
                if p == "bias" and not bias:  # DynVision built with bias=False: no bias there, 0 here
                    copies.append((own, torch.zeros_like(own), key))
                    continue
                if prefix.startswith("add") and own.shape[0] == own.shape[1]:  # equal channels: no conv there
                    eye = torch.eye(own.shape[0]).view_as(own) if p == "weight" else torch.zeros_like(own)
                    copies.append((own, eye, key))
                    continue
                raise ValueError(f"load_dynvision: the state dict has no {key}")
            value = state[key]
            if value.numel() != own.numel():
                raise ValueError(f"load_dynvision: {key} has shape {tuple(value.shape)}, the model expects "
                                 f"{tuple(own.shape)}")
            copies.append((own, value.reshape(own.shape), key))
            used.add(key)
    left = sorted(set(state) - used)
    if left:
        raise ValueError(f"load_dynvision: keys not understood {left[:6]}")
    with torch.no_grad():
        for own, value, _ in copies:
            own.copy_(value)
