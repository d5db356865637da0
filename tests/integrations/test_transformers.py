"""crossent.integrations.transformers: patched Hugging Face causal LMs against a float64
oracle built from the unpatched model (its last hidden state and lm_head in float64), and
against transformers' own loss, on tiny randomly initialised models (no downloads)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch
import torch.nn.functional as F

transformers = pytest.importorskip("transformers")

from crossent.integrations import transformers as integration  # noqa: E402
from crossent.integrations.transformers import (  # noqa: E402
    SUPPORTED_MODEL_TYPES,
    causal_lm_loss,
    is_patched,
    patch,
    unpatch,
)

from .hf_models import (  # noqa: E402
    FAMILIES,
    VOCAB,
    assert_grads_close,
    batch,
    grads,
    oracle_loss,
    shifted,
    tiny,
)


def test_every_supported_family_is_tested() -> None:
    assert set(FAMILIES) == set(SUPPORTED_MODEL_TYPES)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_loss_and_every_gradient_match_float64_oracle(family: str, dtype: torch.dtype) -> None:
    reference = tiny(family, dtype)
    model = patch(copy.deepcopy(reference))
    ids, labels = batch()
    out = model(input_ids=ids, labels=labels)
    assert out.logits is None and out.loss.dtype == torch.float32
    out.loss.backward()
    truth = oracle_loss(reference, ids, labels)
    truth.backward()
    unpatched = copy.deepcopy(reference)
    hf_loss = unpatched(input_ids=ids, labels=labels).loss.double()  # transformers' own
    err, hf_err = abs(out.loss.double() - truth).item(), abs(hf_loss - truth).item()
    if dtype == torch.float32:
        assert err <= 2e-6 * truth.item() and hf_err <= 2e-6 * truth.item()  # oracle = HF's loss
        assert_grads_close(grads(model), grads(reference), rel=1e-5)
    else:  # bf16: logits in float32 (HF rounds them to bf16): at least as close as HF
        assert err <= 2e-6 * truth.item() and err <= hf_err
        assert_grads_close(grads(model), grads(reference), rel=2**-7)  # ≤ a bf16 rounding


def test_under_cpu_autocast_the_head_is_a_bf16_product_as_f_linear() -> None:
    """Hidden state and weight rounded to bf16 as F.linear's inputs would be, the product
    and the loss in float32 (transformers also rounds the logits to bf16)."""
    reference = tiny("qwen2")
    model = patch(copy.deepcopy(reference))
    ids, labels = batch()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ours = model(input_ids=ids, labels=labels).loss
        hf = reference(input_ids=ids, labels=labels).loss
        hidden = reference.model(input_ids=ids).last_hidden_state  # the same bf16 body
        ours.backward()
    rounded = [x.bfloat16().double() for x in (hidden, reference.lm_head.weight)]
    z = rounded[0] @ rounded[1].T  # [B, T, V]
    truth = F.cross_entropy(z.reshape(-1, VOCAB), shifted(labels).reshape(-1))
    assert ours.dtype == torch.float32 and abs(ours.double() - truth).item() <= 2e-6 * truth.item()
    assert abs(ours.double() - truth).item() <= abs(hf.double() - truth).item()
    assert all(torch.isfinite(g).all() for g in grads(model).values())


@pytest.mark.parametrize("family", ["llama", "gemma2"])
def test_gradient_accumulation_with_num_items_in_batch(family: str) -> None:
    """Micro-batches divided by the whole batch's label count add up to the full batch."""
    reference = tiny(family)
    full, micro = patch(copy.deepcopy(reference)), patch(copy.deepcopy(reference))
    ids, labels = batch(b=4)
    full(input_ids=ids, labels=labels).loss.backward()
    n_items = (shifted(labels) != -100).sum()  # a tensor, as Trainer passes it
    total = torch.zeros((), dtype=torch.float64)
    for part, n in ((slice(0, 1), n_items), (slice(1, 4), int(n_items))):  # tensor and int
        loss = micro(input_ids=ids[part], labels=labels[part], num_items_in_batch=n).loss
        loss.backward()
        total += loss.detach().double()
    truth = oracle_loss(reference, ids, labels)
    truth.backward()
    assert abs(total - truth).item() <= 2e-6 * truth.item()
    assert_grads_close(grads(micro), grads(reference), rel=1e-5)
    assert_grads_close(grads(full), grads(reference), rel=1e-5)


def test_num_items_in_batch_matches_transformers_sum_reduction() -> None:
    reference = tiny("qwen3")
    model = patch(copy.deepcopy(reference))
    ids, labels = batch()
    ours = model(input_ids=ids, labels=labels, num_items_in_batch=torch.tensor(40)).loss
    truth = oracle_loss(reference, ids, labels, num_items=40)
    hf = reference(input_ids=ids, labels=labels, num_items_in_batch=torch.tensor(40)).loss
    assert abs(ours.double() - truth).item() <= 2e-6 * truth.item()
    assert abs(hf.double() - truth).item() <= 2e-6 * truth.item()


@pytest.mark.parametrize("family", ["llama", "gemma2"])
def test_without_labels_the_model_is_unchanged(family: str) -> None:
    reference = tiny(family)
    model = patch(copy.deepcopy(reference))
    ids, _ = batch()
    for kwargs in ({}, {"logits_to_keep": 1}, {"output_hidden_states": True}):
        ours, theirs = model(input_ids=ids, **kwargs), reference(input_ids=ids, **kwargs)
        assert torch.equal(ours.logits, theirs.logits)
        assert ours.keys() == theirs.keys()
    ours_t = model(ids, return_dict=False)
    assert isinstance(ours_t, tuple) and torch.equal(ours_t[0], reference(ids).logits)


def test_return_dict_false_and_extra_outputs_with_labels() -> None:
    reference = tiny("mistral")
    model = patch(copy.deepcopy(reference))
    ids, labels = batch()
    out = model(ids, None, None, None, None, labels, return_dict=False)  # labels positional
    theirs = reference(ids, labels=labels, return_dict=False)
    assert isinstance(out, tuple) and abs(out[0] - theirs[0]).item() <= 1e-5
    out = model(input_ids=ids, labels=labels, output_hidden_states=True)
    theirs = reference(input_ids=ids, labels=labels, output_hidden_states=True)
    assert out.logits is None and len(out.hidden_states) == len(theirs.hidden_states)
    assert all(
        torch.equal(a, b) for a, b in zip(out.hidden_states, theirs.hidden_states, strict=True)
    )


def test_logits_to_keep_and_shift_labels_as_transformers() -> None:
    reference = tiny("gemma2")
    model = patch(copy.deepcopy(reference))
    ids, labels = batch()
    # the last 4 positions, scored against labels of that length (shifted by one)
    ours = model(input_ids=ids, labels=labels[:, -4:], logits_to_keep=4).loss
    theirs = reference(input_ids=ids, labels=labels[:, -4:], logits_to_keep=4).loss
    assert abs(ours - theirs).item() <= 1e-5
    keep = torch.tensor([0, 2, 5])
    ours = model(input_ids=ids, labels=labels[:, keep], logits_to_keep=keep).loss
    theirs = reference(input_ids=ids, labels=labels[:, keep], logits_to_keep=keep).loss
    assert abs(ours - theirs).item() <= 1e-5
    given = torch.randint(0, VOCAB, ids.shape, generator=torch.Generator().manual_seed(3))
    ours = model(input_ids=ids, labels=labels, shift_labels=given).loss  # used as they are
    theirs = reference(input_ids=ids, labels=labels, shift_labels=given).loss
    assert abs(ours - theirs).item() <= 1e-5
    with pytest.raises(ValueError, match=r"labels: expected one label per hidden position \(12"):
        model(input_ids=ids, labels=labels, logits_to_keep=4)


def test_causal_lm_loss_with_a_biased_head_against_float64() -> None:
    g = torch.Generator().manual_seed(1)
    head = torch.nn.Linear(16, 53, bias=True)
    torch.nn.init.normal_(head.bias, generator=g)
    hidden = torch.randn(2, 6, 16, generator=g, requires_grad=True)
    labels = torch.randint(0, 53, (2, 6), generator=g)
    labels[1, 2] = -7  # a custom ignore_index
    loss = causal_lm_loss(hidden, head, labels, ignore_index=-7, softcap=2.0, num_items_in_batch=5)
    z = hidden.double() @ head.weight.double().T + head.bias.double()
    z = 2.0 * torch.tanh(z / 2.0)
    t = torch.cat([labels[:, 1:], torch.full_like(labels[:, :1], -7)], 1)
    truth = F.cross_entropy(z.reshape(-1, 53), t.reshape(-1), ignore_index=-7, reduction="sum") / 5
    assert abs(loss.double() - truth).item() <= 1e-6 * truth.item()
    (g_h, g_b), (t_h, t_b) = (torch.autograd.grad(x, [hidden, head.bias]) for x in (loss, truth))
    assert torch.allclose(g_h, t_h, atol=1e-7) and torch.allclose(g_b, t_b, atol=1e-7)
    with pytest.raises(ValueError, match="labels: expected a tensor"):
        causal_lm_loss(hidden, head, None)


def test_all_labels_ignored_gives_zero_loss_and_zero_gradients() -> None:
    model = patch(tiny("llama"))
    ids, labels = batch()
    out = model(input_ids=ids, labels=torch.full_like(labels, -100))
    out.loss.backward()
    assert out.loss.item() == 0.0  # transformers: NaN
    assert all(torch.count_nonzero(g) == 0 for g in grads(model).values())


def test_patch_is_idempotent_reversible_and_survives_deepcopy() -> None:
    model = tiny("qwen2")
    ids, labels = batch()
    assert patch(model) is model and patch(model) is model and is_patched(model)
    twin = copy.deepcopy(model)  # e.g. a reference model for RL: its own weights
    with torch.no_grad():
        twin.lm_head.weight.mul_(2.0)
    assert is_patched(twin)
    assert not torch.equal(twin(input_ids=ids).logits, model(input_ids=ids).logits)
    assert twin(input_ids=ids, labels=labels).loss != model(input_ids=ids, labels=labels).loss
    assert unpatch(model) is model and not is_patched(model)
    assert model(input_ids=ids, labels=labels).logits is not None


def test_unsupported_models_get_clear_errors() -> None:
    with pytest.raises(TypeError, match="model: expected a transformers PreTrainedModel"):
        patch(torch.nn.Linear(2, 2))
    llama = tiny("llama")
    with pytest.raises(ValueError, match="expected a causal LM with a Linear lm_head"):
        patch(llama.model)  # the base model has no head
    config = transformers.GPT2Config(vocab_size=VOCAB, n_embd=16, n_layer=1, n_head=2)
    with pytest.raises(ValueError, match=r"GPT2LMHeadModel \(model_type 'gpt2'\) is not supported"):
        patch(transformers.GPT2LMHeadModel(config))
    custom = tiny("llama")
    custom.loss_function = lambda *a, **k: torch.zeros(())
    with pytest.raises(ValueError, match="expected transformers' ForCausalLMLoss"):
        patch(custom)
    llama.forward = lambda *a, **k: None
    with pytest.raises(ValueError, match="forward was already replaced"):
        patch(llama)


class _Rows(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    def __init__(self, n: int) -> None:
        self.ids, self.labels = batch(seed=5, b=n, t=8)

    def __len__(self) -> int:
        return self.ids.shape[0]

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


def _train(model: Any, out_dir: Any) -> tuple[list[float], float]:
    """Two optimiser steps of 2 micro-batches of 2 rows, then an evaluation: the losses."""
    args = transformers.TrainingArguments(
        output_dir=str(out_dir),
        use_cpu=True,
        report_to=[],
        max_steps=2,
        per_device_train_batch_size=2,
        gradient_accumulation_steps=2,
        optim="sgd",
        learning_rate=0.5,
        lr_scheduler_type="constant",
        logging_steps=1,
        save_strategy="no",
        disable_tqdm=True,
        seed=0,
    )
    trainer = transformers.Trainer(
        model=model, args=args, train_dataset=_Rows(8), eval_dataset=_Rows(3)
    )
    trainer.train()
    evaluated = trainer.evaluate()["eval_loss"]
    return [h["loss"] for h in trainer.state.log_history if "loss" in h], evaluated


def test_trainer_steps_equal_the_unpatched_model(tmp_path: Any, monkeypatch: Any) -> None:
    calls = []
    fused = integration.linear_cross_entropy

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("num_items_in_batch") is not None)
        return fused(*args, **kwargs)

    monkeypatch.setattr(integration, "linear_cross_entropy", counting)
    reference = tiny("gemma2")
    model = patch(copy.deepcopy(reference))
    (ours, ours_eval), (theirs, theirs_eval) = (
        _train(model, tmp_path / "ours"),
        _train(reference, tmp_path / "theirs"),
    )
    # 2 steps × 2 micro-batches divided by num_items_in_batch; the evaluation (eval mode)
    # runs the model's own forward
    assert calls == [True] * 4
    assert len(ours) == 2 and ours == pytest.approx(theirs, rel=1e-5)
    assert ours_eval == pytest.approx(theirs_eval, rel=1e-5)
    for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
        assert torch.allclose(p, q, rtol=1e-4, atol=1e-6), name
    assert not torch.equal(model.lm_head.weight, tiny("gemma2").lm_head.weight)  # it trained
