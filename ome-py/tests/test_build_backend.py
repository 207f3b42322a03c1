"""The build backend shim gives pip builds the pyproject's wheel compatibility tag."""

import sys
from pathlib import Path

import pytest

pytest.importorskip("maturin")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "build_backend"))
import ome_py_build  # noqa: E402


@pytest.fixture(autouse=True)
def in_project(monkeypatch):
    monkeypatch.chdir(ROOT)  # maturin reads ./pyproject.toml
    monkeypatch.delenv("MATURIN_PEP517_ARGS", raising=False)


def test_pyproject_compatibility_is_passed():
    settings = ome_py_build._with_compatibility(None)
    assert settings["build-args"] == ["--compatibility", "pypi"]


def test_other_build_args_are_kept(monkeypatch):
    monkeypatch.setenv("MATURIN_PEP517_ARGS", "--features foo")
    settings = ome_py_build._with_compatibility({})
    assert settings["build-args"] == ["--features", "foo", "--compatibility", "pypi"]


def test_an_explicit_choice_wins():
    given = {"build-args": "--compatibility linux"}
    assert ome_py_build._with_compatibility(given) == given


def test_every_maturin_hook_is_exported():
    for hook in ("build_wheel", "build_sdist", "build_editable", "prepare_metadata_for_build_wheel",
                 "get_requires_for_build_wheel"):
        assert callable(getattr(ome_py_build, hook)), hook
