"""fixtures/delivery is exactly what its README's command regenerates."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from synth_helpers import sha256_all

from kontrol.synth import GENERATOR_VERSION, synthesize

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "delivery"


def test_fixture_regenerates_byte_for_byte(tmp_path: Path) -> None:
    params = json.loads((FIXTURE / "synth.json").read_text(encoding="utf-8"))
    assert params["generator_version"] == GENERATOR_VERSION
    assert (
        params["persons"],
        params["seed"],
        params["as_of"],
        params["months"],
        params["row_defects"],
    ) == (3000, 20261031, "2026-10-31", 15, 6)
    readme = (FIXTURE / "README.md").read_text(encoding="utf-8")
    assert "--persons 3000 --seed 20261031 --as-of 2026-10-31 --months 15 --row-defects 6" in readme
    out = tmp_path / "delivery"
    synthesize(out, persons=3000, seed=20261031, as_of=date(2026, 10, 31), months=15, row_defects=6)
    committed = {k: v for k, v in sha256_all(FIXTURE).items() if k != "README.md"}
    assert committed == sha256_all(out)


def test_fixture_is_small() -> None:
    total = sum(p.stat().st_size for p in FIXTURE.iterdir())
    assert total < 3_000_000
