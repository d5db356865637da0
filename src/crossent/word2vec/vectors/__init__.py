"""Trained vectors: the word-indexed table (:mod:`.vectortable`), gensim's ``KeyedVectors`` on
top of it (:mod:`.keyedvectors`) and the intrinsic evaluations a table answers, word-pair
similarity and analogies (:mod:`.intrinsic`). Uses :mod:`..formats`; knows nothing of training."""
