"""One training step of a Hugging Face causal LM, patched (``crossent.integrations.
transformers.patch``) vs unpatched, on CPU at a large vocabulary (128k, Llama 3's 128256).

The model is otherwise small (a Llama of ``--hidden`` width and ``--layers`` layers, untied
head), so that the vocabulary dominates as in a real LM head at long sequence lengths:
the unpatched step materialises the ``[B, T, V]`` float32 logits, their log-softmax and
their gradient. Each variant runs in its own process: forward + backward of
``model(input_ids, labels=labels).loss`` (best of ``--repeat``) and the peak resident
memory above the model and the batch (parameter gradients included, alike on both sides).

Run: .venv/bin/python benchmarks/bench_hf.py [--vocab 128256] [--tokens 2048]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def worker(patched: bool, vocab: int, hidden: int, layers: int, tokens: int, repeat: int) -> None:
    import time

    import torch
    import transformers

    from crossent.integrations.transformers import patch

    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        tie_word_embeddings=False,
    )
    model = transformers.LlamaForCausalLM(config)
    if patched:
        patch(model)
    batch = 2
    ids = torch.randint(0, vocab, (batch, tokens // batch))
    labels = ids.clone()
    labels[:, :16] = -100  # a prompt without loss
    base = _peak_rss()
    times, loss = [], 0.0
    for _ in range(repeat):
        model.zero_grad(set_to_none=True)
        start = time.perf_counter()
        out = model(input_ids=ids, labels=labels)
        out.loss.backward()
        times.append(time.perf_counter() - start)
        loss = out.loss.item()
    grads = sum(p.numel() * p.element_size() for p in model.parameters())
    print(
        json.dumps({"time": min(times), "extra": _peak_rss() - base, "grads": grads, "loss": loss})
    )


def measure(patched: bool, args: argparse.Namespace) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--worker", str(int(patched))]
    cmd += [str(x) for x in (args.vocab, args.hidden, args.layers, args.tokens, args.repeat)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vocab", type=int, default=128256)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=2048, help="tokens per step (2 rows)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    ours, theirs = measure(True, args), measure(False, args)
    gib = 2**30
    print(
        f"Llama, V={args.vocab}, hidden {args.hidden}, {args.layers} layers, {args.tokens} "
        f"tokens, float32, CPU; one training step (forward + backward), best of {args.repeat}"
    )
    print(f"{'':10s} {'time s':>8s} {'peak GiB':>9s} {'loss':>10s}")
    for name, m in (("patched", ours), ("unpatched", theirs)):
        print(f"{name:10s} {m['time']:8.3f} {m['extra'] / gib:9.3f} {m['loss']:10.6f}")
    print(
        f"ratio      {ours['time'] / theirs['time']:8.2f} {ours['extra'] / theirs['extra']:9.3f}"
        f"   (parameter gradients, in both peaks: {ours['grads'] / gib:.3f} GiB)"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        a = sys.argv[2:]
        worker(a[0] == "1", int(a[1]), int(a[2]), int(a[3]), int(a[4]), int(a[5]))
    else:
        main()
