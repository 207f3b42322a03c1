import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from no_skip_in_ci import pytest_runtest_makereport  # noqa: E402,F401  (a skip fails under CI=true)


@pytest.fixture
def czyx() -> np.ndarray:
    rng = np.random.default_rng(42)
    return rng.integers(0, 4000, (2, 5, 300, 260), dtype=np.uint16)
