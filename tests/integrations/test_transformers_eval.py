"""crossent.integrations.transformers in evaluation: ``skip_logits`` (the logits are skipped
only while training with labels, or when asked), and ``Trainer.evaluate``/``predict`` with
``compute_metrics`` on a patched model against the unpatched one and a float64 NumPy
cross-entropy recomputed from the returned logits."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")

from crossent.integrations import transformers as integration  # noqa: E402
from crossent.integrations.transformers import is_patched, patch  # noqa: E402

from .hf_models import VOCAB, batch, oracle_loss, tiny  # noqa: E402


@pytest.mark.parametrize("family", ["llama", "gemma2"])
def test_by_default_logits_are_skipped_only_when_training(family: str) -> None:
    reference = tiny(family)
    model = patch(copy.deepcopy(reference))
    ids, labels = batch()
    assert model.training and model(input_ids=ids, labels=labels).logits is None
    model.eval()
    reference.eval()
    ours, theirs = model(input_ids=ids, labels=labels), reference(input_ids=ids, labels=labels)
    assert ours.logits is not None and torch.equal(ours.logits, theirs.logits)
    assert torch.equal(ours.loss, theirs.loss)  # the model's own forward and loss
    model.train()
    assert model(input_ids=ids, labels=labels).logits is None


def test_skip_logits_true_skips_them_in_eval_mode_too() -> None:
    reference = tiny("qwen2")
    model = patch(copy.deepcopy(reference), skip_logits=True).eval()
    ids, labels = batch()
    with torch.no_grad():
        out = model(input_ids=ids, labels=labels)
        truth = oracle_loss(reference, ids, labels)
    assert out.logits is None and abs(out.loss.double() - truth).item() <= 2e-6 * truth.item()
    assert model(input_ids=ids).logits.shape == (*ids.shape, VOCAB)  # no labels: generation


def test_skip_logits_false_and_per_call_override(monkeypatch: Any) -> None:
    calls: list[int] = []
    fused = integration.linear_cross_entropy
    monkeypatch.setattr(
        integration, "linear_cross_entropy", lambda *a, **k: calls.append(1) or fused(*a, **k)
    )
    reference = tiny("llama")
    model = patch(copy.deepcopy(reference), skip_logits=False)
    ids, labels = batch()
    out, theirs = model(input_ids=ids, labels=labels), reference(input_ids=ids, labels=labels)
    assert torch.equal(out.logits, theirs.logits) and torch.equal(out.loss, theirs.loss)
    assert calls == []
    out = model(input_ids=ids, labels=labels, skip_logits=True)  # asked for this call
    assert out.logits is None and abs(out.loss - theirs.loss).item() <= 1e-5 and calls == [1]
    patch(model)  # patching again sets skip_logits again: None, training → skipped
    assert model(input_ids=ids, labels=labels).logits is None and calls == [1, 1]
    out = model(input_ids=ids, labels=labels, skip_logits=False)
    assert torch.equal(out.logits, theirs.logits) and calls == [1, 1]
    assert is_patched(model)


def test_skip_logits_errors_name_the_argument() -> None:
    model = tiny("llama")
    ids, labels = batch()
    with pytest.raises(TypeError, match="skip_logits: expected True, False or None, got 'yes'"):
        patch(model, skip_logits="yes")  # type: ignore[arg-type]
    assert not is_patched(model)
    patch(model)
    with pytest.raises(TypeError, match="skip_logits: expected True, False or None, got 1"):
        model(input_ids=ids, labels=labels, skip_logits=1)
    with pytest.raises(ValueError, match="skip_logits: True needs labels"):
        model(input_ids=ids, skip_logits=True)


class _Rows(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    def __init__(self, n: int, seed: int) -> None:
        self.ids, self.labels = batch(seed=seed, b=n, t=8)

    def __len__(self) -> int:
        return self.ids.shape[0]

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


def _metrics(prediction: Any) -> dict[str, float]:
    """Next-token accuracy and the float64 mean cross-entropy, from the logits alone."""
    logits = np.asarray(prediction.predictions, dtype=np.float64)[:, :-1]  # [B, T-1, V]
    targets = np.asarray(prediction.label_ids)[:, 1:]  # [B, T-1]
    keep = targets != -100
    z, y = logits[keep], targets[keep]  # [n, V], [n]
    top = z.max(axis=1)
    lse = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
    nll = lse - z[np.arange(y.size), y]
    return {"accuracy": float((z.argmax(axis=1) == y).mean()), "nll": float(nll.mean())}


def _trainer(model: Any, out_dir: Any, **options: Any) -> Any:
    args = transformers.TrainingArguments(
        output_dir=str(out_dir),
        use_cpu=True,
        report_to=[],
        max_steps=2,
        per_device_train_batch_size=2,
        per_device_eval_batch_size=8,  # one batch: eval_loss is the mean over tokens
        optim="sgd",
        learning_rate=0.5,
        lr_scheduler_type="constant",
        save_strategy="no",
        disable_tqdm=True,
        seed=0,
        **options,
    )
    return transformers.Trainer(
        model=model,
        args=args,
        train_dataset=_Rows(4, seed=5),
        eval_dataset=_Rows(5, seed=6),
        compute_metrics=_metrics,
    )


def test_trainer_evaluate_and_predict_with_compute_metrics(tmp_path: Any, monkeypatch: Any) -> None:
    """Training with an evaluation after each step (eval mode, then training mode again),
    then evaluate and predict: the patched model's metrics and logits are the unpatched
    model's, and eval_loss is the NumPy cross-entropy of the logits it returned."""
    calls: list[int] = []
    fused = integration.linear_cross_entropy
    monkeypatch.setattr(
        integration, "linear_cross_entropy", lambda *a, **k: calls.append(1) or fused(*a, **k)
    )
    reference = tiny("llama")
    model = patch(copy.deepcopy(reference))
    results = []
    for m, name in ((model, "ours"), (reference, "theirs")):
        trainer = _trainer(m, tmp_path / name, eval_strategy="steps", eval_steps=1)
        trainer.train()
        results.append(
            (list(trainer.state.log_history), trainer.evaluate(), trainer.predict(_Rows(3, 7)))
        )
        if m is model:
            assert calls == [1, 1]  # the two training steps only: evaluations get logits
    (log, evaluated, predicted), (ref_log, ref_evaluated, ref_predicted) = results
    evals = [h for h in log if "eval_loss" in h]
    assert len(evals) == 2 and len([h for h in ref_log if "eval_loss" in h]) == 2
    for ours, theirs in [
        *zip(evals, [h for h in ref_log if "eval_loss" in h], strict=True),
        (evaluated, ref_evaluated),
        (predicted.metrics, ref_predicted.metrics),
    ]:
        prefix = "eval" if "eval_loss" in ours else "test"
        assert ours[f"{prefix}_loss"] == pytest.approx(theirs[f"{prefix}_loss"], rel=1e-5)
        assert ours[f"{prefix}_nll"] == pytest.approx(ours[f"{prefix}_loss"], rel=1e-5)
        assert ours[f"{prefix}_nll"] == pytest.approx(theirs[f"{prefix}_nll"], rel=1e-5)
        # ≤ one of the ~25 tokens: a near-tie may flip after training steps that agree to 1e-5
        assert abs(ours[f"{prefix}_accuracy"] - theirs[f"{prefix}_accuracy"]) <= 1 / 20
    assert predicted.predictions.shape == (3, 8, VOCAB)
    np.testing.assert_allclose(predicted.predictions, ref_predicted.predictions, rtol=0, atol=1e-4)
    np.testing.assert_array_equal(predicted.label_ids, ref_predicted.label_ids)
    assert is_patched(model) and model.training is False  # Trainer left it in eval mode


def test_trainer_loss_only_evaluation_with_skip_logits_true(tmp_path: Any) -> None:
    reference = tiny("gemma2")
    model = patch(copy.deepcopy(reference), skip_logits=True)
    options = {"prediction_loss_only": True}
    ours = _trainer(model, tmp_path / "ours", **options).evaluate()
    theirs = _trainer(reference, tmp_path / "theirs", **options).evaluate()
    assert ours["eval_loss"] == pytest.approx(theirs["eval_loss"], rel=1e-5)
