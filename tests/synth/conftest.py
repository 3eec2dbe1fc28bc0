"""One small synthetic town per test session, shared by the synth tests.

Also makes ``synth_helpers`` importable (the suite runs with
``--import-mode=importlib``, which does not put test directories on sys.path).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from synth_helpers import (  # noqa: E402
    AS_OF,
    HIGH_HIT_RATE,
    SMALL_DEFECTS,
    SMALL_PERSONS,
    SMALL_SEED,
)

from kontrol.synth import synthesize  # noqa: E402


@pytest.fixture(scope="session")
def small_town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "delivery"
    synthesize(out, persons=SMALL_PERSONS, seed=SMALL_SEED, as_of=AS_OF, row_defects=SMALL_DEFECTS)
    return out


@pytest.fixture(scope="session")
def high_hit_town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small town's arguments with ``hit_rate``: about 3 % of persons more hit."""
    out = tmp_path_factory.mktemp("synth-high-hit") / "delivery"
    synthesize(
        out,
        persons=SMALL_PERSONS,
        seed=SMALL_SEED,
        as_of=AS_OF,
        row_defects=SMALL_DEFECTS,
        hit_rate=HIGH_HIT_RATE,
    )
    return out
