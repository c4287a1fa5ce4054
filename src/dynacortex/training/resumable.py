"""A training data loader that resumes mid-epoch: a checkpoint records how many batches it served.

Lightning saves the ``state_dict()`` of every loader that has one in each checkpoint, and hands it
back through ``load_state_dict`` when a run restarts mid-epoch. The loader's state is the epoch and
the number of batches it has served in it; on restart the batch sampler skips that many batches of
the same epoch's order (the indices only: no skipped image is loaded), so the resumed run sees
exactly the batches the uninterrupted run would have seen next. At an epoch boundary Lightning
loads no loader state and the next epoch starts from its first batch.
"""

from __future__ import annotations

import itertools
from typing import Any, Iterator

from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler

__all__ = ["ResumableLoader"]


class _SkippingBatchSampler(BatchSampler):
    """A batch sampler whose next iteration can start ``skip`` batches in."""

    skip = 0

    def __iter__(self) -> Iterator[list[int]]:
        skip, self.skip = self.skip, 0
        return itertools.islice(super().__iter__(), skip, None)


class ResumableLoader(DataLoader):
    """``DataLoader(dataset, batch_size, sampler=sampler, **kwargs)`` that Lightning can resume mid-epoch.

    ``sampler`` must have an ``epoch`` attribute set by ``set_epoch`` (as
    :class:`~dynacortex.data.EpochShuffleSampler` and ``DistributedSampler`` have): the skip applies
    only when the restarted epoch is the one the state was saved in.
    """

    def __init__(self, dataset: Dataset, batch_size: int, sampler: Sampler, **kwargs: Any) -> None:
        super().__init__(dataset, batch_sampler=_SkippingBatchSampler(sampler, batch_size, drop_last=False), **kwargs)
        self._epoch, self._served = -1, 0
        self._pending: "dict[str, int] | None" = None

    def __iter__(self) -> Iterator[Any]:  # a generator: runs at the first batch, after set_epoch
        epoch = int(getattr(self.batch_sampler.sampler, "epoch", 0))
        pending, self._pending = self._pending, None
        skip = pending["batches"] if pending is not None and pending["epoch"] == epoch else 0
        self.batch_sampler.skip = skip
        self._epoch, self._served = epoch, skip
        for batch in super().__iter__():
            self._served += 1
            yield batch

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self._epoch, "batches": self._served}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self._pending = {"epoch": int(state["epoch"]), "batches": int(state["batches"])}
