"""Training: settings (:mod:`.config`), the vocabulary, its sampling tables and its
file (:mod:`.vocab`, :mod:`.vocabfile`), the
model and its checkpoint (:mod:`.model`, :mod:`.checkpoint`), the epoch loop (:mod:`.train`) that
hands jobs (:mod:`.jobs`) to the numba kernels (:mod:`.kernels`, ``ns`` / ``hs``) or to the fused
full softmax (:mod:`.softmax`, :mod:`.cbow_softmax`) on a device (:mod:`.device`) or across
``torch.distributed`` ranks (:mod:`.distributed`); callbacks and vocabulary updates. Read
:mod:`.train` first. Uses :mod:`..formats` and :mod:`..vectors`."""
