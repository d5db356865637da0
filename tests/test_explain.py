"""crossent.explain and ``crossent explain``: numbers against float64 formulas and SciPy,
every option, strict JSON (parsed by a parser that refuses NaN/Infinity), the plot file."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.special
import scipy.stats
from typer.testing import CliRunner

from crossent.cli import app
from crossent.explain import FLOAT32_EXP_LIMIT, explain, to_json


def _strict_json(text: str) -> Any:
    def refuse(name: str) -> None:
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def _run(*args: str) -> Any:
    result = CliRunner().invoke(app, ["explain", *args])
    return result


def test_default_is_the_seed_example_against_formulas() -> None:
    r = explain()
    z = np.array([1.0, 2.0, 0.5])
    p = np.exp(z) / np.exp(z).sum()
    assert "seed" in r.seed and "(1, 2, 0.5)" in r.seed and "class 1" in r.seed
    assert r.target == [0.0, 1.0, 0.0] and r.form1_class == 1
    np.testing.assert_allclose(r.probabilities, p, rtol=1e-14)
    np.testing.assert_allclose(r.information, -np.log(p), rtol=1e-14)
    np.testing.assert_allclose(r.information_bits, -np.log2(p), rtol=1e-14)
    assert r.form1 == pytest.approx(-z[1] + scipy.special.logsumexp(z), rel=1e-14)
    assert r.form2 == pytest.approx(r.form1, rel=1e-14)
    assert r.entropy_prediction == pytest.approx(scipy.stats.entropy(p), rel=1e-14)
    assert "one-hot" in r.forms_note and "same number" in r.forms_note


def test_soft_target_explains_why_the_forms_differ() -> None:
    y = [0.2, 0.7, 0.1]
    r = explain([1.0, 2.0, 0.5], target=y)
    z = np.array([1.0, 2.0, 0.5])
    logp = z - scipy.special.logsumexp(z)
    assert r.form1_class == 1
    assert r.form1 == pytest.approx(-logp[1], rel=1e-13)
    assert r.form2 == pytest.approx(-(np.array(y) * logp).sum(), rel=1e-13)
    gap = float((np.array(y) * (logp[1] - logp)).sum())
    assert r.form2 - r.form1 == pytest.approx(gap, rel=1e-12)
    assert "soft" in r.forms_note and f"{gap:.6f}" in r.forms_note
    # per-class terms sum to H(y, p), H(y), KL(y‖p) (SciPy's entropy / rel_entr)
    assert sum(r.cross_entropy_terms) == pytest.approx(r.cross_entropy, rel=1e-13)
    assert sum(r.entropy_terms) == pytest.approx(scipy.stats.entropy(y), rel=1e-13)
    np.testing.assert_allclose(r.kl_terms, scipy.special.rel_entr(y, np.exp(logp)), atol=1e-15)
    # equal forms for a soft target when every supported class has the same p
    flat = explain([0.0, 0.0, 5.0], target=[0.5, 0.5, 0.0])
    assert flat.form1 == pytest.approx(flat.form2, rel=1e-13)


def test_target_class_index_and_distribution_agree() -> None:
    a, b = explain([3.0, -1.0, 0.5], target=2), explain([3.0, -1.0, 0.5], target=[0, 0, 1.0])
    assert a.target == b.target and a.form1 == b.form1 and a.form2 == b.form2
    with pytest.raises(ValueError, match=r"target: class index 3 is out of range \[0, 2\]"):
        explain([1.0, 2.0, 3.0], target=3)


def test_inputs_must_be_distributions_unless_normalize() -> None:
    with pytest.raises(ValueError, match=r"probabilities: expected probabilities summing to 1"):
        explain(probabilities=[0.5, 0.6, 0.1], target=0)
    with pytest.raises(ValueError, match=r"target: expected probabilities summing to 1"):
        explain(target=[1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match=r"probabilities: probabilities must be >= 0"):
        explain(probabilities=[1.2, -0.2], normalize=True)
    r = explain(probabilities=[0.5, 0.6, 0.1], target=[1.0, 1.0, 0.0], normalize=True)
    np.testing.assert_allclose(r.probabilities, np.array([0.5, 0.6, 0.1]) / 1.2, rtol=1e-14)
    np.testing.assert_allclose(r.target, [0.5, 0.5, 0.0])
    assert r.normalized


def test_overflow_demonstration_is_honest() -> None:
    small = explain([1.0, 2.0, 0.5], target=1).overflow
    assert not small.logits_overflow and math.isfinite(small.naive_loss)
    assert small.shift == pytest.approx(98.0)
    assert small.shifted_naive_loss == math.inf  # exp(100) overflows float32
    assert small.shifted_stable_loss == pytest.approx(explain().form1, rel=1e-5)
    big = explain([100.0, 0.0, 1.0], target=2).overflow
    assert big.logits_overflow and big.shift == 0.0
    assert big.naive_loss == math.inf
    assert big.shifted_stable_loss == pytest.approx(100 - 1 + math.log1p(math.exp(-99)), rel=1e-6)
    assert math.log(np.finfo(np.float32).max) == pytest.approx(FLOAT32_EXP_LIMIT, rel=1e-12)
    edge = explain([88.0, 0.0], target=1).overflow  # below the limit: no overflow claimed
    assert not edge.logits_overflow and math.isfinite(edge.naive_loss)


def test_json_is_strict_and_complete() -> None:
    r = explain(probabilities=[1.0, 0.0], target=[0.0, 1.0])  # H(y, p) = inf
    data = _strict_json(to_json(r))
    assert data["cross_entropy"] == "inf" and data["kl_divergence"] == "inf"
    assert data["information"][1] == "inf"
    assert data["seed_batch"]["naive_intermediate_shape"] == [3, 3]
    assert set(data["overflow"]) >= {"logits_overflow", "shift", "shifted_naive_loss"}


def test_cli_options_text_and_json() -> None:
    default = _run()
    assert default.exit_code == 0, default.output
    assert default.output.startswith("The seed is the study note")
    assert "naive exp does not overflow" in default.output
    data = _strict_json(_run("--json").output)
    assert data["overflow"]["shifted_naive_loss"] == "inf"
    assert data["form1"] == pytest.approx(data["form2"], rel=1e-14)
    index = _strict_json(_run("--logits", "0,0,0", "--target", "2", "--json").output)
    assert index["target"] == [0.0, 0.0, 1.0]
    assert index["form1"] == pytest.approx(math.log(3), rel=1e-14)
    soft = _run("--probs", "0.5,0.6,0.1", "--normalize", "--target", "0.2,0.8,0")
    assert soft.exit_code == 0, soft.output
    assert "the target is soft" in soft.output and "--normalize" in soft.output
    big = _run("--logits", "100,0,1", "--target", "0")
    assert "your logits exceed 88.72" in big.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--probs", "0.5,0.6,0.1"], "--probs: expected probabilities summing to 1"),
        (["--logits", "5"], "--target: required with --logits: the true class (0, the only"),
        (["--probs", ".5,.5"], "--target: required with --probs: the true class (from 0 to 1)"),
        (["--target", "1.5"], "--target: one value is a class index (an integer)"),
        (["--target", "7"], "--target: class index 7 is out of range [0, 2]"),
        (["--logits", "1,2", "--target", "0,1,0"], "--target: expected a class index or 2"),
        (["--logits", "a,b"], "--logits: expected comma-separated numbers"),
        (["--logits", "1,nan"], "--logits: expected finite numbers"),
        (["--logits", "1,2", "--probs", "0.5,0.5"], "--logits, --probs: give one"),
        (["--plot", "x.unknown"], "--plot: expected a file name ending in one of"),
    ],
)
def test_cli_user_mistakes_are_one_line_and_status_2(args: list[str], message: str) -> None:
    result = _run(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_cli_mistake_in_a_real_process_has_no_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "crossent", "explain", "--probs", "0.5,0.6,0.1", "--target", "0"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "60"},
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: --probs:")


def test_plot_is_drawn_and_written_atomically(tmp_path: Path) -> None:
    out = tmp_path / "terms.png"
    result = _run("--target", "0.2,0.7,0.1", "--plot", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["terms.png"]  # no temporary left
    svg = tmp_path / "terms.svg"
    assert _run("--probs", "1,0", "--target", "1", "--plot", str(svg)).exit_code == 0
    assert b"<svg" in svg.read_bytes()[:500]  # an infinite term is drawn (labelled), not lost
    (tmp_path / "dir.png").mkdir()
    assert _run("--plot", str(tmp_path / "dir.png")).exit_code == 2
    assert _run("--plot", str(tmp_path / "missing" / "a.png")).exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.png", "terms.png", "terms.svg"]


def test_plot_failure_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.figure

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken)
    from crossent.explain import plot_explanation

    with pytest.raises(OSError, match="disk full"):
        plot_explanation(explain(), tmp_path / "a.png")
    assert list(tmp_path.iterdir()) == []


def test_the_opening_speaks_about_the_given_numbers() -> None:
    """The seed's sentence opens the seed's example only; given numbers get their own."""
    assert explain().intro == explain().seed
    mine = explain([3.0, 1.0, 0.2], target=1)
    assert mine.intro.startswith("Your logits z = (3, 1, 0.2) over 3 classes, target class 1:")
    assert "(1, 2, 0.5)" not in mine.intro and mine.seed == explain().seed
    probs = explain(probabilities=[0.25, 0.75], target=[0.5, 0.5])
    assert probs.intro.startswith("Your predicted probabilities p = (0.25, 0.75)")
    assert "target distribution y = (0.5, 0.5)" in probs.intro
    result = _run("--logits", "3,1,0.2", "--target", "1")
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("Your logits z = (3, 1, 0.2)") and "seed is the study note" not in first
    assert "the seed's logits" not in result.output and "your logits stay below" in result.output
    assert _strict_json(_run("--logits", "3,1,0.2", "--target", "1", "--json").output)[
        "intro"
    ].startswith("Your logits")


def test_a_target_is_required_with_given_numbers() -> None:
    """The seed's class 1 is not silently applied to other logits (one class had none)."""
    for kwargs in ({"logits": [5.0]}, {"logits": [1.0, 2.0, 0.5]}, {"probabilities": [0.5] * 2}):
        with pytest.raises(ValueError, match="target: required with your own logits"):
            explain(**kwargs)  # type: ignore[arg-type]
    one = explain([5.0], target=0)
    assert one.form1 == 0.0 and one.cross_entropy == 0.0 and one.target == [1.0]
    result = _run("--logits", "5", "--target", "0")
    assert result.exit_code == 0 and "out of range" not in result.output


def _broadcast_one_liner(batch: np.ndarray, labels: np.ndarray) -> float:
    """The seed's line, written out element by element in float64: entry [i, j] is
    -batch[i, labels[j]] + log Σ_c exp(batch[j, c]) (the [B] sum broadcasts along j)."""
    b = batch.shape[0]
    lse = [math.log(sum(math.exp(v) for v in row)) for row in batch.tolist()]
    return sum(-batch[i, labels[j]] + lse[j] for i in range(b) for j in range(b)) / b**2


@pytest.mark.parametrize("seed", range(4))
def test_the_one_liner_demo_uses_the_given_loss(seed: int) -> None:
    """Its rows are rotations of the given logits with the target rotated along, so the
    correct value is the given loss; the wrong one is the broadcast mean, recomputed here."""
    rng = np.random.default_rng(seed)
    c = int(rng.integers(2, 7))
    z = rng.normal(0, 3, c)
    k = int(rng.integers(c))
    r = explain(z.tolist(), target=k)
    b = r.seed_batch
    expected = -z[k] + scipy.special.logsumexp(z)
    assert b.correct_loss == pytest.approx(expected, rel=1e-12) == r.form1
    assert b.labels == [(k + i) % c for i in range(3)] and b.batch_shape == [3, c]
    batch = np.stack([np.roll(z, i) for i in range(3)])
    assert np.all(batch[np.arange(3), b.labels] == z[k])  # every row's target logit is z_k
    naive = _broadcast_one_liner(batch.astype(np.float32).astype(np.float64), np.array(b.labels))
    assert b.naive_loss == pytest.approx(naive, rel=1e-5, abs=1e-5)
    assert b.naive_intermediate_shape == [3, 3]


def test_the_one_liner_text_names_the_loss_and_the_wrong_value() -> None:
    out = _run("--logits", "3,1,0.2", "--target", "1").output
    r = explain([3.0, 1.0, 0.2], target=1)
    assert r.seed_batch.naive_loss == pytest.approx(-np.mean([3, 1, 0.2]) + r.form1 + 1.0)
    assert f"every row's true loss is your form 1, {r.form1:.6f}" in out
    assert f"the mean is {r.seed_batch.naive_loss:.6f}, not the loss" in out
    assert "output_layer[range(3), Y]" in out and "Y = [1, 2, 0]" in out
    single = _run("--logits", "5", "--target", "0").output  # the same number: said why
    assert "equal here only for these logits" in single


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_plot_file_mode_follows_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    from crossent.explain import plot_explanation

    old = os.umask(umask)
    try:
        plot_explanation(explain(), tmp_path / "new.png")
        kept = tmp_path / "kept.svg"
        kept.write_bytes(b"old")
        kept.chmod(0o604)
        plot_explanation(explain(), kept)  # replacing a file keeps its permissions
    finally:
        os.umask(old)
    assert (tmp_path / "new.png").stat().st_mode & 0o777 == mode
    assert kept.stat().st_mode & 0o777 == 0o604 and kept.read_bytes() != b"old"


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"target": [0.2, 0.7, 0.1]}, {"probabilities": [1.0, 0.0], "target": 1}],
)
def test_plot_legends_cover_no_bar(kwargs: dict[str, Any]) -> None:
    import matplotlib.pyplot as plt

    from crossent.explain import draw_explanation

    fig = draw_explanation(explain(**kwargs))
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        page = fig.bbox
        for ax in fig.axes:
            legend = ax.get_legend().get_window_extent(renderer)
            assert page.x0 <= legend.x0 and legend.x1 <= page.x1 and page.y0 <= legend.y0
            bars = [patch.get_window_extent(renderer) for patch in ax.patches]
            assert bars and not any(legend.overlaps(bar) for bar in bars), ax.get_title()
            assert not legend.overlaps(ax.get_window_extent(renderer))  # below the axes
    finally:
        plt.close(fig)
