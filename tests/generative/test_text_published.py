"""The text experiment against a given oracle (SeqGAN's published file): same numbers as the seeded path
when given the same oracle, a shape check, and the one-folder-one-training manifest."""

import dataclasses
import json

import pytest

from thoughtlab.errors import BadInput, UserError
from thoughtlab.generative.text import oracle as O
from thoughtlab.generative.text import published as P
from thoughtlab.generative.text.experiment import TextConfig, run_text
from thoughtlab.generative.text.lstm import LstmShape
from thoughtlab.generative.text.train import AdvConfig

TINY = TextConfig(shape=LstmShape(vocab=12, emb=4, hidden=4, length=5), n_train=64, n_test=20, n_eval=20, n_floor=50,
                  pre_steps=4, batch=8, adv=AdvConfig(steps=4, batch=4, d_warmup=1), temperatures=(0.8, 1.0, 1.2))


def test_a_given_oracle_gives_the_numbers_of_the_same_seeded_one():
    assert run_text(TINY, 3, orc=O.make_oracle(TINY.shape, 3)) == run_text(TINY, 3)


def test_a_given_oracle_changes_the_numbers():
    assert run_text(TINY, 3, orc=O.make_oracle(TINY.shape, 4))["floor"] != run_text(TINY, 3)["floor"]


@pytest.mark.parametrize("field, value", [("vocab", 13), ("emb", 8), ("hidden", 8), ("length", 6)])
def test_a_config_that_contradicts_the_oracle_is_refused(field, value):
    orc = O.make_oracle(dataclasses.replace(TINY.shape, **{field: value}), 0)
    with pytest.raises(BadInput, match=f"contradicts the oracle's .*{field}={value}.*shape=oracle.shape"):
        run_text(TINY, 0, orc=orc)


def test_claim_folder_writes_then_accepts_the_same_training_and_refuses_another(tmp_path):
    identity = {"params_sha256": "ab" * 32, "seed": 0, "config": {"temperatures": (0.8, 1.0)}}
    P.claim_folder(tmp_path / "run", identity)
    assert json.loads((tmp_path / "run" / P.MANIFEST).read_text())["config"]["temperatures"] == [0.8, 1.0]
    P.claim_folder(tmp_path / "run", identity)  # the same training: resume
    with pytest.raises(UserError, match=r"other seed; .*resume"):
        P.claim_folder(tmp_path / "run", identity | {"seed": 1})
