"""crossent.integrations.transformers and serialization: ``pickle``/``torch.save`` carry the
patch with the instance; ``save_pretrained`` writes what the unpatched model writes, and
``from_pretrained`` gives an unpatched model that patches again (tiny configs, no downloads)."""

from __future__ import annotations

import copy
import io
import pickle
from pathlib import Path
from typing import Any

import pytest
import torch

transformers = pytest.importorskip("transformers")

from crossent.integrations.transformers import is_patched, patch  # noqa: E402

from .hf_models import batch, oracle_loss, tiny  # noqa: E402


def _torch_roundtrip(model: Any) -> Any:
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=False)  # a whole module is not weights-only


@pytest.mark.parametrize(
    "roundtrip",
    [lambda m: pickle.loads(pickle.dumps(m)), _torch_roundtrip, copy.deepcopy],
    ids=["pickle", "torch.save", "deepcopy"],
)
def test_a_copy_stays_patched_and_computes_with_its_own_weights(roundtrip: Any) -> None:
    reference = tiny("gemma2")
    model = patch(copy.deepcopy(reference), skip_logits=True).eval()
    ids, labels = batch()
    loss = model(input_ids=ids, labels=labels).loss
    twin = roundtrip(model)
    assert twin is not model and is_patched(twin) and not twin.training
    out = twin(input_ids=ids, labels=labels)
    assert out.logits is None and torch.equal(out.loss, loss)  # skip_logits=True travelled
    assert "skip_logits=True" in repr(twin.forward)
    with torch.no_grad():
        twin.lm_head.weight.mul_(2.0)  # the copy's forward reads the copy's weights
    assert twin(input_ids=ids, labels=labels).loss != loss
    assert torch.equal(model(input_ids=ids, labels=labels).loss, loss)
    with torch.no_grad():
        truth = oracle_loss(reference, ids, labels)
    assert abs(loss.double() - truth).item() <= 2e-6 * truth.item()


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_save_pretrained_writes_the_unpatched_files_and_reloads_unpatched(tmp_path: Path) -> None:
    reference = tiny("qwen2")
    model = patch(copy.deepcopy(reference))
    model.save_pretrained(tmp_path / "patched")
    reference.save_pretrained(tmp_path / "plain")
    saved = _files(tmp_path / "patched")
    assert "config.json" in saved and saved == _files(tmp_path / "plain")
    reloaded = type(reference).from_pretrained(tmp_path / "patched")
    assert not is_patched(reloaded)  # the patch is not in the weights or the config
    ids, labels = batch()
    reloaded.train()
    out = reloaded(input_ids=ids, labels=labels)  # the model's own forward: logits
    theirs = reference(input_ids=ids, labels=labels)
    assert torch.equal(out.logits, theirs.logits)
    ours = patch(reloaded)(input_ids=ids, labels=labels)
    assert ours.logits is None
    assert torch.equal(ours.loss, model(input_ids=ids, labels=labels).loss)


@pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated")  # peft's
def test_a_patched_base_model_loads_saved_lora_adapters(tmp_path: Path) -> None:
    peft = pytest.importorskip("peft")
    config = peft.LoraConfig(
        task_type="CAUSAL_LM", r=4, target_modules=["q_proj"], init_lora_weights=False
    )
    torch.manual_seed(1)
    trained = peft.get_peft_model(tiny("llama"), config)
    trained.save_pretrained(tmp_path / "adapter")
    loaded = peft.PeftModel.from_pretrained(patch(tiny("llama")), tmp_path / "adapter")
    ids, labels = batch()
    assert is_patched(loaded)
    ours = loaded(input_ids=ids, labels=labels, skip_logits=True)  # loaded in eval mode
    theirs = trained(input_ids=ids, labels=labels)
    assert ours.logits is None and abs(ours.loss - theirs.loss).item() <= 1e-5
