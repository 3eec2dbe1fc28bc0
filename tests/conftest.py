"""Shared fixtures: a tiny valid delivery, written with the declared types."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from builders import tiny_rows, write_delivery


@pytest.fixture
def tiny_delivery(tmp_path: Path) -> Path:
    return write_delivery(tmp_path / "delivery", tiny_rows())


@pytest.fixture
def delivery_writer(tmp_path: Path) -> Callable[[dict[str, list[dict[str, Any]]]], Path]:
    """Write a modified copy of the tiny delivery and return its directory."""

    def write(rows: dict[str, list[dict[str, Any]]]) -> Path:
        return write_delivery(tmp_path / "delivery", rows)

    return write
