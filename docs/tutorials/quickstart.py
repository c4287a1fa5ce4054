"""Quickstart: build a model, run it in milliseconds, record its areas, train it for a few steps.

    python docs/tutorials/quickstart.py            # full settings (about a minute on a laptop CPU)
    python docs/tutorials/quickstart.py --tiny     # the settings the test suite uses (seconds)
"""

from __future__ import annotations

import sys

import torch
from sklearn.datasets import load_digits

import dynacortex as dc


def main(tiny: bool = False) -> dict:
    dc.flush_denormals()  # long simulations decay through denormal floats: flush them (README, "Semantics")
    torch.manual_seed(0)
    # 1. A model from the registry. Every keyword is a validated config field (times in ms).
    channels = (4, 8, 8, 16) if tiny else (36, 64, 121, 256)
    model = dc.create_model("dyrcnnx4", in_channels=1, channels=channels, recurrence="full",
                            recurrence_gain=0.9, operations=("norm", "activation"), dt=2.0, tau=5.0, t_feedforward=2.0, t_recurrence=6.0)

    # 2. Static images (B, C, H, W) are shown for n_steps steps; logits come at the end of every step.
    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0 - 0.5  # (1797, 1, 8, 8)
    labels = torch.tensor(digits.target)
    images = torch.nn.functional.interpolate(images, size=16, mode="bilinear", align_corners=False)
    n_steps = 10 if tiny else 20                                  # 20 or 40 ms at dt = 2 ms
    logits = model(images[:8], n_steps=n_steps)                   # (8, n_steps, 10)

    # 3. Record per-area rates over time (no autograd graph kept).
    with dc.record(model, areas=["V1", "IT"]) as rec:
        model(images[:8], n_steps=n_steps)
    print("IT rates", tuple(rec["IT"].shape), "at", rec.times[:3].tolist(), "ms ...")

    # 4. Train: cross-entropy on the readout of the last 5 steps, a plain PyTorch loop.
    #    (`dynacortex train CONFIG.yaml` does this with Lightning, checkpoints and run folders.)
    #    Tiny settings fit one fixed batch of 32 digits (the loss must fall); full settings train on 1500.
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    n_train, batch = (32, 32) if tiny else (1500, 64)
    steps = 25 if tiny else 300
    losses = []
    for step in range(steps):
        idx = torch.arange(batch) if tiny else torch.randint(0, n_train, (batch,))
        out = model(images[idx], n_steps=n_steps)
        loss = torch.nn.functional.cross_entropy(out[:, -5:].flatten(0, 1), labels[idx].repeat_interleave(5))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    with torch.no_grad():
        test = slice(n_train, n_train + 200)
        accuracy = (model(images[test], n_steps=n_steps)[:, -1].argmax(-1) == labels[test]).float().mean().item()
    print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; held-out accuracy {accuracy:.2f} (chance 0.10)")
    return {"logits": logits, "recording": rec.as_dict(), "times_ms": rec.times, "losses": losses,
            "accuracy": accuracy, "n_steps": n_steps}


if __name__ == "__main__":
    main(tiny="--tiny" in sys.argv)
