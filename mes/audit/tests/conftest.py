from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def checkpoint_dir(settings: Any, tmp_path: Path) -> Path:
    """Each test publishes its checkpoints in a folder of its own (they outlive the database's
    rollback, as they do in production)."""
    folder = tmp_path / "audit-checkpoints"
    settings.MES_AUDIT_CHECKPOINT_DIR = str(folder)
    return folder
