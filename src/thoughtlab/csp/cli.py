"""``thoughtlab csp …`` commands (thin: parse, call the library, print)."""

from __future__ import annotations

import argparse
from pathlib import Path

from thoughtlab import validate
from thoughtlab.errors import UserError

SCORE = validate.argtype(lambda v: validate.number(v, "the score threshold", low=0, high=1), float)
ASPECT = validate.argtype(lambda v: validate.number(v, "the aspect ratio (width / height)", low=0, low_open=True,
                                                    high=100), float)


def cmd_evaluate(args: argparse.Namespace) -> None:
    """MR⁻² of a COCO-results detections file against a ground-truth annotation file or folder."""
    from thoughtlab.csp.evaluate import DEFAULT_SUBSETS, EvalSettings, evaluate_miss_rate
    from thoughtlab.fileio import atomic_write_bytes, atomic_write_json

    overrides = {"below_first": args.below_first, "fppi_points": args.fppi_points}
    settings = EvalSettings.caltech(**overrides) if args.caltech else EvalSettings(**overrides)
    for path, what in ((args.detections, "detections"), (args.gt, "ground truth")):
        if not Path(path).exists():
            raise UserError(f"{what} {path} does not exist; check the path")
    if args.out:
        validate.output_dir(args.out, "--out")
    result = evaluate_miss_rate(args.gt, args.detections, args.subsets or DEFAULT_SUBSETS, settings)
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


def cmd_train(args: argparse.Namespace) -> None:
    """Train a detector (CSP by default) with a preset and/or a JSON config; see thoughtlab.csp.training."""
    from thoughtlab.csp.detectors import seeded_detector
    from thoughtlab.csp.training import load_config, open_datasets, train_detector
    from thoughtlab.train import distributed

    cfg = load_config(args.config, args.preset)
    validate.output_dir(args.out, "--out")
    distributed.init()
    main = distributed.is_main()
    try:
        out = Path(args.out)
        train, val = open_datasets(args.dataset, cfg, out)
        result = train_detector(seeded_detector(cfg.detector, cfg.seed), train, cfg, out, val=val, resume=args.resume)
    finally:
        distributed.cleanup()
    if main:
        best = "n/a" if result.best_val_mr2 is None else f"{100 * result.best_val_mr2:.2f}% at step {result.best_step}"
        print(f"trained {result.steps} steps in {result.seconds:.1f} s; best val MR-2 (Reasonable): {best}")
        print(f"wrote {out / 'model.pt'} (final teacher), {out / 'metrics.jsonl'}"
              + (f", {out / 'best.pt'} (best on val)" if result.best_step is not None else ""))


def cmd_detect(args: argparse.Namespace) -> None:
    """Detect people in an image or a folder; write drawn PNGs and COCO-results detections.json."""
    from thoughtlab.csp.inference import detect_files

    results = detect_files(args.weights, args.images, args.out, args.score_threshold, args.aspect, args.gt)
    print(f"{len(results)} detections; wrote {Path(args.out) / 'detections.json'} and the drawn images")


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

    p = commands.add_parser("train", help="train CSP (EMA teacher, paper augmentation, checkpoints, torchrun DDP)")
    p.add_argument("config", nargs="?", help="JSON object of TrainConfig fields applied over the preset")
    p.add_argument("--dataset", default="synthetic",
                   help="folder with train_gt.json + images/train (val_gt.json optional), or 'synthetic' "
                        "(generated into OUT/data when missing; default)")
    p.add_argument("--preset", default="quick", help="smoke | quick (default) | full")
    p.add_argument("--out", default="csp-train", help="output folder (checkpoint.pt, model.pt, best.pt, metrics.jsonl)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.set_defaults(func=cmd_train)

    p = commands.add_parser("detect", help="detect people; PNGs with boxes + detections.json (COCO results)")
    p.add_argument("images", help="an image (PNG/JPG) or a folder of them")
    p.add_argument("--weights", required=True, help="model.pt or best.pt written by 'thoughtlab csp train'")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--score-threshold", type=SCORE, default=0.1, help="minimum center score (default 0.1)")
    p.add_argument("--aspect", type=ASPECT, help="box width/height ratio (default: the model's, 0.41)")
    p.add_argument("--gt", help="COCO-style json whose images[].id/file_name give image_id "
                                "(default: 1-based position in sorted file order; see image_ids.json)")
    p.set_defaults(func=cmd_detect)
