"""The ``kontrol`` command line.

Exit codes: 0 success; 1 the delivery or the run failed (a structural defect,
too many rejects, a failed check, a full disk), with the reason on stderr; 2 a
usage or configuration error. Nothing printed here or logged contains a cpr
value, except ``kontrol cases``, which shows the case queue to an authorised
reader.

Every failure ends in one line on stderr, ``kontrol: <kind>: <what>``, naming
the file, column or argument and the defect; each known failure mode has its
own message (:class:`~kontrol.errors.KontrolError` subclasses, and
:func:`_os_error` for the file system). Only an exception nobody anticipated
falls through to :func:`_internal_error`: one line pointing to a log file
that holds the traceback, with cpr-shaped numbers masked.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from kontrol import catalogue
from kontrol.errors import ConfigError, KontrolError, mask

if TYPE_CHECKING:
    from kontrol.config import KontrolConfig


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from error


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kontrol",
        description="Match register extracts to find benefit payments the registers contradict.",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    parser.add_argument(
        "--log-file",
        type=Path,
        default=None,
        help="where an unexpected error's traceback goes (default: a new file in $TMPDIR)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the rules on a delivery and publish the case queue")
    run.add_argument("--extracts", type=Path, required=True, help="delivery directory")
    run.add_argument("--out", type=Path, required=True, help="output directory")
    run.add_argument("--as-of", type=_date, required=True, help="run date, YYYY-MM-DD")
    run.add_argument("--window-months", type=_positive_int, default=None, help="default 12")
    run.add_argument("--config", type=Path, default=None, help="YAML or JSON configuration")
    run.add_argument(
        "--register",
        type=Path,
        default=None,
        help="case register directory kept across runs (statuses, outcomes, suppression)",
    )
    run.add_argument(
        "--demo-key",
        action="store_true",
        help="use a fixed, public case key instead of $KONTROL_CASE_KEY (synthetic data only)",
    )

    load = commands.add_parser("load", help="check a delivery and print its summary")
    load.add_argument("--extracts", type=Path, required=True, help="delivery directory")
    load.add_argument("--config", type=Path, default=None, help="YAML or JSON configuration")
    load.add_argument(
        "--rejects-out", type=Path, default=None, help="write rejects/<extract>.parquet here"
    )

    synth = commands.add_parser("synth", help="generate a synthetic municipality")
    synth.add_argument("--persons", type=_positive_int, required=True)
    synth.add_argument("--seed", type=int, required=True)
    synth.add_argument("--out", type=Path, required=True)
    synth.add_argument("--as-of", type=_date, default=date(2026, 10, 31))
    synth.add_argument(
        "--months", type=_positive_int, default=15, help="months of payments (at least 13)"
    )
    synth.add_argument("--row-defects", type=int, default=0, help="defective rows to inject")
    synth.add_argument(
        "--unfounded-rate",
        type=float,
        default=0.0,
        help="share of persons given benign cases that fire a rule (for ranking evaluation)",
    )
    synth.add_argument(
        "--hit-rate",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="a high-hit delivery: also inject known positive cases of the v1 rules' scenarios "
        "for about this share of persons (e.g. 0.03 = 3 %%; at most 0.1); default 0: the usual "
        "injection, about 0.4 %%",
    )
    synth.add_argument(
        "--registers",
        choices=("v1", "v2"),
        default="v2",
        help="v2 (default): also the four optional partner registers (CONTRACT.md 1b); "
        "v1: the five required extracts only",
    )

    outcomes = commands.add_parser("outcomes", help="the case register's outcomes")
    outcome_commands = outcomes.add_subparsers(dest="outcomes_command", required=True)
    imported = outcome_commands.add_parser(
        "import", help="import a CSV/XLSX of outcomes from the case system (all or nothing)"
    )
    imported.add_argument("--register", type=Path, required=True, help="case register directory")
    imported.add_argument("file", type=Path, help="CSV or XLSX: case_id, outcome, closed_date, ...")

    cases = commands.add_parser("cases", help="print the top of a published case queue")
    cases.add_argument("--out", type=Path, required=True, help="output directory of a run")
    cases.add_argument("--top", type=_positive_int, default=5)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return _dispatch(args)
    except ConfigError as error:
        return _fail(f"configuration error: {error}", 2)
    except KontrolError as error:
        return _fail(f"error: {error}", 1)
    except OSError as error:
        return _fail(f"error: {_os_error(error)}", 1)
    except KeyboardInterrupt:
        return _fail("interrupted; the previous publication is unchanged", 130)
    except Exception as error:  # the last resort: anything above did not foresee
        return _internal_error(error, args.log_file)
    except BaseException as error:  # a Rust panic in polars/pyarrow (pyo3's PanicException)
        if isinstance(error, SystemExit | GeneratorExit):
            raise
        return _internal_error(error, args.log_file)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        return _run(args)
    if args.command == "load":
        return _load(args)
    if args.command == "synth":
        return _synth(args)
    if args.command == "cases":
        return _cases(args)
    if args.command == "outcomes":
        return _outcomes(args)
    return 2  # pragma: no cover - argparse enforces a command


def _fail(message: str, code: int) -> int:
    print(f"kontrol: {_one_line(message)}", file=sys.stderr)
    return code


def _one_line(text: str) -> str:
    return mask(" ".join(text.split()))


_OS_DEFECTS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOENT: "no such file or directory",
    errno.ENOTDIR: "a path component is a file, not a directory",
    errno.EISDIR: "is a directory",
    errno.EEXIST: "already exists",
}


def _os_error(error: OSError) -> str:
    """``<path>: <defect>`` for a file-system failure (full disk, permissions, ...)."""
    defect = _OS_DEFECTS.get(error.errno or 0) or error.strerror or type(error).__name__
    where = error.filename if error.filename is not None else "file system"
    return f"{where}: {defect}; nothing was published"


def _internal_error(error: BaseException, log_file: Path | None) -> int:
    """One line naming a log file that holds the traceback (cpr-shaped numbers masked)."""
    text = mask("".join(traceback.format_exception(error)))
    try:
        from kontrol import io

        log_file = io.append_private_log(
            text, log_file, prefix=f"kontrol-error-{time.strftime('%Y%m%dT%H%M%S')}-"
        )
        where = f"traceback in {log_file}"
    except OSError as log_error:
        where = f"the traceback could not be written ({_os_error(log_error)})"
    return _fail(
        f"internal error ({type(error).__name__}); nothing was published; {where}; "
        "please report it",
        1,
    )


def _config(args: argparse.Namespace) -> KontrolConfig:
    from kontrol.config import load_config

    return load_config(args.config, window_months=getattr(args, "window_months", None))


def _check_out_dir(option: str, path: Path) -> None:
    """A directory that is, or can be created as, a writable directory; else a usage error."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path}: is a file, not a directory")
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{option} {path}: lies under {existing}, which is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {path}: {existing} is not writable")


def _check_apart(extracts: Path, out: Path) -> None:
    """The outputs must never land in the delivery, nor the delivery inside the outputs."""
    inputs, outputs = extracts.resolve(), out.resolve()
    if inputs == outputs:
        raise ConfigError(f"--extracts and --out are the same directory ({extracts})")
    if outputs.is_relative_to(inputs):
        raise ConfigError(f"--out {out}: lies inside the delivery --extracts {extracts}")
    if inputs.is_relative_to(outputs):
        raise ConfigError(f"--extracts {extracts}: lies inside the output directory --out {out}")


def _run(args: argparse.Namespace) -> int:
    from kontrol.queue import case_key_from_env
    from kontrol.run import run

    config = _config(args)
    _check_out_dir("--out", args.out)
    _check_apart(args.extracts, args.out)
    if args.register is not None:
        _check_out_dir("--register", args.register)
    key = case_key_from_env(os.environ, demo=args.demo_key)
    result = run(args.extracts, args.out, args.as_of, config, key, register_dir=args.register)
    print(f"run {result.run_id}: {result.cases} cases")
    for rule_id, count in result.cases_per_rule.items():
        print(f"  {rule_id}: {count}")
    if result.warnings:  # each is logged once by the step that found it: counted here
        print(
            f"warnings: {len(result.warnings)} (logged above; in the manifest "
            "and the validation report)"
        )

    def out(name: str) -> Path:
        return result.out_dir / catalogue.dataset(name).file

    print(f"case list:         {out('cases_html')} (and {out('cases_xlsx').name})")
    print(f"case queue:        {out('cases')}")
    print(f"validation report: {out('validation')}")
    print(f"fairness report:   {out('fairness')}")
    print(f"manifest:          {out('manifest')}")
    print(f"rejects:           {out('rejects').parent}")
    print(f"suppressed:        {out('suppressed')}")
    print(f"rule performance:  {out('rule_performance')}")
    if args.register is not None:
        print(f"case register:     {args.register}")
    return 0


def _load(args: argparse.Namespace) -> int:
    from kontrol import io, pipeline

    config = _config(args)
    with io.private_temp_dir("kontrol-load-") as staging:
        loads = pipeline.load_delivery(args.extracts, staging, config)
        for line in pipeline.delivery_summary(loads, pipeline.open_staged(staging)):
            print(line)
        if args.rejects_out is not None:
            rejects = catalogue.directory(staging, "rejects")
            io.set_modes(rejects.parent, catalogue.cpr_names(), None)  # rejects hold cpr: 0700
            io.publish(rejects, args.rejects_out)
            print(f"rejects written to {args.rejects_out}")
    return 0


def _synth(args: argparse.Namespace) -> int:
    from kontrol.synth import synthesize

    try:
        summary = synthesize(
            args.out,
            persons=args.persons,
            seed=args.seed,
            as_of=args.as_of,
            months=args.months,
            row_defects=args.row_defects,
            unfounded_rate=args.unfounded_rate,
            hit_rate=args.hit_rate,
            registers=args.registers,
        )
    except ValueError as error:  # the generator's own argument checks
        raise ConfigError(f"synth: {error}") from error
    print(summary)
    return 0


def _outcomes(args: argparse.Namespace) -> int:
    from kontrol.lifecycle import store

    if not args.file.is_file():
        raise ConfigError(f"{args.file}: no such file")
    if args.file.suffix.lower() not in (".csv", ".xlsx", ".xlsm"):
        raise ConfigError(f"{args.file}: expected a .csv or .xlsx file")
    if not (args.register / store.CURRENT_FILE).is_file():
        raise ConfigError(f"{args.register}: not a case register (no run has been recorded)")
    count = store.import_outcomes(args.register, args.file)
    print(f"imported {count} outcome(s) into {args.register}")
    return 0


def _cases(args: argparse.Namespace) -> int:
    from kontrol.report import describe_top_cases

    for line in describe_top_cases(args.out / catalogue.dataset("cases").file, args.top):
        print(line)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
