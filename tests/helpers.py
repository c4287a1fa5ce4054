"""Small networks for tests, built on the generic AreaNetwork; a one-thread context."""

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn

from dynacortex.layers import Adapter, Area, Connection
from dynacortex.models import AreaNetwork


def chain(n_areas=3, channels=4, *, delay=0.0, activation="tanh", recurrence="full", t_recurrence=0.0,
          form="rate", skip=True, solver="euler", dt=1.0, tau=5.0, in_channels=2):
    """A smooth chain of areas: stride-2 convs between areas, optional skip 0 -> 2 (adapter)."""
    areas = [Area(f"A{i}", channels, tau=tau, activation=activation, recurrence=recurrence,
                  t_recurrence=t_recurrence, form=form) for i in range(n_areas)]
    conns = [Connection(f"A{i}", f"A{i+1}", nn.Conv2d(channels, channels, 3, stride=2, padding=1), delay)
             for i in range(n_areas - 1)]
    if skip and n_areas > 2:
        conns.append(Connection("A0", "A2", Adapter(channels, channels), delay, kind="skip"))
    readout = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 3))
    return AreaNetwork(areas, nn.Conv2d(in_channels, channels, 3, padding=1), conns, readout,
                       in_channels=in_channels, dt=dt, solver=solver)


@contextmanager
def single_thread() -> Iterator[None]:
    """Run the block with one torch thread, then restore the thread count it found."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)
