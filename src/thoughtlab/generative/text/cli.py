"""``thoughtlab oracle``: the SeqGAN synthetic oracle from the user's own parameter file (thin: parse, call, print).

    thoughtlab oracle target_params_py3.pkl [--tokens generator_sample.txt] [--samples 10000] [--json out.json]

Loads SeqGAN's ``save/target_params_py3.pkl`` through the arrays-only unpickler, measures its entropy rate
(the floor) and the uniform-token rate by sampling, and scores a token file (SeqGAN's text format) by
NLL_oracle, each with a 95 % t interval over sequences, beside SeqGAN's published numbers (Yu et al. 2017, Table 1).
"""

from __future__ import annotations

import argparse
from typing import Any

from thoughtlab import validate


def cmd_oracle(args: argparse.Namespace) -> None:
    from thoughtlab.fileio import atomic_write_json
    from thoughtlab.generative.text import oracle as O
    from thoughtlab.generative.text.lstm import mean_nll

    out = validate.output_file(args.json, "--json") if args.json else None
    model = O.load_seqgan_params(args.params, args.length)
    tokens = O.load_tokens(args.tokens, model.shape.vocab) if args.tokens else None
    shape = model.shape
    rows = {"floor": O.entropy_rate(model, args.samples, args.seed), "uniform": O.uniform_rate(model, args.samples, args.seed + 1)}
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


def add_oracle_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``oracle PARAMS [--tokens FILE]`` to a parser's subparsers."""
    p = subparsers.add_parser("oracle", help="SeqGAN's oracle from your target_params file: floor and NLL_oracle of a token file",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("params", help="SeqGAN's save/target_params_py3.pkl (loaded as numpy arrays only, never plain pickle)")
    p.add_argument("--tokens", help="text file, one sequence of space-separated token ids per line, to score by NLL_oracle")
    p.add_argument("--samples", type=validate.argtype(lambda v: validate.integer(v, "--samples", low=2, high=10**6)),
                   default=10_000, help="oracle and uniform sequences for the floor and baseline (default: %(default)s)")
    p.add_argument("--length", type=validate.argtype(lambda v: validate.integer(v, "--length", low=1, high=10_000)),
                   default=20, help="length of the sampled sequences (default: %(default)s, SeqGAN's)")
    p.add_argument("--seed", type=validate.argtype(lambda v: validate.seed(v, "--seed")), default=0,
                   help="seed of the sampling (default: %(default)s)")
    p.add_argument("--json", help="also write the numbers to this JSON file")
    p.set_defaults(func=cmd_oracle)
    return p
