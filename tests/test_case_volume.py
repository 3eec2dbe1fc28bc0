"""Volume is a signal (issue 12, item 3): a rule's cases against the previous run and recipients.

The edges on inline counts (exactly 3x is quiet, above warns; exactly the
share is quiet, above warns; no previous run; a rule not evaluated last
run; a rule with 0 cases last run), then consecutive runs of a tiny
delivery, which show the warnings in the manifest, the validation report and
the log while the run still publishes.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from builders import tiny_rows, write_delivery

from kontrol.case_volume import PreviousRun, check_case_volume, previous_run_from
from kontrol.config import KontrolConfig, VolumeConfig
from kontrol.queue import DEMO_CASE_KEY
from kontrol.run import run

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "delivery"
LIMITS = VolumeConfig(max_growth_ratio=3, max_share_of_recipients=0.01)
PARAMETERS = {"R04": {"income_threshold_dkk": "1000.00"}, "R03": {}}
NAMES = {"R04": "Income while on an income-tested benefit", "R03": "Paid after death"}


def previous(counts: dict[str, int], parameters: dict[str, Any] | None = None) -> PreviousRun:
    return PreviousRun("2026-09-30", counts, parameters if parameters is not None else PARAMETERS)


def warnings_of(
    cases: dict[str, int],
    before: PreviousRun | None,
    recipients: int = 1_000_000,
    limits: VolumeConfig = LIMITS,
) -> list[str]:
    return check_case_volume(cases, recipients, before, PARAMETERS, NAMES, limits).warnings


def test_exactly_three_times_the_previous_count_is_quiet() -> None:
    assert warnings_of({"R04": 30}, previous({"R04": 10})) == []


def test_above_three_times_the_previous_count_warns_naming_rule_and_parameters() -> None:
    (warning,) = warnings_of({"R04": 31}, previous({"R04": 10}))
    assert warning.startswith("case volume: R04 (Income while on an income-tested benefit): 31")
    assert "more than 3x the 10 of the previous run (2026-09-30)" in warning
    assert "parameters in force: income_threshold_dkk=1000.00" in warning
    assert "previous run:" not in warning  # the parameters did not change


def test_a_changed_parameter_is_named_with_its_previous_value() -> None:
    before = previous({"R04": 10}, {"R04": {"income_threshold_dkk": "5000.00"}})
    (warning,) = warnings_of({"R04": 31}, before)
    assert warning.endswith(
        "parameters in force: income_threshold_dkk=1000.00; "
        "previous run: income_threshold_dkk=5000.00"
    )


def test_a_rule_without_parameters_says_so() -> None:
    (warning,) = warnings_of({"R03": 4}, previous({"R03": 1}))
    assert "R03 (Paid after death)" in warning
    assert "parameters in force: none (the rule declares no parameters)" in warning


def test_zero_cases_last_run_counts_as_one() -> None:
    """0 -> 3 is quiet, 0 -> 4 warns: exactly as 1 -> 3 and 1 -> 4."""
    assert warnings_of({"R03": 3}, previous({"R03": 0})) == []
    (warning,) = warnings_of({"R03": 4}, previous({"R03": 0}))
    assert "the 0 of the previous run" in warning
    assert "a rule with 0 cases counted as 1" in warning


def test_a_rule_not_evaluated_last_run_is_no_growth() -> None:
    """R03 absent from the previous cases_per_rule (its register was not delivered)."""
    result = check_case_volume(
        {"R03": 500}, 1_000_000, previous({"R04": 10}), PARAMETERS, NAMES, LIMITS
    )
    assert result.warnings == []
    assert result.to_json()["rules"]["R03"]["previous_cases"] is None


def test_the_first_run_checks_no_growth() -> None:
    result = check_case_volume({"R04": 500}, 1_000_000, None, PARAMETERS, NAMES, LIMITS)
    assert result.warnings == []
    assert result.to_json()["previous_run_as_of"] is None


def test_exactly_the_configured_share_is_quiet_and_above_warns() -> None:
    assert warnings_of({"R04": 100}, None, recipients=10_000) == []
    (warning,) = warnings_of({"R04": 101}, None, recipients=10_000)
    assert "101 cases for 10000 recipients (1.01 %), above 1.00 %" in warning
    assert "(volume.max_share_of_recipients)" in warning


def test_growth_and_share_warn_separately() -> None:
    found = warnings_of({"R04": 200}, previous({"R04": 10}), recipients=1_000)
    assert len(found) == 2
    assert "more than 3x" in found[0] and "above 1.00 %" in found[1]


def test_no_recipients_gives_no_share() -> None:
    result = check_case_volume({"R04": 0}, 0, None, PARAMETERS, NAMES, LIMITS)
    assert result.warnings == []
    assert result.to_json()["rules"]["R04"]["share_of_recipients"] is None


def test_the_thresholds_are_configured() -> None:
    strict = VolumeConfig(max_growth_ratio=1.5, max_share_of_recipients=0.5)
    assert warnings_of({"R04": 15}, previous({"R04": 10}), limits=strict) == []
    assert len(warnings_of({"R04": 16}, previous({"R04": 10}), limits=strict)) == 1
    config = KontrolConfig.model_validate({"volume": {"max_growth_ratio": 2}})
    assert config.volume.max_growth_ratio == 2
    assert config.volume.max_share_of_recipients == 0.01


def test_the_thresholds_do_not_change_the_run_id() -> None:
    """They decide what the run warns about, never a case (like the presentation sections)."""
    other = KontrolConfig.model_validate({"volume": {"max_share_of_recipients": 0.5}})
    assert other.canonical_json() == KontrolConfig().canonical_json()


def test_previous_run_is_read_from_a_manifest() -> None:
    manifest = {
        "as_of": "2026-09-30",
        "cases_per_rule": {"R01": 3, "R04": 0},
        "rule_parameters": {"R04": {"income_threshold_dkk": "1000.00"}},
    }
    found = previous_run_from(manifest)
    assert found == PreviousRun("2026-09-30", {"R01": 3, "R04": 0}, manifest["rule_parameters"])
    assert previous_run_from(None) is None
    assert previous_run_from({"as_of": "2026-09-30"}) is None  # no counts: no comparison


# --- consecutive runs ------------------------------------------------------------------


def with_paid_after_death(persons: int) -> dict[str, list[dict[str, Any]]]:
    """The tiny delivery plus ``persons`` recipients who died in March and were paid on."""
    rows = tiny_rows()
    for n in range(persons):
        cpr = f"0101{70 + n:02d}4321"
        rows["persons"].append(
            {
                "cpr": cpr,
                "birth_date": date(1900 + 70 + n, 1, 1),
                "sex": "M",
                "citizenship": "DK",
                "municipality_code": 461,
            }
        )
        rows["residence_events"] += [
            {
                "cpr": cpr,
                "event_date": date(2010, 1, 1),
                "event_type": "address",
                "address_id": f"D{n}",
                "country_code": None,
            },
            {
                "cpr": cpr,
                "event_date": date(2026, 3, 15),
                "event_type": "died",
                "address_id": None,
                "country_code": None,
            },
        ]
        rows["payments"] += [
            {
                "payment_id": f"D{n}-{month}",
                "cpr": cpr,
                "benefit_code": "FOLKEPENSION",
                "period_start": date(2026, month, 1),
                "period_end": date(2026, month, 28),
                "amount_dkk": Decimal("9000.00"),
                "payment_type": "regular",
                "paid_date": date(2026, month, 1),
            }
            for month in range(1, 10)
        ]
    return rows


def run_with(tmp_path: Path, out: Path, dead: int, config: KontrolConfig) -> dict[str, Any]:
    delivery = write_delivery(tmp_path / f"delivery-{dead}", with_paid_after_death(dead))
    result = run(delivery, out, date(2026, 10, 31), config, DEMO_CASE_KEY.encode())
    assert result.cases_per_rule["R03"] == dead
    manifest: dict[str, Any] = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [w for w in result.warnings if w.startswith("case volume")] == [
        w for w in manifest["warnings"] if w.startswith("case volume")
    ]
    return manifest


def volume_warnings(manifest: dict[str, Any]) -> list[str]:
    return [w for w in manifest["warnings"] if w.startswith("case volume: R03")]


def test_consecutive_runs_warn_in_manifest_report_and_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Recipients are the mother of the tiny delivery plus the dead: the share is dead/(dead+1)."""
    out = tmp_path / "out"
    config = KontrolConfig.model_validate({"volume": {"max_share_of_recipients": 0.5}})
    caplog.set_level(logging.INFO)

    first = run_with(tmp_path, out, 1, config)  # first run, share exactly 1/2
    assert first["case_volume"]["previous_run_as_of"] is None
    assert first["case_volume"]["recipients"] == 2
    assert volume_warnings(first) == []

    second = run_with(tmp_path, out, 3, config)  # exactly 3x the 1 of the first run
    (share,) = volume_warnings(second)
    assert "3 cases for 4 recipients (75.00 %), above 50.00 %" in share
    assert second["case_volume"]["rules"]["R03"]["previous_cases"] == 1

    caplog.clear()
    third = run_with(tmp_path, out, 10, config)  # above 3x the 3 of the second run
    growth, share = volume_warnings(third)
    assert "R03 (Paid after death): 10 cases, more than 3x the 3 of the previous run" in growth
    assert "parameters in force: none" in growth
    report = (out / "validation" / "index.html").read_text(encoding="utf-8")
    assert "2 warning(s)" in report
    for warning in (growth, share):
        assert warning in report
        assert warning in [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    # the delivery's own warning too (the tiny delivery's payments stop in September)
    assert "delivery: payments__stops_before_as_of_month" in third["warnings"]
    assert_each_warning_logged_once(caplog.records, third)
    assert (out / "cases.parquet").is_file()  # warnings are warnings: the run published


def run_warnings_logged(records: list[logging.LogRecord]) -> list[str]:
    """The run's warnings as logged: validation warnings and case-volume warnings."""
    return [
        r.getMessage()
        for r in records
        if r.levelno == logging.WARNING
        and r.getMessage().startswith(("validation warning: ", "case volume: "))
    ]


def assert_each_warning_logged_once(
    records: list[logging.LogRecord], manifest: dict[str, Any]
) -> None:
    """Each warning of the manifest is one line of the log: the step that found it logs it,
    and nothing (the run's summary, a second logger) repeats it."""
    logged = run_warnings_logged(records)
    twice = sorted({m for m in logged if logged.count(m) > 1})
    assert twice == [], f"logged more than once: {twice}"
    assert len(logged) == len(manifest["warnings"]), (logged, manifest["warnings"])


def test_a_delivery_warning_is_logged_once_by_its_step(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Payments after the as-of date: a warning of the delivery suite without a detail."""
    caplog.set_level(logging.INFO)
    delivery = write_delivery(tmp_path / "delivery", tiny_rows())
    run(delivery, tmp_path / "out", date(2026, 3, 31), KontrolConfig(), DEMO_CASE_KEY.encode())
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["warnings"] == ["delivery: payments__rows_after_as_of"]
    (line,) = run_warnings_logged(caplog.records)
    assert line.startswith("validation warning: payments.parquet: rows_after_as_of")
    assert line.endswith("[delivery: payments__rows_after_as_of]")
    assert_each_warning_logged_once(caplog.records, manifest)


def test_rules_not_evaluated_last_run_claim_no_growth(tmp_path: Path) -> None:
    """The tiny delivery has no optional register: R08-R11 are not evaluated there.

    The committed fixture then has 4 cases of R10 and of R11: read as 0 -> 4 they
    would warn; not evaluated, they have no previous count and do not.
    """
    out = tmp_path / "out"
    config = KontrolConfig.model_validate({"volume": {"max_share_of_recipients": 1.0}})
    tiny = write_delivery(tmp_path / "tiny", tiny_rows())
    first = run(tiny, out, date(2026, 10, 31), config, DEMO_CASE_KEY.encode())
    assert {"R10", "R11"}.isdisjoint(first.cases_per_rule)
    second = run(FIXTURE, out, date(2026, 10, 31), config, DEMO_CASE_KEY.encode())
    assert second.cases_per_rule["R10"] == second.cases_per_rule["R11"] == 4
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    rules = manifest["case_volume"]["rules"]
    assert rules["R10"]["previous_cases"] is None and rules["R11"]["previous_cases"] is None
    assert not [w for w in manifest["warnings"] if w.startswith("case volume")]
