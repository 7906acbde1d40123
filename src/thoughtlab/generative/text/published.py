"""The text experiment against an oracle from the user's own file — SeqGAN's published ``target_params_py3.pkl``
(Yu et al. 2017, §5) — so that MLE, the Gumbel-softmax GAN and SeqGAN trained here sit beside SeqGAN's Table 1
(MLE 9.038, SeqGAN 8.736 nats/token NLL_oracle; floor 5.752) on the very same oracle.

One folder holds one training: ``run.json`` (what it trains: the file's SHA-256, length, seed, scale and the
whole text config), the phases' checkpoints (``pretrain.pt``, ``mle.pt``, ``gumbel.pt``, ``seqgan.pt``, resumed
on a rerun) and ``result.json``.  A rerun with other settings into the same folder is refused, since its
checkpoints would continue a generator trained for another oracle or budget.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from thoughtlab.errors import UserError
from thoughtlab.fileio import atomic_write_json
from thoughtlab.generative.text import experiment, oracle, train
from thoughtlab.generative.text.experiment import TextConfig

MANIFEST = "run.json"
RESULT = "result.json"
TABLE_1 = {"mle": oracle.PUBLISHED["mle"], "gumbel": None, "seqgan": oracle.PUBLISHED["seqgan"]}  # no Gumbel row in Table 1


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (names the oracle a folder was trained against)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def claim_folder(outdir: Path, identity: dict[str, Any]) -> None:
    """Write ``identity`` as ``outdir/run.json``, or check that the one already there is the same
    (a :class:`UserError` naming the differing keys otherwise)."""
    identity = json.loads(json.dumps(identity))  # tuples → lists, as read back
    path = outdir / MANIFEST
    if path.exists():
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise UserError(f"{path} is unreadable ({exc}); pass a new --train folder") from None
        changed = sorted(k for k in identity.keys() | saved.keys() if identity.get(k) != saved.get(k))
        if changed:
            raise UserError(f"--train folder {outdir} holds a training with other {', '.join(changed)}; "
                            "rerun with the same file and options to resume, or pass a new folder")
        return
    outdir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, identity)


def train_against(params: str | Path, outdir: Path, cfg: TextConfig, seed: int, scale: str,
                  length: int = 20) -> dict[str, Any]:
    """Run :func:`experiment.run_text` against the oracle in ``params`` (generator shape = the oracle's,
    sequences of ``length``), checkpointing in ``outdir``; returns and writes ``outdir/result.json``.

    ``arms`` holds each arm's final point at temperature 1 — NLL_oracle, NLL_test, and for the GANs the gap
    to the MLE arm's temperature curve at the same NLL_test (> 0: below the curve, i.e. better; ``inside``
    false when extrapolated) — beside SeqGAN's Table 1 number where one exists."""
    orc = oracle.load_seqgan_params(params, length)
    cfg, sha = dataclasses.replace(cfg, shape=orc.shape), file_sha256(params)
    claim_folder(outdir, {"params_sha256": sha, "length": length, "seed": seed, "scale": scale,
                          "config": dataclasses.asdict(cfg)})
    run = experiment.run_text(cfg, seed, outdir, orc)
    final = run["fractions"][1.0]
    arms = {"mle": {"nll_oracle": run["mle"]["nll_oracle"], "nll_test": run["mle"]["nll_test"]}}
    arms |= {r: {k: final[r][k] for k in ("nll_oracle", "nll_test", "gap", "inside")} for r in train.REMEDIES}
    for arm, row in arms.items():
        row["published_nll_oracle"] = TABLE_1[arm]
    result = {"params": str(params), "params_sha256": sha, "scale": scale, "seed": seed,
              "shape": dataclasses.asdict(orc.shape), "floor": run["floor"], "uniform_nll_test": run["uniform"],
              "arms": arms, "mle_curve": final["curve"], "published": oracle.PUBLISHED, "run": run}
    atomic_write_json(outdir / RESULT, result)
    return result
