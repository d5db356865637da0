"""What every command-line error must look like, checked in one place."""

from __future__ import annotations

from typer.testing import Result


def one_error_line(res: Result, *needles: str) -> str:
    """The one error line of ``res``; checks exit status 2, one ``error:`` line on stderr
    holding every needle, and no traceback."""
    assert res.exit_code == 2, (res.exit_code, res.output)
    err = res.stderr.strip()
    assert "\n" not in err and err.startswith("error: "), err
    assert "Traceback" not in res.output
    for needle in needles:
        assert needle in err, (needle, err)
    return err
