import sys
from pathlib import Path

import pytest

# The app modules are imported by their plain names, as app.py imports them.
sys.path.insert(0, str(Path(__file__).parents[1] / "app"))


@pytest.fixture
def shared_data_dir() -> Path:
    """Directory with the real sample datasets, next to the repository."""
    data_dir = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not data_dir.is_dir():
        pytest.skip(f"sample data directory not found: {data_dir}")
    return data_dir
