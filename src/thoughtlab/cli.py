"""The ``thoughtlab`` command line: thin parsing around the library.

User errors (:class:`thoughtlab.errors.UserError`) print one line on stderr and
exit with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from thoughtlab import validate
from thoughtlab.errors import UnknownName, UserError
from thoughtlab.study import SCALES

DEFAULT_RUNS_DIR = os.environ.get("THOUGHTLAB_RUNS", "runs")


MAX_SEEDS = 1000  # seeds of one run: each is a full training; more is a typo, not a study


def check_scale(scale: str) -> str:
    if scale not in SCALES:
        raise UnknownName("scale", scale, SCALES)
    return scale


def seeds_for(study, scale: str, seed: int, count: int | None) -> list[int]:
    """``count`` consecutive seeds from ``seed`` (the study's default count if None)."""
    count = study.seeds.get(scale, 1) if count is None else count
    if count < 1:
        raise UserError(f"--seeds must be at least 1, got {count}")
    validate.integer(count, "--seeds", high=MAX_SEEDS)
    validate.seed(seed + count - 1, f"the last seed (--seed {seed} + --seeds {count} - 1)")
    return list(range(seed, seed + count))


def cmd_list(args: argparse.Namespace) -> None:
    from thoughtlab.registry import all_studies

    for study in all_studies().values():
        print(f"{study.id}  —  {study.title}  [{study.thought}]")
        for claim in study.claims:
            print(f"    • {claim.statement}\n      criterion: {claim.criterion}")
        print()


def print_verdicts(run_dir: Path) -> None:
    from thoughtlab.report import format_claim_line
    from thoughtlab.runs import read_result

    result = read_result(run_dir)
    print(f"{result['study']} ({result['scale']}, seeds {result['seeds']}, {result['duration_s']:.1f} s): {run_dir}")
    for claim in result["claims"]:
        print("  " + format_claim_line(claim))


def cmd_run(args: argparse.Namespace) -> None:
    from thoughtlab.registry import get_study
    from thoughtlab.runner import execute

    study = get_study(args.study)
    scale = check_scale(args.scale)
    run_dir = execute(study, scale, seeds_for(study, scale, args.seed, args.seeds), Path(args.runs_dir), args.device)
    print_verdicts(run_dir)


def cmd_report(args: argparse.Namespace) -> None:
    from thoughtlab.registry import all_studies, get_study
    from thoughtlab.report import build_report
    from thoughtlab.runner import execute
    from thoughtlab.runs import RunIndex, load_result, prepare_runs_dir

    scale = check_scale(args.scale)
    studies = [get_study(s) for s in args.only] if args.only else list(all_studies().values())
    validate.output_dir(args.out, "--out")
    runs_dir = prepare_runs_dir(Path(args.runs_dir))
    index = RunIndex(runs_dir)
    run_dirs = []
    for study in studies:
        row = index.latest_complete(study.id, scale)
        if row is None or not matches_claims(load_result(row), study):
            print(f"running {study.id} at {scale} scale…", file=sys.stderr)
            run_dirs.append(execute(study, scale, seeds_for(study, scale, args.seed, None), runs_dir, args.device))
        else:
            run_dirs.append(Path(row.path))
        html = build_report(run_dirs, Path(args.out), scale)  # re-rendered after each study: readable while the rest runs
    print(f"report: {html}")


def matches_claims(result: dict, study) -> bool:
    """Whether a recorded run judged the study's current claims with their current criteria (else it is redone)."""
    recorded = {(c["id"], c.get("criterion_hash")) for c in result.get("claims", [])}
    return recorded == {(c.id, c.criterion_hash()) for c in study.claims}


def cmd_runs(args: argparse.Namespace) -> None:
    from thoughtlab.runs import RunIndex

    runs_dir = Path(args.runs_dir)
    if runs_dir.exists() and not runs_dir.is_dir():
        raise UserError(f"--runs-dir {runs_dir} is a file, not a runs folder; pass the folder that `thoughtlab run` wrote")
    if args.scale is not None:
        check_scale(args.scale)
    rows = RunIndex(runs_dir).rows(args.study, args.scale) if runs_dir.is_dir() else []
    if not rows:
        print(f"no runs in {args.runs_dir}")
        return
    print(f"{'run id':<34} {'study':<20} {'scale':<6} {'seeds':<8} {'status':<12} {'time':>8}  verdicts")
    for r in rows:
        took = f"{r.duration_s:.1f}s" if r.duration_s is not None else "-"
        print(f"{r.run_id:<34} {r.study:<20} {r.scale:<6} {r.seeds:<8} {r.shown_status:<12} {took:>8}  {r.verdicts}")


def cmd_show(args: argparse.Namespace) -> None:
    from thoughtlab.report import format_metric
    from thoughtlab.runs import RunIndex, load_result

    runs_dir = Path(args.runs_dir)
    if runs_dir.exists() and not runs_dir.is_dir():
        raise UserError(f"--runs-dir {runs_dir} is a file, not a runs folder; pass the folder that `thoughtlab run` wrote")
    if not runs_dir.is_dir():
        raise UserError(f"no run matches {args.run!r}: {runs_dir} does not exist; run a study first or pass --runs-dir")
    row = RunIndex(runs_dir).find(args.run)
    result = load_result(row)
    print_verdicts(Path(row.path))
    for claim in result["claims"]:
        print(f"\n[{claim['verdict']}] {', '.join(claim['ledger'])} ({claim['kind']}) {claim['statement']}")
        print(f"  criterion: {claim['criterion']}\n  reason: {claim['reason']}")
        for name in claim["measures"]:
            if name in result["metrics"]:
                print(f"  {name} = {format_metric(result['metrics'][name])}")
    print("\nfigures:", ", ".join(str(Path(row.path) / f["file"]) for f in result["figures"]))


SEED = validate.argtype(lambda value: validate.seed(value, "the seed"))


class Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line (``thoughtlab run: error: ...; see --help``), exit status 2."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="thoughtlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def runs_dir_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--runs-dir", default=DEFAULT_RUNS_DIR, help="where run records live (default: %(default)s)")

    sub.add_parser("list", help="studies and their claims").set_defaults(func=cmd_list)

    p = sub.add_parser("run", help="run one study and record it")
    p.add_argument("study", help="study id (see `thoughtlab list`)")
    p.add_argument("--scale", default="quick", help="smoke | quick | full (default: %(default)s)")
    p.add_argument("--seed", type=SEED, default=0, help="first seed, 0 <= seed < 2**32 (default: %(default)s)")
    p.add_argument("--seeds", type=int, default=None, help="number of seeds (default: the study's own)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda (default: %(default)s)")
    runs_dir_option(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("report", help="run what has no completed run at this scale, then write the HTML report")
    p.add_argument("--scale", default="quick", help="smoke | quick | full (default: %(default)s)")
    p.add_argument("--only", nargs="+", metavar="STUDY", help="only these studies")
    p.add_argument("--out", default="report", help="output folder for report.html and report.json (default: %(default)s)")
    p.add_argument("--seed", type=SEED, default=0, help="first seed of new runs (default: %(default)s)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda (default: %(default)s)")
    runs_dir_option(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("runs", help="table of recorded runs")
    p.add_argument("--study", help="only this study")
    p.add_argument("--scale", help="only this scale")
    runs_dir_option(p)
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("show", help="claims, numbers and figures of one run")
    p.add_argument("run", help="run id or a unique prefix of it (see `thoughtlab runs`)")
    runs_dir_option(p)
    p.set_defaults(func=cmd_show)

    from thoughtlab.csp.cli import add_csp_commands
    from thoughtlab.cyclegan.cli import add_cyclegan_commands
    from thoughtlab.generative.text.cli import add_oracle_commands
    from thoughtlab.metrics.cli import add_eval_commands

    add_eval_commands(sub)
    add_csp_commands(sub)
    add_cyclegan_commands(sub)
    add_oracle_commands(sub)
    return parser


def one_line_warning(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> str:
    """Warnings (e.g. a metric's small-sample warning) as one line, without the source line Python adds."""
    return f"thoughtlab: warning: {message}\n"


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # a usage error (one line, see Parser.error) returns 2 like any bad input; --help exits
        if exc.code == 2:
            return 2
        raise
    warnings.formatwarning = one_line_warning
    try:
        args.func(args)
    except UserError as exc:
        print(f"thoughtlab: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # an output or input path the checks could not foresee (disk full, permissions...)
        print(f"thoughtlab: error: {validate.os_error_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("thoughtlab: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
