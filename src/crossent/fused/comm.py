"""Where the vocabulary lives: one process, or slices over a ``torch.distributed`` group.

The chunk loop (:mod:`crossent.fused.loop`) and the targets (:mod:`crossent.fused.targets`)
see the vocabulary through a :class:`Comm`: this process's slice ``[start, start + V_r)`` of
the global ``V`` classes, and three reductions over the slices. A single process is the
slice ``[0, V)`` whose reductions do nothing (:class:`Local`); :class:`Distributed` all-reduces
over the group, each call one collective (Megatron-LM's vocabulary-parallel cross-entropy,
Cut Cross-Entropy's ``vp_reduce_*`` helpers).

Every reduction works in place on its argument and returns it; :meth:`Distributed.gather_rows`
stacks every rank's statistics with one collective (the chunk loop's online log-sum-exp
combine), :meth:`Distributed.start_sum` starts a sum to overlap with computation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Local:
    """The whole vocabulary in this process: reductions are the identity."""

    vocab: int  # global V

    @property
    def start(self) -> int:
        return 0

    def all_max(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def all_min(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def all_sum(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def start_sum(self, x: torch.Tensor) -> Any:
        """Begin summing ``x`` in place over the slices; ``None``: nothing to wait for."""
        return None

    def gather_rows(self, x: torch.Tensor) -> torch.Tensor:
        """Every slice's ``x`` stacked ``[slices, *x.shape]``: here ``x[None]``."""
        return x[None]

    def first_argmax(
        self, local_max: torch.Tensor, local_index: torch.Tensor, row_max: torch.Tensor
    ) -> torch.Tensor:
        """The global class of each row's first maximum ``[N]``: here, the local one."""
        return local_index


@dataclass(frozen=True)
class Distributed:
    """This rank holds classes ``[start, start + V_r)`` of ``vocab``; reductions run over
    ``group`` (``None``: the default group)."""

    vocab: int  # global V
    start: int  # first global class of this rank's slice
    group: Any
    lazy_sums: bool = True  # probability targets' row sums ride on the loop's first exchange

    def all_max(self, x: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        dist.all_reduce(x, op=dist.ReduceOp.MAX, group=self.group)
        return x

    def all_min(self, x: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        dist.all_reduce(x, op=dist.ReduceOp.MIN, group=self.group)
        return x

    def all_sum(self, x: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        dist.all_reduce(x, group=self.group)
        return x

    def start_sum(self, x: torch.Tensor) -> Any:
        """Begin the in-place all-reduce SUM of ``x``; returns the work to ``wait()`` on (the
        caller computes meanwhile)."""
        import torch.distributed as dist

        return dist.all_reduce(x, group=self.group, async_op=True)

    def gather_rows(self, x: torch.Tensor) -> torch.Tensor:
        """Every rank's ``x`` stacked ``[ranks, *x.shape]`` in rank order, with one all-reduce
        SUM (each rank fills its own slot): one collective for any number of statistics."""
        import torch.distributed as dist

        slots = x.new_zeros(dist.get_world_size(self.group), *x.shape)
        slots[dist.get_rank(self.group)] = x
        dist.all_reduce(slots, group=self.group)
        return slots

    def first_argmax(
        self, local_max: torch.Tensor, local_index: torch.Tensor, row_max: torch.Tensor
    ) -> torch.Tensor:
        """The smallest global class where each row reaches its global maximum ``row_max``,
        from this slice's maximum and its first index ``[N]`` (one all-reduce MIN)."""
        here = torch.where(local_max == row_max, local_index + self.start, self.vocab)
        return self.all_min(here.long())


Comm = Local | Distributed
