r"""Targets of every row as one weight vector over the vocabulary, seen from one slice of it.

Every loss the fused op computes is, per row :math:`i` with logits :math:`z_i`,

.. math::
    \ell_i = A_i\,\mathrm{lse}(z_i) - a_i \cdot z_i, \qquad A_i = \sum_c a_{ic},

with the target written as a weight vector :math:`a_i` over the ``V`` classes:

- class targets: :math:`a_i = (1-\varepsilon)\,w_{y_i} e_{y_i} + \tfrac{\varepsilon}{V} w`
  (``w`` the class weights, 1 without them; :math:`\varepsilon` the label smoothing);
- probability targets: :math:`a_i = w \odot ((1-\varepsilon)\,y_i + \varepsilon/V)`;
- ignored rows: :math:`a_i = 0`.

Its logit gradient is :math:`\partial \ell_i / \partial z_i = A_i\,p_i - a_i`. A process holds
the classes ``[start, start + V_r)`` of a :class:`~crossent.fused.comm.Comm` (a single process:
all of them); :class:`Targets` gives that slice's share of :math:`a_i \cdot z_i` and of the
gradient, and the global row sums (:math:`A_i`, the class weight of the target, the
denominators of the mean) computed once, summed over the slices.
"""

from __future__ import annotations

import torch

from crossent.fused.comm import Comm
from crossent.fused.records import Options, RowStats, Statistics


class Targets:
    """The targets of ``N`` rows for one vocabulary slice (see the module docstring).

    Args:
      targets: ``[N]`` global class indices (``ignore_index`` rows skipped) or ``[N, V_r]``
        this slice's columns of probability targets.
      class_weight: ``[V_r]`` this slice's class weights, or ``None``.
      local: ``V_r``, the number of classes of this slice.
      options: the call's options (ignore_index, label_smoothing).
      comm: the slice's place in the vocabulary and its reductions.
      dtype: the accumulation dtype.
    """

    def __init__(
        self,
        targets: torch.Tensor,
        class_weight: torch.Tensor | None,
        local: int,
        options: Options,
        comm: Comm,
        dtype: torch.dtype,
    ) -> None:
        self.probabilities = targets.is_floating_point()
        self.pending: torch.Tensor | None = None  # [N, 2] a_sum, y_sum not yet summed
        self.raw = targets
        self.local, self.comm = local, comm
        self.eps, self.vocab = options.label_smoothing, comm.vocab
        self.class_weight = None if class_weight is None else class_weight.to(dtype)  # [V_r]
        n, dev = targets.shape[0], targets.device
        if self.probabilities:
            self.valid = torch.ones(n, dtype=torch.bool, device=dev)
            self.has_ignored = False
            self._init_probabilities(targets, dtype)
            self.denominator = torch.tensor(float(n), dtype=dtype, device=dev)
        else:
            self.valid = targets != options.ignore_index  # [N]
            # rows to mask in the gradient: known on the host for free on CPUs; on other
            # devices assumed (no synchronisation)
            self.has_ignored = not targets.is_cpu or not bool(self.valid.all())
            self._init_classes(targets, dtype)
            self.denominator = self.w_y.sum()  # Σ_i w_{y_i}
        self.n_valid = self.valid.sum().to(dtype)

    def _init_classes(self, targets: torch.Tensor, dtype: torch.dtype) -> None:
        start = self.comm.start
        self.owned = self.valid & (targets >= start) & (targets < start + self.local)  # [N]
        self.column = torch.where(self.owned, targets - start, 0)  # [N] local column
        v = self.valid.to(dtype)
        cw = self.class_weight
        if cw is None:
            self.w_y = v  # [N] class weight of the target × valid
            cw_sum = torch.tensor(float(self.vocab), dtype=dtype, device=v.device)
        else:  # the owner of the target knows its weight; all need it, and the global Σ w
            w_own = torch.where(self.owned, cw[self.column], 0.0) if self.local else 0 * v
            sums = self.comm.all_sum(torch.cat([w_own, cw.sum()[None]]))
            self.w_y, cw_sum = sums[:-1], sums[-1]
        self.a_sum = (1 - self.eps) * self.w_y + (self.eps / self.vocab) * cw_sum * v  # A_i
        self.y_sum = v  # Σ_c y_ic of the raw targets
        self.stat_class = torch.where(self.valid, targets, -1)  # the class that is correct

    def _init_probabilities(self, y: torch.Tensor, dtype: torch.dtype) -> None:
        cw = self.class_weight
        w_sum = float(self.local) if cw is None else cw.sum()
        y_sum = y.sum(1, dtype=dtype)  # [N]
        y_w = y_sum if cw is None else y.to(dtype) @ cw  # [N]
        a_sum = (1 - self.eps) * y_w + (self.eps / self.vocab) * w_sum
        sums = torch.stack([a_sum, y_sum], 1)  # [N, 2]: this slice's shares
        if getattr(self.comm, "lazy_sums", False):  # summed by the chunk loop (see pending)
            self.pending = sums
        else:
            self.comm.all_sum(sums)
        self.a_sum, self.y_sum = sums[:, 0], sums[:, 1]  # views: summed in place
        self._y = y  # [N, V_r], in its own dtype

    def statistics_class(self) -> torch.Tensor:
        """``[N]`` the global class whose being the first argmax counts as correct: the
        target (−1 on ignored rows), or the first argmax of a probability target row."""
        if not self.probabilities:
            return self.stat_class
        y = self._y
        if self.local:
            best, first = y.max(1)
        else:  # an empty slice holds no candidate
            best = y.new_full((y.shape[0],), -torch.inf)
            first = torch.zeros(y.shape[0], dtype=torch.long, device=y.device)
        top = self.comm.all_max(best.clone())
        return self.comm.first_argmax(best, first, top)

    def weights(self, rows: slice, like: torch.Tensor) -> torch.Tensor | None:
        """Probability targets: ``a [c, V_r]`` of a chunk; class targets: ``None`` (their
        ``a`` is never materialised)."""
        if not self.probabilities:
            return None
        a = self._y[rows].to(like.dtype)
        if self.eps > 0:
            a = a * (1 - self.eps) + self.eps / self.vocab
        return a if self.class_weight is None else a * self.class_weight

    def a_dot(self, rows: slice, z: torch.Tensor, a: torch.Tensor | None) -> torch.Tensor:
        """This slice's share of ``a_i · z_i`` for a chunk ``z [c, V_r]`` (``a`` from
        :meth:`weights`)."""
        if a is not None:
            return _dot_rows(a, z)
        part = (1 - self.eps) * self.w_y[rows] * self.pick(rows, z)
        if self.eps > 0:
            cw = self.class_weight
            w_dot_z = z.sum(1) if cw is None else z @ cw
            part = part + (self.eps / self.vocab) * self.valid[rows].to(z.dtype) * w_dot_z
        return part

    def y_dot(self, rows: slice, z: torch.Tensor) -> torch.Tensor:
        """This slice's share of ``y_i · z_i`` of the raw targets (for statistics)."""
        if self.probabilities:
            return _dot_rows(self._y[rows].to(z.dtype), z)
        return self.pick(rows, z)

    def pick(self, rows: slice, z: torch.Tensor) -> torch.Tensor:
        """``z[i, y_i]`` where this slice owns the target class, else 0 ``[c]``."""
        if z.shape[1] == 0:
            return z.new_zeros(z.shape[0])
        z_y = z.gather(1, self.column[rows, None]).view(-1)
        return torch.where(self.owned[rows], z_y, 0.0)

    def target_grad_(self, g_y: torch.Tensor, lse: torch.Tensor, scale: torch.Tensor) -> None:
        """Probability targets: ``g_y [c, V_r]`` holds the chunk's logits; it becomes
        :math:`\\partial \\ell / \\partial y = -s_i (1-\varepsilon)\\, w \\odot (z_i -
        \\mathrm{lse}_i)`, in place."""
        g_y.sub_(lse[:, None]).mul_((-(1 - self.eps) * scale)[:, None])
        if self.class_weight is not None:
            g_y.mul_(self.class_weight)

    def subtract_(
        self, g: torch.Tensor, rows: slice, scale: torch.Tensor, a: torch.Tensor | None
    ) -> None:
        """``g -= scale_i · a_i`` on this slice's columns, in place (``g [c, V_r]``)."""
        if a is not None:
            g.addcmul_(scale[:, None], a, value=-1.0)
            return
        if g.shape[1] == 0:
            return
        own_w = torch.where(self.owned[rows], self.w_y[rows], 0.0)
        g.scatter_add_(1, self.column[rows, None], (-(1 - self.eps) * scale * own_w)[:, None])
        if self.eps > 0:
            smooth = scale * (self.eps / self.vocab) * self.valid[rows].to(g.dtype)
            if self.class_weight is None:
                g.sub_(smooth[:, None])
            else:
                g.addr_(smooth, self.class_weight, alpha=-1.0)

    def statistics(self, lse: torch.Tensor, stats: RowStats) -> Statistics:
        """Entropy, target log-probability and correctness per row.

        ``target_logprob`` is :math:`\\sum_c y_c z_c - (\\sum_c y_c)\\,\\mathrm{lse}` (class
        targets: :math:`\\log p_{y}`, 0 on ignored rows); ``correct``: the first argmax of
        the logits is the statistics class (:meth:`statistics_class`)."""
        logprob = stats.y_dot_z - self.y_sum.to(lse.dtype) * lse
        correct = self.valid & (stats.argmax == self.statistics_class())
        return Statistics(stats.entropy, logprob, correct)


def _dot_rows(a: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """``Σ_c a_ic z_ic`` per row, a zero weight on a ``-inf`` logit contributing 0 (not NaN).

    One batched product; only rows whose result is NaN (a 0·±inf, or a NaN logit) are
    summed again elementwise, so the common case checks ``[c]`` values, not ``[c, V_r]``."""
    dots = torch.bmm(a.unsqueeze(1), z.unsqueeze(2)).view(-1)
    bad = torch.isnan(dots)
    if bool(bad.any()):
        inf = float("inf")
        fixed = (a[bad] * z[bad]).nan_to_num_(nan=0.0, posinf=inf, neginf=-inf).sum(1)
        dots[bad] = fixed
    return dots
