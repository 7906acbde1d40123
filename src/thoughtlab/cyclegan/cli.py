"""``thoughtlab cyclegan …`` commands (thin: parse, call the library, print).

Option names follow the reference repository (``--n_epochs``, ``--lambda_identity``, ``--load_size`` …).
DATAROOT ``digits`` is the embedded grey ↔ coloured MNIST task (32 px, no flip).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from thoughtlab.errors import BadInput

DIGITS = "digits"
FOLDER_DEFAULTS = {"load_size": 286, "crop_size": 256}
DIGIT_DEFAULTS = {"load_size": 32, "crop_size": 32, "no_flip": True}


def open_data(dataroot: str, load_size: int, crop_size: int, input_nc: int | None = None,
              output_nc: int | None = None, max_dataset_size: int | None = None, seed: int = 0):
    """DATAROOT's folders, or the embedded digit task at ``load_size`` px."""
    from thoughtlab.cyclegan.data import check_sizes, load_dataroot

    if dataroot != DIGITS:
        return load_dataroot(dataroot, load_size, crop_size, input_nc, output_nc, max_dataset_size)
    from thoughtlab.cyclegan.digits import DigitTask, digit_task

    check_sizes(load_size, crop_size)
    for flag, given in (("input_nc", input_nc), ("output_nc", output_nc)):
        if given not in (None, 3):
            raise BadInput(f"the digit task has 3-channel images in both domains; drop --{flag}")
    task = DigitTask(size=load_size, **({"train_per_domain": max_dataset_size} if max_dataset_size else {}))
    return digit_task(task, seed)[0]


def _options(args: argparse.Namespace):
    from thoughtlab.cyclegan.recipe import Options

    defaults = DIGIT_DEFAULTS if args.dataroot == DIGITS else FOLDER_DEFAULTS
    chosen = {f.name: getattr(args, f.name) for f in dataclasses.fields(Options) if getattr(args, f.name, None) is not None}
    return Options(**{**defaults, **chosen})


def cmd_train(args: argparse.Namespace) -> None:
    """Train on DATAROOT (or the digit task); checkpoints, samples and curves in --out."""
    from thoughtlab.cyclegan.recipe import total_steps
    from thoughtlab.cyclegan.training import WEIGHTS, train
    from thoughtlab.train import distributed, pick_device

    opt = _options(args)
    data = open_data(args.dataroot, opt.load_size, opt.crop_size, args.input_nc, args.output_nc, opt.max_dataset_size, opt.seed)
    device = pick_device(args.device)
    distributed.init("nccl" if device.type == "cuda" else "gloo")
    if distributed.is_distributed() and device.type == "cuda":
        device = distributed.device()
    try:
        state = train(opt, data, args.out, continue_train=args.continue_train, device=device,
                      save_latest_freq=args.save_latest_freq, display_freq=args.display_freq, progress=None)
    finally:
        distributed.cleanup()
    if distributed.is_main():
        out = Path(args.out)
        print(f"trained {state.step}/{total_steps(opt, data)} iterations ({len(data.train_a)} A, {len(data.train_b)} B images)")
        print(f"wrote {out / WEIGHTS}, {out / 'latest.pt'}, {out / 'samples.png'}, {out / 'losses.png'}")


def cmd_translate(args: argparse.Namespace) -> None:
    """Translate a folder of images with one generator."""
    from thoughtlab.cyclegan.tools import translate_folder

    written = translate_folder(args.weights, args.direction, args.in_dir, args.out_dir, args.load_size)
    print(f"translated {len(written)} images {args.direction} into {args.out_dir}")


def cmd_evaluate(args: argparse.Namespace) -> None:
    """Label preservation, FID/KID in digit-CNN features and cycle errors on the test sets."""
    from thoughtlab.cyclegan.tools import evaluate_translation, load_generator
    from thoughtlab.fileio import atomic_write_json

    g_ab, g_ba = load_generator(args.weights, "AtoB"), load_generator(args.weights, "BtoA")
    size = args.load_size or g_ab.crop_size or 32
    data = open_data(args.dataroot, size, size, g_ab.input_nc, g_ab.output_nc)
    if data.test_a is None:
        raise BadInput(f"{args.dataroot} has no testA/ and testB/ folders; add them to evaluate")
    result = evaluate_translation(g_ab, g_ba, data.test_a, data.test_b, digits_view=args.dataroot == DIGITS)
    metrics = result["metrics"]
    for key in sorted(metrics):
        print(f"{key:<16} {metrics[key]:.4f}")
    if args.out:
        atomic_write_json(Path(args.out), {"weights": str(args.weights), "dataroot": args.dataroot, "metrics": metrics})
        print(f"wrote {args.out}")


def _add_options(p: argparse.ArgumentParser) -> None:
    add = p.add_argument
    add("--n_epochs", type=int, help="epochs at the initial learning rate (default 100)")
    add("--n_epochs_decay", type=int, help="epochs of linear decay to zero (default 100)")
    add("--lambda_A", type=float, help="cycle weight A->B->A (default 10)")
    add("--lambda_B", type=float, help="cycle weight B->A->B (default 10)")
    add("--lambda_identity", type=float, help="identity weight relative to lambda (default 0.5)")
    add("--pool_size", type=int, help="image pool size, 0 = none (default 50)")
    add("--lr", type=float, help="Adam learning rate (default 2e-4)")
    add("--beta1", type=float, help="Adam beta1 (default 0.5)")
    add("--ngf", type=int, help="generator width (default 64)")
    add("--ndf", type=int, help="discriminator width (default 64)")
    add("--n_blocks", type=int, help="residual blocks: 9 at 256 px, 6 at 128 px (default 9)")
    add("--n_layers_D", type=int, help="PatchGAN layers (default 3: 70x70 patches)")
    add("--load_size", type=int, help="resize images to this square (default 286; digits 32)")
    add("--crop_size", type=int, help="random crop, multiple of 4 (default 256; digits 32)")
    add("--no_flip", action="store_const", const=True, help="no random horizontal flip (default for digits)")
    add("--batch_size", type=int, help="global batch size (default 1)")
    add("--max_dataset_size", type=int, help="at most this many images per domain")
    add("--epoch_size", type=int, help="iterations per epoch (default max(|A|,|B|)/batch_size)")
    add("--seed", type=int, help="seed of initialisation, data order and pools (default 0)")


def add_cyclegan_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``cyclegan`` and its subcommands to the top-level parser's subparsers."""
    cyclegan = sub.add_parser("cyclegan", help="CycleGAN (Zhu et al., ICCV 2017): train, translate, evaluate")
    commands = cyclegan.add_subparsers(dest="cyclegan_command", required=True, metavar="COMMAND")

    p = commands.add_parser("train", help="train on DATAROOT/trainA,trainB (checkpoints, samples, torchrun DDP)")
    p.add_argument("dataroot", help="folder with trainA/ trainB/ (testA/ testB/ optional), or 'digits'")
    p.add_argument("--out", default="cyclegan-train", help="output folder (default: %(default)s)")
    p.add_argument("--continue_train", action="store_true", help="resume from OUT/latest.pt")
    p.add_argument("--input_nc", type=int, help="check that A images have this many channels (1 or 3)")
    p.add_argument("--output_nc", type=int, help="check that B images have this many channels (1 or 3)")
    p.add_argument("--save_latest_freq", type=int, default=500, help="checkpoint every N iterations (default 500)")
    p.add_argument("--display_freq", type=int, default=200, help="redraw samples/losses every N iterations (default 200)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda (default: %(default)s)")
    _add_options(p)
    p.set_defaults(func=cmd_train)

    p = commands.add_parser("translate", help="translate a folder of images with a trained generator")
    p.add_argument("in_dir", help="folder of input images")
    p.add_argument("out_dir", help="output folder (PNG, same names)")
    p.add_argument("--weights", required=True, help="weights.pt from 'cyclegan train' or a reference latest_net_G_*.pth")
    p.add_argument("--direction", default="AtoB", help="AtoB (G_A) or BtoA (G_B) (default: %(default)s)")
    p.add_argument("--load_size", type=int, help="resize inputs to this square (default: the training crop)")
    p.set_defaults(func=cmd_translate)

    p = commands.add_parser("evaluate", help="label preservation, FID/KID (digit-CNN features), cycle errors")
    p.add_argument("dataroot", nargs="?", default=DIGITS, help="folder with testA/ testB/, or 'digits' (default)")
    p.add_argument("--weights", required=True, help="weights.pt from 'cyclegan train'")
    p.add_argument("--load_size", type=int, help="image size (default: the training crop)")
    p.add_argument("--out", help="write the metrics to this JSON file")
    p.set_defaults(func=cmd_evaluate)
