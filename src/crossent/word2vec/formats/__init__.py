"""Files and formats: safe opening and atomic writing (:mod:`.files`), corpora read and encoded
once into a memory map (:mod:`.corpus`), word2vec.c/gensim vector files (:mod:`.io`),
evaluation data sets (:mod:`.evalsets`) and the bundled data
(:mod:`.data`). Nothing here knows about training; everything else reads files through it."""
