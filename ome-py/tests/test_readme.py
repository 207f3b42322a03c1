"""The README's Python examples run as written."""

import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example(tmp_path, index):
    if "dask" in BLOCKS[index]:
        pytest.importorskip("dask.array")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(BLOCKS[index], f"README.md[{index}]", "exec"), {})
    finally:
        os.chdir(cwd)
