"""Published layouts load and reproduce the originals' own outputs.

The fixtures were made by running the original code with random weights (CordsNet: wmws2/cordsnet;
CORnet-RT: dicarlolab/CORnet); see ``tests/fixtures/make_*_reference.py``. Each holds the original's
state dict (its own key names), the stimulus, the rates of every area after every step, and the logits.
Error measure: per area and step, max |ours - original| / max |original|.
"""

from pathlib import Path

import pytest
import torch

import dynacortex as dc
from dynacortex.models.cordsnet import load_cordsnet_weights
from dynacortex.models.cornet import load_cornet_rt_weights

FIXTURES = Path(__file__).parent / "fixtures"
TOL = 1e-5


def relative_error(ours: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Per step (dim 1): max |ours - ref| / max |ref| over batch and units."""
    diff = (ours.double() - ref.double()).abs().transpose(0, 1).flatten(1).amax(1)
    return diff / ref.double().abs().transpose(0, 1).flatten(1).amax(1)


def run_recorded(model, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    with dc.record(model) as rec, torch.no_grad():
        logits = model(x)
    return logits, rec.as_dict()


def test_cordsnet_reproduces_the_original():
    """CordsNet's ``rnn`` step r <- (1 - alpha) r + alpha ReLU(area_conv(r) + b + area_area(h)), 20 blank
    steps then 20 image steps: every area's rates at every step and the logits."""
    ref = torch.load(FIXTURES / "cordsnet_reference.pt")
    model = dc.create_model("cordsnet", channels=tuple(ref["channels"]), input_size=ref["input_size"],
                            dt=2.0, tau=2.0 / ref["alpha"])
    load_cordsnet_weights(model, FIXTURES / "cordsnet_reference.pt")
    image = ref["image"].unsqueeze(1)
    x = torch.cat([torch.zeros_like(image).expand(-1, ref["idle_steps"], -1, -1, -1),
                   image.expand(-1, ref["image_steps"], -1, -1, -1)], dim=1)
    logits, rates = run_recorded(model, x)
    for i, r in enumerate(ref["rates"]):
        err = relative_error(rates[f"A{i}"], r)
        assert err.max() <= TOL, (f"A{i}", err.max().item(), int(err.argmax()))
    assert relative_error(logits, ref["logits"]).max() <= TOL
    assert relative_error(rates["A7"][:, -1:], rates["A7"][:, 19:20]).max() > 0.1  # the image matters


def test_cordsnet_loader_refuses_a_swapped_layout(tmp_path):
    """Recurrent and input weights of a stride-2 area have different shapes: a swap is refused by name."""
    ref = torch.load(FIXTURES / "cordsnet_reference.pt")
    state = dict(ref["state_dict"])
    for suffix in ("original0", "original1"):
        a, b = f"area_conv.2.parametrizations.weight.{suffix}", f"area_area.2.parametrizations.weight.{suffix}"
        state[a], state[b] = state[b], state[a]
    torch.save(state, tmp_path / "swapped.pth")
    model = dc.create_model("cordsnet", channels=tuple(ref["channels"]), input_size=ref["input_size"])
    with pytest.raises(ValueError, match=r"area_(conv|area)\.2\.parametrizations\.weight\.original1 has shape"):
        load_cordsnet_weights(model, tmp_path / "swapped.pth")


def test_cornet_rt_reproduces_the_original():
    """CORnet-RT's forward (times = 5), including its start-up: at t = 0 V2, V4 and IT get no input, so
    their output is ReLU(norm1.bias). Every area's output at every step and the logits."""
    ref = torch.load(FIXTURES / "cornet_rt_reference.pt")
    model = dc.create_model("cornet_rt", channels=tuple(ref["channels"]))  # dt = tau = 10 ms
    load_cornet_rt_weights(model, FIXTURES / "cornet_rt_reference.pt")
    logits, outputs = run_recorded(model, ref["image"].unsqueeze(1).expand(-1, ref["times"], -1, -1, -1))
    for name, out in ref["outputs"].items():
        err = relative_error(outputs[name], out)
        assert err.max() <= TOL, (name, err.tolist())
    assert relative_error(logits, ref["logits"]).max() <= TOL
