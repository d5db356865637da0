"""Training across 2 gloo processes: the softmax split by vocabulary gives the vectors of one
process; ns, hs and CBOW train data-parallel (identical models on every rank, the same
vectors every time); clear errors on every rank (never a hang) when the ranks disagree;
a killed rank ends the run (the CLI under torchrun's environment, without its agent)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch.distributed as dist
import torch.multiprocessing as mp
from tests.word2vec._distributed_worker import (
    CONFIG,
    DATA_PARALLEL,
    data_parallel_worker,
    error_worker,
    train_worker,
)

from crossent.word2vec import TrainConfig, train
from crossent.word2vec.formats.corpus import TextFiles, TokenLists, iter_sentences
from crossent.word2vec.training.dataparallel import Schedule
from crossent.word2vec.training.shard import corpus_identity, shard

from .corpora import random_text

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch.distributed unavailable")


def _corpus(path: Path, seed: int) -> Path:
    return random_text(path, 31, 150, 13, seed)  # V = 31: the two slices are 15 and 16 rows


def test_two_ranks_give_the_vectors_of_one_process(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c.txt", 0)
    mp.spawn(
        train_worker,
        args=(2, str(tmp_path / "store"), str(corpus), str(tmp_path)),
        nprocs=2,
        join=True,
    )
    one = train([corpus], TrainConfig(**CONFIG))
    assert len(one.vocab) == 31
    for rank in (0, 1):
        got = np.load(tmp_path / f"rank{rank}.npz")
        np.testing.assert_allclose(got["syn0"], one.syn0, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(got["syn1"], one.syn1, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(got["losses"], one.position.epoch_losses, rtol=1e-6)
    assert (np.abs(one.syn1).sum(axis=1) > 0).all()  # rows of both slices were trained


@pytest.mark.parametrize("world", [2, 3, 5])
def test_shards_are_the_corpus_split_by_lines(tmp_path: Path, world: int) -> None:
    a = random_text(tmp_path / "a.txt", 40, 97, 30, 1)
    b = tmp_path / "b.txt"
    b.write_text("x y\n\n\nz\n" + "long " * 20_001 + "\nlast")  # a line cut in 3 sentences
    corpus = TextFiles((a, b, a))
    whole = list(iter_sentences(corpus))
    parts = [list(iter_sentences(shard(corpus, r, world))) for r in range(world)]
    assert [s for p in parts for s in p] == whole  # in order, each line once
    assert all(len(p) < len(whole) for p in parts)  # no rank reads it all
    lists = TokenLists([["a", "b"], ["c"], ["d", "e"]])
    got = [list(iter_sentences(shard(lists, r, world))) for r in range(world)]
    assert sorted(s for p in got for s in p) == [["a", "b"], ["c"], ["d", "e"]]
    assert corpus_identity(corpus) != corpus_identity(TextFiles((a, b)))


def test_rounds_cut_every_rank_the_same_number_of_times() -> None:
    starts = np.array([0, 100, 250, 300, 420, 600])  # 5 jobs, 600 words
    s = Schedule.of(starts, [600, 1000, 0], 0, 300)  # the longest share: 4 rounds
    assert len(s.bounds) == 4 and s.bounds[0][0] == 0 and s.bounds[-1][1] == 5
    assert all(a <= b for a, b in s.bounds) and sum(b - a for a, b in s.bounds) == 5
    assert s.global_before(1, 300) == 1600 + 800
    empty = Schedule.of(np.array([0]), [0, 1000], 0, 300)
    assert empty.bounds == [(0, 0)] * 4


CASES = [
    {"loss": "ns"},
    {"loss": "hs"},
    {"loss": "ns", "model": "cbow"},
    {"loss": "hs+ns", "model": "cbow", "threads": 2},
]


def test_data_parallel_ns_hs_cbow(tmp_path: Path) -> None:
    corpus = random_text(tmp_path / "c.txt", 60, 400, 11, 2)
    mp.spawn(
        data_parallel_worker,
        args=(2, str(tmp_path / "store"), str(corpus), str(tmp_path), CASES),
        nprocs=2,
        join=True,
    )
    for i, case in enumerate(CASES):
        one = train([corpus], TrainConfig(**(DATA_PARALLEL | case)))
        runs = [[np.load(tmp_path / f"case{i}-run{r}-rank{k}.npz") for k in (0, 1)] for r in (0, 1)]
        (a0, a1), (b0, _) = runs
        for name in a0.files:
            np.testing.assert_array_equal(a0[name], a1[name], err_msg=f"{case}: ranks differ")
            if case.get("threads", 1) == 1:  # a seed and a world size: the same vectors
                np.testing.assert_array_equal(a0[name], b0[name], err_msg=f"{case}: not repeatable")
        assert int(a0["ranks"]) == 2
        assert int(a0["words_done"]) == one.position.words_done  # the global word count
        losses, ref = a0["losses"], np.array(one.position.epoch_losses)
        assert losses[-1] < losses[0], (case, losses)
        np.testing.assert_allclose(losses, ref, rtol=0.2, err_msg=str(case))
        assert not np.array_equal(a0["syn0"], one.syn0)  # trained apart, then synced
    _check_sync(tmp_path)


def _check_sync(tmp_path: Path) -> None:
    """One sync done by hand (``sync_worker``): the ranks' changes summed."""
    got = [np.load(tmp_path / f"sync{r}.npz") for r in (0, 1)]
    for r, g in enumerate(got):
        want0 = g["before0"].copy()
        want0[2] += 3.0  # W0 + (1) + (2)
        np.testing.assert_allclose(g["syn0"], want0, rtol=1e-6)
        round_rows = g["before1"] + (r + 1)  # rows the round left out: still this rank's
        round_rows[2] = g["before1"][2] + 3.0
        np.testing.assert_allclose(g["after_round"], round_rows, rtol=1e-6)
        np.testing.assert_allclose(g["syn1"], g["before1"] + 3.0, rtol=1e-6)  # full: all rows
        np.testing.assert_allclose(g["whole"], g["syn1"] + 30.0, rtol=1e-6)  # row 0 too
        assert g["flags"].tolist() == [1, 0]  # rank 1's interrupt reached both


def test_disagreeing_ranks_fail_everywhere(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c.txt", 0)
    other = _corpus(tmp_path / "d.txt", 1)
    mp.spawn(
        error_worker,
        args=(2, str(tmp_path / "store"), str(corpus), str(other), str(tmp_path)),
        nprocs=2,
        join=True,
    )
    errors = [
        dict(line.split("\t", 1) for line in (tmp_path / f"errors{r}.txt").read_text().splitlines())
        for r in (0, 1)
    ]
    for rank in (0, 1):
        e = errors[rank]
        assert e["window"] == (
            "ValueError: distributed: ranks disagree on settings: window=5 on rank 0, 3 on rank 1"
        )
        assert e["ns_window"] == e["window"]
        assert e["corpus"].startswith("ValueError: distributed: ranks disagree on settings: corpus")
        assert e["ns_corpus"] == e["corpus"]
        assert e["ns_sync"].startswith("ValueError: distributed: ranks disagree on settings: sync")
        assert e["cbow"].startswith("ValueError: model: across ranks (torchrun) loss='softmax'")
        assert e["threads"].startswith("ValueError: threads: training across ranks runs one job")
    assert errors[1]["missing"].startswith("CorpusError: ")
    assert errors[0]["missing"].startswith("RankFailed: distributed: rank 1 failed (CorpusError: ")
    assert errors[0]["ns_min_count"].startswith("CorpusError: corpus: none of its 31 distinct")
    assert errors[1]["ns_min_count"].startswith("RankFailed: distributed: rank 0 failed (Corpus")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rank(rank: int, port: int, folder: Path, corpus: Path) -> subprocess.Popen[str]:
    """``crossent train`` as torchrun starts rank ``rank`` of 2 (without its agent)."""
    env = os.environ | {
        "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "WORLD_SIZE": "2",
        "RANK": str(rank), "LOCAL_RANK": str(rank), "LOCAL_WORLD_SIZE": "2",
        "CROSSENT_DIST_TIMEOUT": "60",
    }  # fmt: skip
    command = [sys.executable, "-m", "crossent", "train", str(corpus), "--out", "out.bin",
               "--epochs", "100000", "--min-count", "1", "--dim", "8", "--sync-every", "500"]  # fmt: skip
    return subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_a_killed_rank_ends_the_run_and_clobbers_nothing(tmp_path: Path) -> None:
    corpus = random_text(tmp_path / "c.txt", 50, 300, 11, 4)
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "out.bin").write_text("previous vectors")
    port = _free_port()
    ranks = [_rank(r, port, folder, corpus) for r in (0, 1)]
    try:
        early = _training(ranks[0])
        ranks[1].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        out, err = ranks[0].communicate(timeout=60)
        assert time.monotonic() - killed < 60
    finally:
        for p in ranks:
            p.kill()
            p.communicate()  # closes its pipes
    assert ranks[0].returncode not in (0, None)
    lines = [x for x in err.splitlines() if not x.startswith("epoch")]
    assert len(lines) == 1, (early, err)
    assert lines[0].startswith("error: distributed: lost another rank"), lines
    assert (folder / "out.bin").read_text() == "previous vectors"
    assert sorted(p.name for p in folder.iterdir()) == ["out.bin"]


def test_threads_bound_torch_and_ns_does_not_import_it(tmp_path: Path, monkeypatch: Any) -> None:
    import torch

    from crossent.word2vec.training import softmax

    corpus = _corpus(tmp_path / "c.txt", 0)
    seen: list[int] = []
    job = softmax.softmax_job

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(torch.get_num_threads())
        return job(*args, **kwargs)

    monkeypatch.setattr(softmax, "softmax_job", spy)
    before = torch.get_num_threads()
    train([corpus], TrainConfig(**(CONFIG | {"epochs": 1, "threads": 1})))
    assert seen and set(seen) == {1}  # --threads 1: one intra-op thread too
    assert torch.get_num_threads() == before  # restored afterwards
    code = (
        "import sys; from crossent.word2vec import TrainConfig, train; "
        f"train({str(corpus)!r}, TrainConfig(epochs=1, min_count=1, dim=8)); "
        f"train({str(corpus)!r}, TrainConfig(epochs=1, min_count=1, dim=8, loss='hs', "
        "model='cbow')); assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def _training(rank: subprocess.Popen[str], until: str = "(epoch done)") -> list[str]:
    """Rank 0's stderr lines up to the end of its first epoch (both ranks are training: a
    rank that died before joining would leave the other waiting for the timeout), or up to
    the first line holding ``until``. Rank 0 reports its last job of an epoch before the
    sync that ends the epoch, so at "(epoch done)" the other rank may still be starting;
    once rank 0 reports epoch 2 that sync is over: every rank is training."""
    assert rank.stderr is not None
    early = [rank.stderr.readline()]
    while early[-1] and until not in early[-1]:
        early.append(rank.stderr.readline())
    assert early[-1], early
    return early


@pytest.mark.slow
def test_sigterm_stops_every_rank_at_one_sync_and_rank_0_checkpoints(tmp_path: Path) -> None:
    corpus = random_text(tmp_path / "c.txt", 50, 300, 11, 4)
    folder = tmp_path / "run"
    folder.mkdir()
    port = _free_port()
    ranks = [_rank(r, port, folder, corpus) for r in (0, 1)]
    try:
        _training(ranks[0], until="epoch 2/")  # rank 1 is training, past epoch 1
        ranks[1].send_signal(signal.SIGTERM)  # one rank only: both stop at the next sync
        outs = [p.communicate(timeout=60) for p in ranks]
    finally:
        for p in ranks:
            p.kill()
            p.communicate()
    assert [p.returncode for p in ranks] == [130, 130], outs
    assert "checkpoint written to out.bin.ckpt" in outs[0][0] + outs[0][1]
    assert sorted(p.name for p in folder.iterdir()) == ["out.bin.ckpt"]
    from crossent.word2vec import SkipGram

    model = SkipGram.load(folder / "out.bin.ckpt")
    assert model.corpus is not None and model.corpus["ranks"] == 2
    assert 0 < model.position.epoch < 100_000
