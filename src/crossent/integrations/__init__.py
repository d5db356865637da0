"""Adapters that plug crossent into other ecosystems.

- :mod:`crossent.integrations.transformers`: ``patch(model)`` makes a Hugging Face causal
  language model compute its training loss with :func:`crossent.fused.linear_cross_entropy`
  (the logits are never materialised). Needs the optional extra ``crossent[transformers]``.

Importing this package imports nothing heavy; each adapter imports its framework itself.
"""
