"""crossent.integrations.transformers with PEFT LoRA adapters and under ``torch.compile``:
the loss and the trainable parameters' gradients against the float64 oracle of the
unpatched model (tiny random configs, no downloads)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch

transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")

from crossent.integrations.transformers import is_patched, patch  # noqa: E402

from .hf_models import assert_grads_close, batch, grads, oracle_loss, tiny  # noqa: E402

# peft reads PreTrainedModel.is_gradient_checkpointing, deprecated in transformers 5
pytestmark = pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated")


def lora(model: Any, **options: Any) -> Any:
    """Rank-4 LoRA on the attention's q and v, adapters initialised at random (not to the
    no-op B = 0, so that they change the loss), seeded."""
    options = {"target_modules": ["q_proj", "v_proj"], **options}
    config = peft.LoraConfig(
        task_type="CAUSAL_LM",
        r=4,
        lora_alpha=8,
        lora_dropout=0.0,
        init_lora_weights=False,
        **options,
    )
    torch.manual_seed(1)
    return peft.get_peft_model(model, config)


def adapter_grads(model: Any) -> dict[str, torch.Tensor]:
    """The gradients, keyed by the name under the base model (alike with or without PEFT)."""
    found = {n.removeprefix("base_model.model."): g for n, g in grads(model).items()}
    assert found and all("lora_" in n for n in found)  # the base weights are frozen
    return found


@pytest.mark.parametrize("order", ["patch, then get_peft_model", "get_peft_model, then patch"])
@pytest.mark.parametrize("family", ["llama", "gemma2"])
def test_lora_loss_and_adapter_gradients_match_the_oracle(family: str, order: str) -> None:
    reference = lora(tiny(family))  # unpatched, the same adapters
    first = order.startswith("patch")
    model = lora(patch(tiny(family))) if first else patch(lora(tiny(family)))
    assert isinstance(model, peft.PeftModelForCausalLM) and is_patched(model)
    assert is_patched(model.get_base_model()) and not is_patched(reference)
    ids, labels = batch()
    out = model(input_ids=ids, labels=labels)
    assert out.logits is None
    out.loss.backward()
    truth = oracle_loss(reference.get_base_model(), ids, labels)  # through the adapters
    truth.backward()
    assert abs(out.loss.double() - truth).item() <= 2e-6 * truth.item()
    assert_grads_close(adapter_grads(model), adapter_grads(reference), rel=1e-5)
    model.eval()  # PEFT passes eval mode down: the logits come back
    reference.eval()
    ours, theirs = model(input_ids=ids, labels=labels), reference(input_ids=ids, labels=labels)
    assert torch.equal(ours.logits, theirs.logits) and torch.equal(ours.loss, theirs.loss)


@pytest.mark.parametrize(
    "options",
    [{"target_modules": ["q_proj", "lm_head"]}, {"modules_to_save": ["lm_head"]}],
    ids=["lora on lm_head", "lm_head in modules_to_save"],
)
def test_an_adapter_on_lm_head_falls_back_to_the_model_forward(options: dict[str, Any]) -> None:
    """The fused loss reads lm_head.weight, which would ignore the head's adapter: the
    model's own forward runs instead, with a warning, and trains the head's adapter."""
    reference, model = lora(tiny("qwen2"), **options), lora(patch(tiny("qwen2")), **options)
    ids, labels = batch()
    with pytest.warns(RuntimeWarning, match=r"model.lm_head is a peft\..*not a torch.nn.Linear"):
        out = model(input_ids=ids, labels=labels)
    theirs = reference(input_ids=ids, labels=labels)
    assert torch.equal(out.logits, theirs.logits) and torch.equal(out.loss, theirs.loss)
    out.loss.backward()
    theirs.loss.backward()
    ours, ref = grads(model), grads(reference)
    assert any("lm_head" in n for n in ours)
    assert_grads_close(ours, ref, rel=1e-6)


def _compiled_step(model: Any, backend: str, fullgraph: bool) -> tuple[torch.Tensor, Any]:
    torch._dynamo.reset()
    compiled = torch.compile(model, backend=backend, fullgraph=fullgraph)
    ids, labels = batch()
    out = compiled(input_ids=ids, labels=labels)
    out.loss.backward()
    return out.loss, out.logits


@pytest.mark.parametrize("with_lora", [False, True], ids=["plain", "lora"])
def test_torch_compile_traces_the_patched_forward_whole(with_lora: bool) -> None:
    """``fullgraph=True``: the patched forward and the chunked fused loss (forward and
    backward, through AOTAutograd) trace without a graph break. ``aot_eager`` keeps it fast
    on a small CPU; the inductor run is the slow test below."""
    reference = tiny("llama", num_hidden_layers=1)  # dynamo traces every layer
    model = patch(copy.deepcopy(reference))
    if with_lora:
        reference, model = lora(reference), lora(model)
    loss, logits = _compiled_step(model, "aot_eager", fullgraph=True)
    ids, labels = batch()
    base = reference.get_base_model() if with_lora else reference
    truth = oracle_loss(base, ids, labels)
    truth.backward()
    assert logits is None and abs(loss.double() - truth).item() <= 2e-6 * truth.item()
    ours, ref = (
        (adapter_grads(model), adapter_grads(reference))
        if with_lora
        else (
            grads(model),
            grads(reference),
        )
    )
    assert_grads_close(ours, ref, rel=1e-5)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")  # inductor's own
def test_torch_compile_with_inductor() -> None:
    """The default backend (C++ code generation: minutes on two cores)."""
    reference = tiny("gemma2", num_hidden_layers=1)
    model = patch(copy.deepcopy(reference))
    loss, logits = _compiled_step(model, "inductor", fullgraph=True)
    ids, labels = batch()
    truth = oracle_loss(reference, ids, labels)
    truth.backward()
    assert logits is None and abs(loss.double() - truth).item() <= 2e-6 * truth.item()
    assert_grads_close(grads(model), grads(reference), rel=1e-5)
