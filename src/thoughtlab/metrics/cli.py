"""``thoughtlab eval``: generative-model metrics from image folders, arrays or saved statistics.

    thoughtlab eval REAL FAKE [--metrics fid,kid,pr,dc] [--extractor auto] [--weights PATH] [--json OUT] [--seed N]
    thoughtlab eval stats INPUT -o stats.npz [--extractor ...]

One ``eval`` subcommand whose first positional decides the mode: the word ``stats`` selects the
statistics writer (a real input literally named ``stats`` is passed as ``./stats``); otherwise the
two positionals are REAL and FAKE.  REAL/FAKE: an image folder, a ``.npy``/``.npz`` of images
or of (N, d) features, a ``.npz`` of FID statistics (``mu``, ``sigma``; FID only), or a generator
``path/to/file.py:function`` / ``package.module:function`` whose ``function(n)`` returns n images
(uint8, or floats in [0, 1] per --float-policy), drawn --samples N times; an existing path of that
spelling is read as a path.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from thoughtlab import validate
from thoughtlab.errors import BadInput, UserError
from thoughtlab.fileio import atomic_write_json, atomic_writer
from thoughtlab.metrics.extractors import EXTRACTORS, MAX_SIZE, RESIZE_METHODS
from thoughtlab.metrics.fid import FidStats, feature_stats
from thoughtlab.metrics.inputs import (
    FLOAT_POLICIES,
    MIXED_POLICIES,
    default_cache_dir,
    load_source,
    names_generator,
    protocol_json,
)
from thoughtlab.metrics.sources import DEFAULT_METRICS, choose_extractor, compare_sources, source_features
from thoughtlab.metrics.suite import METRICS
from thoughtlab.nets.inception import WEIGHTS_ENV
from thoughtlab.train import distributed


def add_eval_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``eval`` (REAL FAKE, or ``stats INPUT -o OUT``) to a parser's subparsers; returns the ``eval`` parser."""
    p = subparsers.add_parser("eval", help="metrics (FID, KID, P/R, D/C, IS, PRD, ...) of fake vs real images",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                              usage="thoughtlab eval REAL FAKE [options]\n"
                                    "       thoughtlab eval stats INPUT -o OUT [options]")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="REAL FAKE (two inputs to compare), or the word 'stats' and one INPUT")
    p.add_argument("-o", "--out", help="(stats) the .npz to write: mu, sigma (pytorch-fid format), n, protocol")
    p.add_argument("--metrics", default=None,
                   help=f"comma-separated, from {', '.join(METRICS)} (default: {','.join(DEFAULT_METRICS)}; fid for "
                        "statistics)")
    p.add_argument("--extractor", default="auto", choices=("auto",) + EXTRACTORS,
                   help=f"feature network; auto = inception if --weights or {WEIGHTS_ENV} is set, else digit-cnn")
    p.add_argument("--weights", help=f"Inception weights file (pytorch-fid's .pth; or set {WEIGHTS_ENV})")
    p.add_argument("--resize", choices=RESIZE_METHODS, help="resize method (default: the extractor's own)")
    p.add_argument("--size", type=validate.argtype(lambda v: validate.integer(v, "the side", low=1, high=MAX_SIZE)),
                   help="input side for random-cnn/pixels (default: native size)")
    p.add_argument("--mixed", default="error", choices=MIXED_POLICIES,
                   help="folders with mixed sizes/channels: error, or resize to the most common (default: error)")
    p.add_argument("--float-policy", default="round", choices=FLOAT_POLICIES,
                   help="float images in [0,1]: round to uint8 (recorded), keep as float32, or error "
                        "(default: round)")
    p.add_argument("--samples", type=int,
                   help="images to draw from a generator input (file.py:function or package.module:function)")
    p.add_argument("--seed", type=validate.argtype(lambda v: validate.seed(v, "the seed")), default=0,
                   help="seeds KID subsets, IS shuffles, PRD k-means, random-cnn (0 <= seed < 2**32)")
    p.add_argument("--batch-size", type=validate.argtype(lambda v: validate.integer(v, "the batch size", low=1)),
                   default=256, help="images per forward pass (default: 256)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | auto (default: cpu)")
    p.add_argument("--cache-dir", help="feature cache folder (default: $THOUGHTLAB_CACHE/features or "
                                       "~/.cache/thoughtlab/features)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write cached features")
    p.add_argument("--json", help="also write results and protocols to this JSON file")
    p.set_defaults(func=run_eval)
    return p


def run_eval(args: argparse.Namespace) -> None:
    """Dispatch on the first positional: ``stats`` writes statistics, otherwise REAL FAKE metrics.

    Under ``torchrun`` the ranks share feature extraction; rank 0 alone prints and writes files.
    """
    if args.inputs[0] == "stats":
        if len(args.inputs) != 2 or not args.out:
            raise UserError("usage: thoughtlab eval stats INPUT -o stats.npz")
    elif len(args.inputs) != 2:
        raise UserError(f"thoughtlab eval takes REAL FAKE (got {len(args.inputs)} inputs) or 'stats INPUT -o OUT'")
    elif args.out:
        raise UserError("-o/--out belongs to 'thoughtlab eval stats'; use --json OUT to save metric results")
    check_samples(args.samples, args.inputs[1:] if args.inputs[0] == "stats" else args.inputs)
    check_outputs(args)
    joined = not distributed.is_distributed() and distributed.init()
    try:
        if args.inputs[0] == "stats":
            write_stats(args, args.inputs[1], Path(args.out))
        else:
            compare(args, *args.inputs)
    finally:
        if joined:
            distributed.cleanup()


def check_outputs(args: argparse.Namespace) -> None:
    """Before any work: every file or folder the command will write can be written (see thoughtlab.validate)."""
    if args.out:
        validate.output_file(args.out, "-o/--out")
    if args.json:
        validate.output_file(args.json, "--json")
    if args.cache_dir and not args.no_cache:
        validate.output_dir(args.cache_dir, "--cache-dir")


def check_samples(samples: int | None, sources: list[str]) -> None:
    """--samples must be >= 1 and name a generator input to apply to."""
    if samples is None:
        return
    if samples < 1:
        raise UserError(f"--samples must be at least 1, got {samples}")
    if not any(names_generator(s) for s in sources):
        raise UserError("--samples applies to generator inputs (file.py:function or package.module:function); "
                        "drop it or pass a generator")


def source_options(args: argparse.Namespace) -> dict[str, Any]:
    """The command line's input, extractor and cache choices as keyword arguments of :func:`compare_sources`."""
    cache_dir = None if args.no_cache else (args.cache_dir or default_cache_dir())
    return {"extractor": args.extractor, "weights": args.weights, "resize": args.resize, "size": args.size,
            "cache_dir": cache_dir, "samples": args.samples, "mixed": args.mixed, "float_policy": args.float_policy,
            "batch_size": args.batch_size, "device": args.device, "seed": args.seed}


def compare(args: argparse.Namespace, real_source: str, fake_source: str) -> dict[str, Any]:
    """Compute the metrics of FAKE against REAL, print a table, optionally write JSON; return the record."""
    record = compare_sources(real_source, fake_source, args.metrics or None, **source_options(args)).record()
    if distributed.is_main():
        print_table(record)
        if args.json:
            atomic_write_json(args.json, record)
    return record


def _row(key: str, result: dict[str, Any]) -> str | None:
    """One table line: value ± std (what the std is, where it is not a spread over samples), real-data value."""
    if "value" in result:
        std = f" ± {result['std']:.6g}" if "std" in result else ""
        protocol = result.get("protocol", {})
        if protocol.get("subsets_identical"):
            std += " (every KID subset is the whole set: no spread; pass more samples for one)"
        elif key == "gs" and "bootstrap" in protocol:
            std += f" (bootstrap over {protocol['iterations']} landmark iterations)"
        real = result.get("real")
        on_real = f"  (real data: {real['value']:.6g})" if isinstance(real, dict) and "value" in real else ""
        return f"{key:<16} {result['value']:.6g}{std}{on_real}"
    if "values" in result:
        return f"{key:<16} median {float(np.median(result['values'])):.6g} over {len(result['values'])} fakes"
    return None


def print_table(record: dict[str, Any]) -> None:
    """One line per metric, then where the features came from."""
    for key, result in record["metrics"].items():
        row = _row(key, result)
        if row:
            print(row)
    for side in ("real", "fake"):
        p = record[side]
        how = p.get("extractor", "saved statistics" if p.get("saved statistics") else "none")
        resize = f", resize {p['resize']} to {p['size']}" if p.get("resized") else ""
        print(f"{side}: {p.get('source')} (n={p.get('n')}; features: {how}{resize})")


def write_stats(args: argparse.Namespace, source: str, out: Path) -> None:
    """FID statistics of one input: ``mu``, ``sigma`` (float64), ``n`` and the protocol as a JSON string."""
    options = source_options(args)
    loaded = load_source(source, mixed=args.mixed, float_policy=args.float_policy, samples=args.samples,
                         batch_size=args.batch_size)
    loaded = source_features(loaded, lambda: choose_extractor(args.extractor, weights=args.weights,
                                                              resize=args.resize, size=args.size, seed=args.seed),
                             cache_dir=options["cache_dir"], batch_size=args.batch_size, device=args.device)
    if isinstance(loaded, FidStats):
        raise BadInput(f"{source} already holds FID statistics; pass images or features")
    stats = feature_stats(loaded.features, source)
    if not distributed.is_main():
        return
    with atomic_writer(out) as handle:
        np.savez(handle, mu=stats.mu, sigma=stats.sigma, n=np.int64(stats.n),
                 protocol=np.array(protocol_json(loaded.protocol)))
    print(f"{out}: mu {stats.mu.shape}, sigma {stats.sigma.shape} from {stats.n} samples "
          f"({loaded.protocol.get('extractor')})")
