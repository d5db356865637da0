"""Interruptions of a real ``crossent train`` process (its stderr piped, as in a log):
Ctrl-C (SIGINT) and SIGTERM write a checkpoint that loads, SIGKILL loses only the run,
never a file; progress lines reach the pipe while training runs."""

from __future__ import annotations

import io
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from crossent.cli.progress import PlainProgress, line
from crossent.word2vec import Progress, SkipGram
from crossent.word2vec.formats.data import data_file

LINE = re.compile(
    r"epoch (\d+)/(\d+) +\d+\.\d% +[\d,]+ words/s +loss \d+\.\d{4} +lr \d\.\d{6} +ETA \d+:\d\d:\d\d"
)


def _as_from_a_terminal() -> None:
    """Ctrl-C's default in the child, as a user's shell gives it: a suite started in the
    background by a non-interactive shell inherits SIGINT ignored, which Python (and so
    crossent) keeps, and the SIGINT cases would test nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Run:
    """A ``crossent train`` subprocess whose stderr lines are collected as they come."""

    def __init__(self, *args: str, tmpdir: Path | None = None) -> None:
        env = dict(os.environ, TMPDIR=str(tmpdir)) if tmpdir is not None else None
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "crossent", "train", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            preexec_fn=_as_from_a_terminal,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for text in self.proc.stderr:
            self.lines.put(text.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 180) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                text = self.lines.get(timeout=1)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(text)
            if re.search(pattern, text):
                return text
        self.proc.kill()
        pytest.fail(f"no line matching {pattern!r}; got {self.seen}")

    def finish(self, timeout: float = 120) -> int:
        code = self.proc.wait(timeout)
        time.sleep(0.2)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        return code


def _synthetic_corpus(path: Path, vocab: int = 5000) -> Path:
    rng = np.random.default_rng(0)
    words = np.array([f"t{i}" for i in range(vocab)])
    ids = np.concatenate([np.arange(vocab)] * 4 + [rng.integers(0, vocab, 20_000)])
    rng.shuffle(ids)
    path.write_text("\n".join(" ".join(words[ids[s : s + 12]]) for s in range(0, len(ids), 12)))
    return path


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_signal_during_training(tmp_path: Path, sig: signal.Signals) -> None:
    out = tmp_path / "v.bin"
    out.write_bytes(b"previous version")
    unrelated = tmp_path / "v.bin.ckpt"
    unrelated.write_bytes(b"someone else's file")
    private_tmp = tmp_path.parent / f"{tmp_path.name}-tmp"  # the run's TMPDIR, watched
    private_tmp.mkdir()
    run = Run(
        str(data_file("wikitext2-valid.txt")), "--out", str(out), "--epochs", "200",
        "--threads", "1", "--dim", "20", tmpdir=private_tmp,
    )  # fmt: skip
    done = run.wait_for(r"\(epoch done\)")
    assert LINE.search(done), done  # piped progress: a plain line at the epoch's end
    run.proc.send_signal(sig)
    code = run.finish()
    assert out.read_bytes() == b"previous version"
    assert unrelated.read_bytes() == b"someone else's file"
    assert list(private_tmp.iterdir()) == []  # the encoded corpus was an unnamed file
    if sig == signal.SIGKILL:
        assert code == -signal.SIGKILL
        assert sorted(p.name for p in tmp_path.iterdir()) == ["v.bin", "v.bin.ckpt"]
        return
    assert code == 130, run.seen
    ckpt = tmp_path / "v.bin.ckpt.1"
    assert any(f"checkpoint written to {ckpt}" in s for s in run.seen), run.seen
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.bin", "v.bin.ckpt", "v.bin.ckpt.1"]
    pos = SkipGram.load(ckpt).position  # a consistent snapshot past the first epoch's jobs
    assert (pos.epoch >= 1 or pos.job > 0) and pos.words_done > 0 and pos.epoch < 200


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_signal_during_the_final_write(tmp_path: Path, sig: signal.Signals) -> None:
    """Writing 5,000 × 1,000 numbers as text takes seconds: the signal lands inside it."""
    corpus = _synthetic_corpus(tmp_path / "c.txt")
    out = tmp_path / "v.txt"
    out.write_bytes(b"previous version")
    run = Run(
        str(corpus), "--out", str(out), "--format", "text", "--dim", "1000", "--epochs", "1",
        "--window", "1", "--negative", "1", "--min-count", "1", "--sample", "0", "--threads", "1",
    )  # fmt: skip
    run.wait_for(r"epoch 1/1 .*\(epoch done\)")
    time.sleep(0.3)
    run.proc.send_signal(sig)
    code = run.finish()
    assert out.read_bytes() == b"previous version", "the old output was replaced"
    names = sorted(p.name for p in tmp_path.iterdir())
    if sig == signal.SIGKILL:
        assert code == -signal.SIGKILL
        assert names == ["c.txt", "v.txt"]  # no temporary file, even after SIGKILL
        return
    assert code == 130, run.seen
    message = " ".join(run.seen)
    assert "interrupted after training had finished: written: nothing" in message, message
    assert f"not written (previous versions intact): {out}" in message
    assert f"the trained model is in {out}.ckpt" in message
    assert names == ["c.txt", "v.txt", "v.txt.ckpt"]
    assert SkipGram.load(tmp_path / "v.txt.ckpt").position.epoch == 1


def _snapshot(words_done: int, epoch: int = 0) -> Progress:
    return Progress(
        epoch=epoch, epochs=2, words_done=words_done, words_total=1000, loss=2.5, pairs=10,
        alpha=0.02, words_per_second=100.0, epoch_losses=[],
    )  # fmt: skip


def test_plain_progress_prints_on_a_timer_and_at_epoch_ends() -> None:
    stream = io.StringIO()
    with PlainProgress(stream, interval=0.05) as show:
        time.sleep(0.12)  # nothing trained yet: still a sign of life
        show(_snapshot(100))
        time.sleep(0.3)
        show(_snapshot(500))  # the end of epoch 1 of 2
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("reading the corpus")
    assert sum(bool(LINE.fullmatch(x)) for x in lines) >= 3, lines
    assert lines[-1] == line(_snapshot(500)) + "   (epoch done)"
    assert "ETA 0:00:05" in lines[-1] and " 50.0%" in lines[-1]
