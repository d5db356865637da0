"""``crossent explain``: the seed example, text output and error messages."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from crossent.cli import app


def test_explain_cli_default_is_the_seed_example() -> None:
    result = CliRunner().invoke(app, ["explain", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["target"] == [0.0, 1.0, 0.0]
    assert abs(data["form1"] - data["form2"]) < 1e-12
    assert abs(data["cross_entropy"] - (data["entropy_target"] + data["kl_divergence"])) < 1e-12
    batch = data["seed_batch"]
    assert batch["naive_intermediate_shape"] == [3, 3]  # the seed line's B×B broadcast
    assert abs(batch["naive_loss"] - batch["correct_loss"]) > 1e-3
    assert batch["logits_x100_naive"] == float("inf")
    assert batch["logits_x100_correct"] < float("inf")


def test_explain_cli_text_and_errors() -> None:
    runner = CliRunner()
    text = runner.invoke(app, ["explain", "--logits", "0,0" + ",0", "--target", "1,0,0"])
    assert text.exit_code == 0
    assert "form 1" in text.output
    assert "1.098612" in text.output  # log 3
    bad = runner.invoke(app, ["explain", "--logits", "1,2", "--target", "0,1,0"])
    assert bad.exit_code == 2
    assert "target: expected 2 probabilities" in bad.output
    junk = runner.invoke(app, ["explain", "--logits", "a,b"])
    assert junk.exit_code == 2
