r"""Hugging Face ``transformers``: train a causal language model through the fused loss.

A causal LM's ``forward(input_ids, labels=labels)`` computes ``logits = lm_head(h)``
(``[B, T, V]``: at a vocabulary of 128k and 8k tokens, 4 GiB in float32, and as much
again for their log-softmax and for their gradient) only to reduce them to one number.
:func:`patch` replaces ``forward`` on *one model instance*: when ``labels`` are given and
the model is training, the loss is computed by :func:`crossent.fused.linear_cross_entropy`
from the last hidden states and ``lm_head.weight`` in chunks of rows, and ``logits`` is
returned as ``None``. The loss is transformers' own ``ForCausalLMLoss``:

.. math::
    \mathcal{L} = \frac{1}{n} \sum_{b,t:\ y'_{b,t} \ne -100}
        -\log \operatorname{softmax}\big(\operatorname{softcap}((W h_{b,t} + c)/T)\big)_{y'_{b,t}},
    \qquad y'_{b,t} = y_{b,t+1}\ (y'_{b,T-1} = -100)

— labels shifted by one (or the ``shift_labels`` given), ``n`` the number of non-ignored
labels, or ``num_items_in_batch`` when given (the sum over tokens divided by it: the
micro-batches of a gradient-accumulation step add up to the full batch's mean, which is
how ``transformers.Trainer`` calls the model); ``softcap(z) = cap·tanh(z/cap)`` with
``cap = config.final_logit_softcapping`` for the Gemma 2/3 families, and ``W h + c``
first scaled as Granite (``/ config.logits_scaling``) and Cohere (``· logit_scale``) scale
it (the fused op's ``temperature``). The hidden states are never copied (only the labels
are shifted), ``logits_to_keep`` selects the positions as the model would, and without
``labels`` the model's own ``forward`` runs unchanged.

The logits are skipped only where nothing reads them (``patch(model, skip_logits=None)``,
the default, as Liger-Kernel's ``skip_logits``): in eval mode (``model.eval()``, as
``Trainer.evaluate``/``predict`` set it) the model's own forward runs, so
``compute_metrics`` gets the logits and the loss is transformers'. ``skip_logits=True``
skips them whenever labels are given (a loss-only evaluation), ``False`` never; one call
can ask with ``model(..., skip_logits=...)``. ``transformers.Trainer`` trains the model as
it is (it reads the loss from the output).

With PEFT, patch the model before or after ``peft.get_peft_model`` (a PEFT model's base
model is patched): LoRA adapters inside the base model train through the fused loss; an
adapter or ``modules_to_save`` on ``lm_head`` itself turns it into something other than a
``Linear``, and the model's own forward then runs (with a ``RuntimeWarning``).
``torch.compile(model)`` traces the patched forward (the chunked loss included) without a
graph break of its own. The patch belongs to the instance, not to its weights:
``pickle``/``torch.save`` and ``copy.deepcopy`` carry it to the copy; ``save_pretrained``
writes the same files as for the unpatched model, and ``from_pretrained`` returns an
unpatched model: :func:`patch` it again.

Differences of the fused loss from the model's: 16-bit models get their logits in float32
(transformers rounds them to 16 bits before its float32 loss), so the loss is closer to
the exact one; a batch whose labels are all ``-100`` has loss 0 with zero gradients
(transformers: NaN). Under ``torch.autocast`` the head's product runs in the autocast
dtype, as ``F.linear``'s would, but its float32 result is not rounded to that dtype.

>>> import torch, transformers
>>> from crossent.integrations.transformers import patch
>>> config = transformers.LlamaConfig(vocab_size=97, hidden_size=16, intermediate_size=32,
...     num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1)
>>> _ = torch.manual_seed(0)
>>> model = transformers.LlamaForCausalLM(config)
>>> ids = torch.randint(0, 97, (2, 7))
>>> reference = model(input_ids=ids, labels=ids).loss
>>> out = patch(model)(input_ids=ids, labels=ids)  # a new model is in training mode
>>> out.logits is None, bool(torch.allclose(out.loss, reference, atol=1e-5))
(True, True)
>>> model.eval()(input_ids=ids, labels=ids).logits.shape  # evaluation gets its logits
torch.Size([2, 7, 97])
"""

from __future__ import annotations

import contextlib
import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import torch
import torch.nn.functional as F

from crossent.fused import linear_cross_entropy

try:
    from transformers import PreTrainedModel
    from transformers.loss.loss_utils import ForCausalLMLoss
    from transformers.modeling_outputs import CausalLMOutputWithPast
    from transformers.modeling_utils import slice_logits_to_keep
except ImportError as exc:  # pragma: no cover - the extra is installed with the tests
    raise ImportError(
        "crossent.integrations.transformers needs the transformers package: "
        "pip install 'crossent[transformers]'"
    ) from exc

__all__ = ["SUPPORTED_MODEL_TYPES", "HeadForm", "causal_lm_loss", "is_patched", "patch", "unpatch"]

Model = TypeVar("Model", bound=torch.nn.Module)


@dataclass(frozen=True)
class HeadForm:
    """How a family's ``forward`` turns ``lm_head``'s output ``z`` into the logits it scores:
    ``softcap(z / temperature)`` (the fused op's ``temperature=`` and ``softcap=``)."""

    softcapped: bool = False  # cap·tanh(·/cap), cap = config.final_logit_softcapping
    temperature: Callable[[Any], float] | None = None  # of the model; None: 1


SUPPORTED_MODEL_TYPES: dict[str, HeadForm] = {
    # each of these ForCausalLM.forward computes lm_head(slice_logits_to_keep(model(...))),
    # then the HeadForm, then ForCausalLMLoss (read in transformers 5.x, tested here)
    "llama": HeadForm(),
    "mistral": HeadForm(),
    "qwen2": HeadForm(),
    "qwen3": HeadForm(),
    "gemma": HeadForm(),
    "gemma2": HeadForm(softcapped=True),
    "gemma3_text": HeadForm(softcapped=True),
    "phi3": HeadForm(),
    "olmo2": HeadForm(),
    "granite": HeadForm(temperature=lambda m: float(m.config.logits_scaling)),  # z / scaling
    "cohere": HeadForm(temperature=lambda m: 1.0 / float(m.logit_scale)),  # z · logit_scale
}

# what the fused forward passes on from the base model's output (a constant: torch.compile
# does not trace dataclasses.fields)
_CARRIED = tuple(f.name for f in fields(CausalLMOutputWithPast) if f.name not in ("loss", "logits"))


@dataclass(frozen=True)
class _ForwardArguments:
    """One call of a causal LM's ``forward``, split the way the fused path needs it."""

    labels: torch.Tensor
    logits_to_keep: int | torch.Tensor
    return_dict: bool | None  # None: the config's
    base: dict[str, Any]  # what the base model receives (named arguments and **kwargs)


def patch(model: Model, *, skip_logits: bool | None = None) -> Model:
    """Make ``model`` compute its loss with the fused linear cross-entropy (see the module
    docstring); returns the same object. :func:`unpatch` undoes it; patching a patched
    model only sets its ``skip_logits`` again.

    Args:
      model: a supported causal LM, or a PEFT model wrapping one (its base model is
        patched, the adapters stay in place).
      skip_logits: when the fused loss replaces the logits. ``None`` (default): when
        ``labels`` are given and the model is training (``model.training``), as in
        ``Trainer.train``; in eval mode (``Trainer.evaluate``/``predict``) the model's own
        forward runs and returns its logits and loss. ``True``: whenever ``labels`` are
        given (a loss-only evaluation at a large vocabulary). ``False``: never. A call can
        override it: ``model(..., skip_logits=True)`` (then ``labels`` are required).

    Raises:
      TypeError: ``model`` is not a transformers ``PreTrainedModel``, or ``skip_logits``
        is not a bool or None.
      ValueError: its family is not in :data:`SUPPORTED_MODEL_TYPES`, it has no linear
        ``lm_head``, a loss other than ``ForCausalLMLoss``, or its ``forward`` was already
        replaced on the instance by something else (patch before wrapping it).
    """
    _check_skip_logits(skip_logits)
    target = _unwrap(model)
    _check_supported(target)
    current = vars(target).get("forward")
    if isinstance(current, _PatchedForward):
        current.skip_logits = skip_logits
        return model
    if current is not None:
        raise ValueError(
            f"model: its forward was already replaced on this instance "
            f"({current!r}); patch the model before wrapping it"
        )
    target.forward = _PatchedForward(target, skip_logits)  # this instance only
    return model


def unpatch(model: Model) -> Model:
    """Undo :func:`patch` (the class's ``forward`` applies again); returns ``model``."""
    target = _unwrap(model)
    if is_patched(target):
        del target.forward
    return model


def is_patched(model: torch.nn.Module) -> bool:
    """Whether :func:`patch` replaced ``model``'s forward (of a PEFT model: its base model's)."""
    return isinstance(vars(_unwrap(model)).get("forward"), _PatchedForward)


class _PatchedForward:
    """The ``forward`` of one patched model, kept in the instance's ``__dict__``.

    An object rather than a closure, so that ``pickle``/``torch.save`` and ``deepcopy``
    carry the patch (and its ``skip_logits``) to the copy, which it then refers to.
    """

    def __init__(self, model: PreTrainedModel, skip_logits: bool | None) -> None:
        self.model = model
        self.skip_logits = skip_logits

    @property
    def __signature__(self) -> inspect.Signature:
        """The class forward's, without ``self``: what ``Trainer`` and PEFT inspect."""
        return inspect.signature(type(self.model).forward.__get__(self.model))

    def __repr__(self) -> str:
        name = type(self.model).__name__
        return f"<crossent fused forward of {name}, skip_logits={self.skip_logits}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        model, forward = self.model, type(self.model).forward
        asked = kwargs.pop("skip_logits", None)
        _check_skip_logits(asked)
        bound = inspect.signature(forward).bind(model, *args, **kwargs)
        has_labels = bound.arguments.get("labels") is not None
        if asked is not None:
            if asked and not has_labels:
                raise ValueError("skip_logits: True needs labels (the loss replaces the logits)")
            skip = asked
        elif self.skip_logits is None:
            skip = model.training and has_labels  # the loss alone is needed when training
        else:
            skip = self.skip_logits and has_labels
        if not skip:
            return forward(model, *args, **kwargs)  # the model's own forward, unchanged
        if not isinstance(model.lm_head, torch.nn.Linear):
            kind = type(model.lm_head)
            warnings.warn(
                f"model.lm_head is a {kind.__module__}.{kind.__qualname__}, not a "
                "torch.nn.Linear (an adapter on the head?): the model's own forward computes "
                "the logits and the loss",
                RuntimeWarning,
                stacklevel=2,
            )
            return forward(model, *args, **kwargs)
        return _fused_forward(model, _split(bound))


def _check_skip_logits(skip_logits: object) -> None:
    if skip_logits is not None and not isinstance(skip_logits, bool):
        raise TypeError(f"skip_logits: expected True, False or None, got {skip_logits!r}")


def _unwrap(model: Any) -> Any:
    """A PEFT model's base model (``get_base_model()``); any other model as it is."""
    get_base = getattr(model, "get_base_model", None)
    if not isinstance(model, PreTrainedModel) and callable(get_base):
        base = get_base()
        if isinstance(base, PreTrainedModel):
            return base
    return model


def causal_lm_loss(
    hidden: torch.Tensor,
    lm_head: torch.nn.Linear,
    labels: torch.Tensor | None,
    *,
    shift_labels: torch.Tensor | None = None,
    num_items_in_batch: int | torch.Tensor | None = None,
    ignore_index: int = -100,
    softcap: float | None = None,
    temperature: float = 1.0,
) -> torch.Tensor:
    r"""transformers' ``ForCausalLMLoss(lm_head(hidden), labels)`` without the logits.

    Row ``i`` of ``hidden`` (flattened) is scored against target ``i`` of the shifted labels
    ``pad(labels, (0, 1), value=ignore_index)[..., 1:]`` (or of ``shift_labels`` when
    given): ``Σ_i ℓ_i / n`` with ``n`` the number of targets ``≠ ignore_index``, or
    ``num_items_in_batch``.

    Args:
      hidden: ``[..., D]`` final hidden states (not copied).
      lm_head: the ``Linear(D, V)`` output layer (its bias is used when present).
      labels: ``[..., T]`` token ids, ``ignore_index`` where no loss is wanted; unused when
        ``shift_labels`` is given.
      shift_labels: optional ``[..., T]`` already-shifted targets.
      num_items_in_batch: optional divisor (int or tensor) instead of the valid count.
      ignore_index: the label value that is skipped.
      softcap: optional ``cap > 0``: the logits are ``cap·tanh(z/cap)``.
      temperature: ``T > 0``: ``z`` is divided by it first.

    Returns:
      The float32 scalar loss.
    """
    if shift_labels is None:
        if labels is None:
            raise ValueError("labels: expected a tensor of token ids when shift_labels is None")
        shift_labels = F.pad(labels, (0, 1), value=ignore_index)[..., 1:]  # [..., T]
    targets = shift_labels.to(hidden.device).reshape(-1)  # [N]
    h = hidden.reshape(-1, hidden.shape[-1])  # [N, D], a view
    if h.shape[0] != targets.shape[0]:
        raise ValueError(
            f"labels: expected one label per hidden position ({h.shape[0]} positions kept of "
            f"hidden shape {list(hidden.shape)}), got {targets.shape[0]} labels"
        )
    h, weight, bias, precision = _float32_loss(h, lm_head)
    if isinstance(num_items_in_batch, torch.Tensor):
        num_items_in_batch = num_items_in_batch.to(h.device)
    with precision:
        return linear_cross_entropy(
            h,
            weight,
            targets,
            bias,
            ignore_index=ignore_index,
            softcap=softcap,
            temperature=temperature,
            num_items_in_batch=num_items_in_batch,
        )


def _float32_loss(
    hidden: torch.Tensor, lm_head: torch.nn.Linear
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, contextlib.AbstractContextManager[Any]]:
    """Hidden states, weight and bias for the fused op, and the context to call it in, so
    that the loss comes in float32 (as transformers returns it) without float32 copies.

    Under ``torch.autocast`` the op casts as ``F.linear`` would and returns a float32 loss.
    Outside it, mixed dtypes meet in the wider one, and 16-bit inputs run under an autocast
    to their own dtype: no cast, but a float32 loss, so that ``1/num_items_in_batch`` reaches
    the gradients unrounded.
    """
    w: torch.Tensor = lm_head.weight
    b: torch.Tensor | None = lm_head.bias
    kind = hidden.device.type
    if torch.is_autocast_enabled(kind):
        return hidden, w, b, contextlib.nullcontext()
    if hidden.dtype != w.dtype:
        dt = torch.promote_types(hidden.dtype, w.dtype)
        hidden, w, b = hidden.to(dt), w.to(dt), None if b is None else b.to(dt)
    sixteen = hidden.dtype in (torch.float16, torch.bfloat16)
    if sixteen and torch.amp.is_autocast_available(kind):
        return hidden, w, b, torch.autocast(kind, dtype=hidden.dtype)
    return hidden, w, b, contextlib.nullcontext()


def _fused_forward(
    model: PreTrainedModel, call: _ForwardArguments
) -> CausalLMOutputWithPast | tuple[Any, ...]:
    """The body of a supported ``ForCausalLM.forward`` with the fused loss in place of
    ``lm_head`` + ``loss_function``; a tuple for ``return_dict=False`` (as the model's
    ``can_return_tuple`` decorator does)."""
    outputs = model.model(**call.base)
    hidden = slice_logits_to_keep(outputs.last_hidden_state, call.logits_to_keep)
    head = SUPPORTED_MODEL_TYPES[model.config.model_type]
    loss = causal_lm_loss(
        hidden,
        model.lm_head,
        call.labels,
        shift_labels=call.base.get("shift_labels"),
        num_items_in_batch=call.base.get("num_items_in_batch"),
        ignore_index=call.base.get("ignore_index", -100),
        softcap=model.config.final_logit_softcapping if head.softcapped else None,
        temperature=1.0 if head.temperature is None else head.temperature(model),
    )
    carried = {name: getattr(outputs, name) for name in _CARRIED if hasattr(outputs, name)}
    output = CausalLMOutputWithPast(loss=loss, logits=None, **carried)
    return_dict = model.config.return_dict if call.return_dict is None else call.return_dict
    return output if return_dict else output.to_tuple()


def _split(bound: inspect.BoundArguments) -> _ForwardArguments:
    """labels and logits_to_keep apart; everything else (but ``self``) for the base model,
    as the model's forward would pass it (named arguments and ``**kwargs`` alike)."""
    base: dict[str, Any] = {}
    for i, (name, value) in enumerate(bound.arguments.items()):
        kind = bound.signature.parameters[name].kind
        if i == 0:  # self
            continue
        if kind is inspect.Parameter.VAR_KEYWORD:
            base.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                raise TypeError(f"forward: unexpected extra positional arguments {value!r}")
        else:
            base[name] = value
    labels = base.pop("labels")
    logits_to_keep = base.pop("logits_to_keep", 0)
    return _ForwardArguments(labels, logits_to_keep, base.pop("return_dict", None), base)


def _check_supported(model: torch.nn.Module) -> None:
    if not isinstance(model, PreTrainedModel):
        raise TypeError(
            f"model: expected a transformers PreTrainedModel (e.g. LlamaForCausalLM), "
            f"got {type(model).__name__}"
        )
    name, model_type = type(model).__name__, getattr(model.config, "model_type", None)
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ValueError(
            f"model: {name} (model_type {model_type!r}) is not supported; expected a causal "
            f"LM of model_type {sorted(SUPPORTED_MODEL_TYPES)}"
        )
    params = inspect.signature(type(model).forward).parameters
    kinds = {p.kind for p in params.values()}
    lm_head, base = getattr(model, "lm_head", None), getattr(model, "model", None)
    if (
        not isinstance(lm_head, torch.nn.Linear)
        or not isinstance(base, torch.nn.Module)
        or not {"labels", "logits_to_keep"} <= params.keys()
        or inspect.Parameter.VAR_KEYWORD not in kinds
    ):
        raise ValueError(
            f"model: expected a causal LM with a Linear lm_head, a base model `.model` and "
            f"forward(..., labels, logits_to_keep, **kwargs) (e.g. LlamaForCausalLM), got {name}"
        )
    if model.loss_function is not ForCausalLMLoss:
        raise ValueError(
            f"model: expected transformers' ForCausalLMLoss as {name}.loss_function (the "
            f"loss patch() computes), got {model.loss_function!r}"
        )
