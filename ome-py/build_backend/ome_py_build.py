"""The PEP 517 build backend: maturin, with the wheel's platform tag taken from
`[tool.maturin] compatibility` in pyproject.toml.

maturin's own PEP 517 hook passes `--compatibility off` unless told otherwise, so
`pip install ./ome-py` and `pip wheel ./ome-py` would make a `linux_x86_64` wheel that
no other machine accepts. This shim passes the pyproject setting instead; an explicit
`--config-settings build-args=...` or `MATURIN_PEP517_ARGS` still wins.
"""
from __future__ import annotations

import os
from typing import Any, Mapping

import maturin
from maturin import *  # noqa: F403  (every other hook unchanged)


def _with_compatibility(config_settings: Mapping[str, Any] | None) -> dict[str, Any]:
    settings = dict(config_settings or {})
    args = maturin.get_maturin_pep517_args(settings)
    if any(a.startswith(("--compatibility", "--manylinux")) for a in args):
        return settings
    compatibility = maturin.get_config().get("compatibility")
    if compatibility:
        settings["build-args"] = [*args, "--compatibility", str(compatibility)]
        os.environ.pop("MATURIN_PEP517_ARGS", None)  # now carried by build-args
    return settings


def build_wheel(
    wheel_directory: str,
    config_settings: Mapping[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    return maturin.build_wheel(wheel_directory, _with_compatibility(config_settings), metadata_directory)
