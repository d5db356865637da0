"""The built wheel and sdist carry the licence, the NOTICE of the bundled data, and the data.

Builds both with hatchling (the project's build backend, offline, about a second) into a
temporary directory and looks inside.
"""

from __future__ import annotations

import email.parser
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "crossent" / "data"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-d", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("crossent-*.whl")
    (sdist,) = out.glob("crossent-*.tar.gz")
    return wheel, sdist


def _data_files() -> list[str]:
    return sorted(p.name for p in DATA.iterdir() if p.is_file() and p.name != "README.md")


def test_license_is_the_full_apache_2_text() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License\n                           Version 2.0")
    for section in ("1. Definitions.", "4. Redistribution.", "9. Accepting Warranty"):
        assert section in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_notice_lists_every_bundled_data_file_with_its_licence() -> None:
    notice = (ROOT / "NOTICE").read_text()
    assert _data_files(), "no bundled data found"
    for name in _data_files():
        assert name in notice, f"NOTICE does not list {name}"
    for licence in ("CC BY-SA 3.0", "Apache License, Version 2.0", "WordSim-353"):
        assert licence in notice


def test_wheel_has_licence_notice_and_data(built: tuple[Path, Path]) -> None:
    wheel, _ = built
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        info = "crossent-0.1.0.dist-info"
        assert zf.read(f"{info}/licenses/LICENSE") == (ROOT / "LICENSE").read_bytes()
        assert zf.read(f"{info}/licenses/NOTICE") == (ROOT / "NOTICE").read_bytes()
        meta = email.parser.Parser().parsestr(zf.read(f"{info}/METADATA").decode())
    assert meta["License-Expression"] == "Apache-2.0"
    assert sorted(meta.get_all("License-File") or []) == ["LICENSE", "NOTICE"]
    for name in [*_data_files(), "README.md"]:
        assert f"crossent/data/{name}" in names
    assert "crossent/py.typed" in names
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]


def test_sdist_has_licence_notice_data_and_tests(built: tuple[Path, Path]) -> None:
    _, sdist = built
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
        license_member = tf.extractfile(f"{sdist.name.removesuffix('.tar.gz')}/LICENSE")
        assert license_member is not None
        assert license_member.read() == (ROOT / "LICENSE").read_bytes()
    assert {"LICENSE", "NOTICE", "pyproject.toml", "README.md", "mkdocs.yml"} <= names
    for name in _data_files():
        assert f"src/crossent/data/{name}" in names
    assert "tests/test_distribution.py" in names
