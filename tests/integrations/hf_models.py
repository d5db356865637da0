"""Tiny randomly initialised Hugging Face causal LMs (configs built in code, no downloads)
and the float64 oracle the integration's tests compare against."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F

transformers = pytest.importorskip("transformers")

from crossent.integrations.transformers import is_patched  # noqa: E402

VOCAB = 97
_COMMON = {
    "vocab_size": VOCAB,
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "initializer_range": 0.2,  # logits of order 1, so that the softmax is not flat
    "pad_token_id": 0,
    "bos_token_id": 1,
    "eos_token_id": 2,
}
_SOFTCAP = {"final_logit_softcapping": 1.5, "sliding_window": 4, "head_dim": 8}
FAMILIES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "llama": ("LlamaConfig", "LlamaForCausalLM", {}),
    "mistral": ("MistralConfig", "MistralForCausalLM", {}),
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM", {}),
    "qwen3": ("Qwen3Config", "Qwen3ForCausalLM", {"head_dim": 8}),
    "gemma": ("GemmaConfig", "GemmaForCausalLM", {"head_dim": 8}),
    "gemma2": ("Gemma2Config", "Gemma2ForCausalLM", _SOFTCAP),
    "gemma3_text": ("Gemma3TextConfig", "Gemma3ForCausalLM", _SOFTCAP),
    "phi3": ("Phi3Config", "Phi3ForCausalLM", {}),
    "olmo2": ("Olmo2Config", "Olmo2ForCausalLM", {}),
    "granite": ("GraniteConfig", "GraniteForCausalLM", {"logits_scaling": 4.0}),
    "cohere": ("CohereConfig", "CohereForCausalLM", {"logit_scale": 0.25}),
}


def tiny(family: str, dtype: torch.dtype = torch.float32, seed: int = 0, **config: Any) -> Any:
    """A randomly initialised model of ``family`` (in training mode, as constructed); the
    ``config`` entries override the tiny defaults."""
    config_cls, model_cls, extra = FAMILIES[family]
    torch.manual_seed(seed)
    made = getattr(transformers, config_cls)(**{**_COMMON, **extra, **config})
    return getattr(transformers, model_cls)(made).to(dtype)


def batch(seed: int = 0, b: int = 3, t: int = 9) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids and labels, -100 on a padded tail and on a prompt."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, VOCAB, (b, t), generator=g)
    labels = ids.clone()
    labels[0, :3] = -100  # a prompt without loss
    labels[-1, t // 2 :] = -100  # padding
    return ids, labels


def shifted(labels: torch.Tensor) -> torch.Tensor:
    return torch.cat([labels[:, 1:], torch.full_like(labels[:, :1], -100)], dim=1)


def oracle_head(model: Any, z: torch.Tensor) -> torch.Tensor:
    """What each family's forward does to lm_head's output (read in its source)."""
    family, config = model.config.model_type, model.config
    if family == "granite":
        z = z / config.logits_scaling
    if family == "cohere":
        z = z * config.logit_scale
    if family in ("gemma2", "gemma3_text"):
        z = config.final_logit_softcapping * torch.tanh(z / config.final_logit_softcapping)
    return z


def oracle_loss(
    model: Any, ids: torch.Tensor, labels: torch.Tensor, num_items: Any = None
) -> torch.Tensor:
    """ForCausalLMLoss in float64 from the unpatched model's hidden state and lm_head."""
    assert not is_patched(model)
    hidden = model.model(input_ids=ids).last_hidden_state  # [B, T, D]
    z = oracle_head(model, hidden.double() @ model.lm_head.weight.double().T)  # [B, T, V]
    reduction = "mean" if num_items is None else "sum"
    loss = F.cross_entropy(z.reshape(-1, VOCAB), shifted(labels).reshape(-1), reduction=reduction)
    return loss if num_items is None else loss / num_items


def grads(model: Any) -> dict[str, torch.Tensor]:
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def assert_grads_close(
    ours: dict[str, torch.Tensor], ref: dict[str, torch.Tensor], rel: float
) -> None:
    assert ours.keys() == ref.keys() and len(ours) > 0
    for name, g in ours.items():
        r = ref[name].double()
        err = (g.double() - r).abs().max().item()
        assert err <= rel * r.abs().max().item() + 1e-12, (name, err, r.abs().max().item())
