"""``thoughtlab oracle``: the SeqGAN synthetic oracle from the user's own parameter file (thin: parse, call, print).

    thoughtlab oracle target_params_py3.pkl [--tokens generator_sample.txt] [--samples 10000] [--json out.json]
    thoughtlab oracle target_params_py3.pkl --train OUTDIR [--scale smoke|quick|full] [--seed N] [--json out.json]

Loads SeqGAN's ``save/target_params_py3.pkl`` through the arrays-only unpickler.  Without ``--train`` it
measures the oracle's entropy rate (the floor) and the uniform-token rate by sampling and scores a token file
(SeqGAN's text format) by NLL_oracle, each with a 95 % t interval over sequences, beside SeqGAN's published
numbers (Yu et al. 2017, Table 1).

With ``--train OUTDIR`` it runs the text experiment of ``gan-beyond-images`` against that oracle: an MLE
generator of the oracle's shape is pre-trained, then continued by MLE, by the Gumbel-softmax GAN and by SeqGAN
for the same number of steps, and each arm's NLL_oracle and NLL_test at temperature 1 is printed with the gap
to the MLE arm's temperature curve (Caccia et al. 2020) beside SeqGAN's Table 1 (MLE 9.038, SeqGAN 8.736).
The budget is the study's text config at ``--scale`` (quick by default; full = SeqGAN's 10,000 samples,
120 pre-training epochs and 200 adversarial batches); the shape comes from the file (vocabulary 5,000 for
SeqGAN's).  Checkpoints go to OUTDIR and a rerun resumes them; the numbers go to OUTDIR/result.json.
Cost on one CPU thread at vocabulary 5,000 (each phase timed at a small budget on a 2-core machine and
scaled to the preset's steps): quick ≈ 130 CPU-seconds plus ~5 s of imports (MLE ~50, SeqGAN's rollouts ~35,
scoring ~23, data and floor ~15, Gumbel ~9); full ≈ 2 CPU-hours (18,750 MLE steps, 16 rollouts per token).
Training runs on the CPU, with ``THOUGHTLAB_THREADS`` threads (default 1).
"""

from __future__ import annotations

import argparse
from typing import Any

from thoughtlab import validate
from thoughtlab.errors import UserError

SCALES = ("smoke", "quick", "full")


def cmd_oracle(args: argparse.Namespace) -> None:
    if args.train is not None:
        return cmd_train(args)
    if args.scale is not None:
        raise UserError("--scale sets the training budget of --train; add --train OUTDIR or drop --scale")
    from thoughtlab.fileio import atomic_write_json
    from thoughtlab.generative.text import oracle as O
    from thoughtlab.generative.text.lstm import mean_nll

    out = validate.output_file(args.json, "--json") if args.json else None
    samples = args.samples or 10_000
    model = O.load_seqgan_params(args.params, args.length)
    tokens = O.load_tokens(args.tokens, model.shape.vocab) if args.tokens else None
    shape = model.shape
    rows = {"floor": O.entropy_rate(model, samples, args.seed), "uniform": O.uniform_rate(model, samples, args.seed + 1)}
    if tokens is not None:
        rows["tokens"] = O.rate(mean_nll(model, tokens))
    published = O.PUBLISHED
    names = {"floor": "entropy rate (floor)", "uniform": "uniform tokens", "tokens": f"{args.tokens}"}
    references = {"floor": f"published {published['floor']:.3f}", "uniform": f"published {published['uniform']:.3f}",
                  "tokens": f"SeqGAN Table 1: MLE {published['mle']:.3f}, SeqGAN {published['seqgan']:.3f}"}
    print(f"oracle {args.params}: vocabulary {shape.vocab}, embedding {shape.emb}, hidden {shape.hidden}; "
          f"length {args.length}, NLL_oracle in nats/token, 95% t interval over sequences")
    for key, r in rows.items():
        print(f"  {names[key]:<24}{r.mean:8.3f}  [{r.low:.3f}, {r.high:.3f}]  n={r.n}   ({references[key]})")
    if out is not None:
        atomic_write_json(out, {"params": str(args.params), "length": args.length, "published": O.PUBLISHED,
                                **{k: vars(r) for k, r in rows.items()}})


def cmd_train(args: argparse.Namespace) -> None:
    """``--train OUTDIR``: the three arms against the file's oracle, printed beside SeqGAN's Table 1."""
    import dataclasses

    import torch

    from thoughtlab.fileio import atomic_write_json
    from thoughtlab.generative.beyond_images import STUDY
    from thoughtlab.generative.text import published
    from thoughtlab.runner import cpu_threads

    if args.tokens:
        raise UserError("--tokens scores a file and --train trains generators; run them as two commands")
    outdir = validate.output_dir(args.train, "--train")
    out = validate.output_file(args.json, "--json") if args.json else None
    scale = args.scale or "quick"
    cfg = STUDY.config(scale).text
    if args.samples:
        cfg = dataclasses.replace(cfg, n_floor=args.samples)
    torch.set_num_threads(cpu_threads())
    result = published.train_against(args.params, outdir, cfg, args.seed, scale, args.length)
    print_training(result, cfg)
    if out is not None:
        atomic_write_json(out, result)


def print_training(result: dict[str, Any], cfg: Any) -> None:
    shape, floor = result["shape"], result["floor"]
    print(f"oracle {result['params']}: vocabulary {shape['vocab']}, embedding {shape['emb']}, hidden {shape['hidden']}, "
          f"length {shape['length']}; scale {result['scale']} ({cfg.n_train} oracle samples, {cfg.pre_steps} MLE "
          f"pre-training steps, {cfg.adv.steps} more steps per arm), seed {result['seed']}")
    print(f"  floor (entropy rate) {floor['mean']:.3f} [{floor['low']:.3f}, {floor['high']:.3f}] (published "
          f"{result['published']['floor']:.3f} for SeqGAN's file); uniform NLL_test {result['uniform_nll_test']:.3f}")
    print(f"  {'arm':<8}{'NLL_oracle':>11}{'NLL_test':>10}{'curve gap':>11}   SeqGAN Table 1 NLL_oracle")
    for arm, row in result["arms"].items():
        gap = "curve" if "gap" not in row else f"{row['gap']:+.3f}{'' if row['inside'] else '*'}"
        ref = "-" if row["published_nll_oracle"] is None else f"{row['published_nll_oracle']:.3f}"
        print(f"  {arm:<8}{row['nll_oracle']:11.3f}{row['nll_test']:10.3f}{gap:>11}   {ref}")
    print("  nats/token at temperature 1; curve gap = MLE temperature curve's NLL_oracle at the arm's NLL_test minus "
          "the arm's (> 0: the GAN beats MLE; * outside the curve, extrapolated)")
    print("  MLE temperature curve (τ: NLL_oracle / NLL_test): " + ", ".join(
        f"{p['temperature']:g}: {p['nll_oracle']:.3f} / {p['nll_test']:.3f}" for p in result["mle_curve"]))


def add_oracle_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``oracle PARAMS [--tokens FILE | --train OUTDIR]`` to a parser's subparsers."""
    p = subparsers.add_parser("oracle", help="SeqGAN's oracle from your target_params file: floor, NLL_oracle of a "
                              "token file, or --train MLE and two GANs against it",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("params", help="SeqGAN's save/target_params_py3.pkl (loaded as numpy arrays only, never plain pickle)")
    p.add_argument("--tokens", help="text file, one sequence of space-separated token ids per line, to score by NLL_oracle")
    p.add_argument("--train", metavar="OUTDIR", help="train MLE, the Gumbel-softmax GAN and SeqGAN against the oracle; "
                   "checkpoints and result.json go here and a rerun resumes")
    p.add_argument("--scale", choices=SCALES, help="budget of --train: the study's text config (default: quick)")
    p.add_argument("--samples", type=validate.argtype(lambda v: validate.integer(v, "--samples", low=2, high=10**6)),
                   help="oracle and uniform sequences for the floor and baseline (default: 10000; with --train: "
                   "the scale's)")
    p.add_argument("--length", type=validate.argtype(lambda v: validate.integer(v, "--length", low=1, high=10_000)),
                   default=20, help="length of the sampled sequences (default: %(default)s, SeqGAN's)")
    p.add_argument("--seed", type=validate.argtype(lambda v: validate.seed(v, "--seed")), default=0,
                   help="seed of the sampling and of the training (default: %(default)s)")
    p.add_argument("--json", help="also write the numbers to this JSON file")
    p.set_defaults(func=cmd_oracle)
    return p
