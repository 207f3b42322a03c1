import numpy as np
import pytest


@pytest.fixture
def czyx() -> np.ndarray:
    rng = np.random.default_rng(42)
    return rng.integers(0, 4000, (2, 5, 300, 260), dtype=np.uint16)
