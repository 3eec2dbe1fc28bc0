"""Same arguments give byte-identical files; another seed gives other data."""

from __future__ import annotations

from pathlib import Path

import pytest
from synth_helpers import sha256_all

from kontrol.synth import synthesize


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    synthesize(a, persons=1500, seed=1, row_defects=3)
    synthesize(b, persons=1500, seed=1, row_defects=3)
    synthesize(c, persons=1500, seed=2, row_defects=3)
    hashes = sha256_all(a)
    assert set(hashes) == {
        "persons.parquet",
        "residence_events.parquet",
        "relations.parquet",
        "payments.parquet",
        "income.parquet",
        "utility_readings.parquet",
        "tenancies.parquet",
        "inspections.parquet",
        "custody.parquet",
        "ground_truth.parquet",
        "ground_truth_rejects.parquet",
        "synth.json",
    }
    assert hashes == sha256_all(b)
    other = sha256_all(c)
    for name in (
        "persons.parquet",
        "payments.parquet",
        "income.parquet",
        "utility_readings.parquet",
        "ground_truth.parquet",
    ):
        assert hashes[name] != other[name], name


def test_defects_only_add_rows(tmp_path: Path) -> None:
    """Removing the defect rows leaves exactly the delivery generated without them."""
    import polars as pl
    from synth_helpers import clean

    with_defects, without = tmp_path / "d", tmp_path / "n"
    synthesize(with_defects, persons=1500, seed=3, row_defects=8)
    synthesize(without, persons=1500, seed=3, row_defects=0)
    for name in ("persons", "residence_events", "relations", "payments", "income"):
        expected = pl.read_parquet(without / f"{name}.parquet")
        assert clean(with_defects, name).equals(expected), name
    assert pl.read_parquet(with_defects / "ground_truth.parquet").equals(
        pl.read_parquet(without / "ground_truth.parquet")
    )


def test_chunks_are_independent_and_cpr_unique(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several chunks (made small here) never reuse a cpr or a payment id."""
    import polars as pl

    import kontrol.synth as synth

    monkeypatch.setattr(synth, "CHUNK_PERSONS", 700)
    synthesize(tmp_path / "x", persons=2800, seed=5)
    persons = pl.read_parquet(tmp_path / "x" / "persons.parquet")
    assert persons.height == 2800
    assert persons["cpr"].n_unique() == 2800
    payments = pl.read_parquet(tmp_path / "x" / "payments.parquet")
    assert payments["payment_id"].n_unique() == payments.height
