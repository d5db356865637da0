"""Evaluation of a trained model: the seed's exact loss on held-out text and the reports the
command line prints (:mod:`.evaluate`), the loss plot (:mod:`.plot`). Uses every other part."""
