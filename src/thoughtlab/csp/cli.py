"""``thoughtlab csp …`` commands (thin: parse, call the library, print)."""

from __future__ import annotations

import argparse
from pathlib import Path

from thoughtlab.errors import UserError


def cmd_evaluate(args: argparse.Namespace) -> None:
    """MR⁻² of a COCO-results detections file against a ground-truth annotation file or folder."""
    from thoughtlab.csp.evaluate import DEFAULT_SUBSETS, EvalSettings, evaluate
    from thoughtlab.fileio import atomic_write_bytes, atomic_write_json

    overrides = {"below_first": args.below_first, "fppi_points": args.fppi_points}
    settings = EvalSettings.caltech(**overrides) if args.caltech else EvalSettings(**overrides)
    for path, what in ((args.detections, "detections"), (args.gt, "ground truth")):
        if not Path(path).exists():
            raise UserError(f"{what} {path} does not exist; check the path")
    result = evaluate(args.gt, args.detections, args.subsets or DEFAULT_SUBSETS, settings)
    print(result.table())
    if result.n_detections_unknown_image:
        print(f"note: {result.n_detections_unknown_image} detections name images absent from the ground truth (ignored)")
    if args.out:
        import io

        from thoughtlab.csp.evaluate_plots import plot_subsets

        out = Path(args.out)
        atomic_write_json(out / "mr2.json", result.summary())
        buffer = io.BytesIO()
        plot_subsets(result, title=Path(args.detections).name).savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        atomic_write_bytes(out / "miss_rate.png", buffer.getvalue())
        print(f"wrote {out / 'mr2.json'} and {out / 'miss_rate.png'}")


def add_csp_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``csp`` and its subcommands to the top-level parser's subparsers."""
    csp = sub.add_parser("csp", help="CSP pedestrian detection (Liu et al., CVPR 2019)")
    commands = csp.add_subparsers(dest="csp_command", required=True, metavar="COMMAND")

    p = commands.add_parser("evaluate", help="log-average miss rate (MR-2) of detections, official protocol")
    p.add_argument("detections", help="detections in the COCO results format (json list of image_id, bbox, score)")
    p.add_argument("--gt", required=True, help="ground truth: CityPersons COCO-style json, gtBboxCityPersons folder or Caltech txt folder")
    p.add_argument("--subsets", nargs="+", metavar="SUBSET", help="subsets (default: Reasonable, Small, Heavy, Partial, Bare, All…)")
    p.add_argument("--caltech", action="store_true", help="Caltech protocol (bounds 5 5 635 475, GT aspect 0.41, no cap)")
    p.add_argument("--below-first", default="sentinel", help="sentinel (MATLAB, default) | python (the official Python's behaviour)")
    p.add_argument("--fppi-points", default="exact", help="exact (10^(-2:0.25:0), default) | rounded (official Python list)")
    p.add_argument("--out", help="folder for mr2.json and miss_rate.png")
    p.set_defaults(func=cmd_evaluate)
