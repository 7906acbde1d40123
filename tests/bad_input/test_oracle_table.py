"""Bad inputs of ``thoughtlab oracle PARAMS [--tokens FILE | --train OUTDIR]``: one table; and good runs."""

import json
import os
import pickle

import numpy as np
import pytest

from thoughtlab.cli import main


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def arrays(v=12, e=4, h=4, seed=0):
    rng = np.random.default_rng(seed)
    gates = [rng.standard_normal(s).astype(np.float32) for _ in range(4) for s in ((e, h), (h, h), (h,))]
    return [rng.standard_normal((v, e)).astype(np.float32), *gates,
            rng.standard_normal((h, v)).astype(np.float32), rng.standard_normal(v).astype(np.float32)]


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("oracle-inputs")
    (d / "params.pkl").write_bytes(pickle.dumps(arrays()))
    nan = arrays()
    nan[3][0] = np.nan
    (d / "nan.pkl").write_bytes(pickle.dumps(nan))
    (d / "evil.pkl").write_bytes(pickle.dumps([Evil()]))
    (d / "dict.pkl").write_bytes(pickle.dumps({"a": np.zeros(3)}))
    (d / "shapes.pkl").write_bytes(pickle.dumps([np.zeros(3, np.float32)] * 15))
    (d / "junk.pkl").write_bytes(b"not a pickle")
    (d / "tokens.txt").write_text("1 2 3 4\n0 11 5 6\n\n")
    (d / "ragged.txt").write_text("1 2 3 4\n0 11 5\n")
    (d / "big.txt").write_text("1 2 3 12\n")
    (d / "neg.txt").write_text("1 -2 3 4\n")
    (d / "words.txt").write_text("the cat sat on\n")
    (d / "empty.txt").write_text("\n \n")
    (d / "binary.txt").write_bytes(b"\xff\xfe\x00\x01")
    (d / "folder").mkdir()
    (d / "other-run").mkdir()
    (d / "other-run" / "run.json").write_text(json.dumps({"params_sha256": "0" * 64, "length": 5, "seed": 0}))
    (d / "broken-run").mkdir()
    (d / "broken-run" / "run.json").write_text("{not json")
    return d


CASES = [
    ("missing params", ["{d}/none.pkl"], "oracle file", "target_params_py3.pkl"),
    ("pickled code", ["{d}/evil.pkl"], "not a numpy array", "convert the file to .npz"),
    ("not a list", ["{d}/dict.pkl"], "15 numpy arrays", "SeqGAN order"),
    ("wrong shapes", ["{d}/shapes.pkl"], "wrong shapes", "expected SeqGAN's order"),
    ("corrupt pickle", ["{d}/junk.pkl"], "not a readable pickle", "target_params_py3.pkl"),
    ("NaN parameters", ["{d}/nan.pkl"], "NaN or infinity", "unmodified"),
    ("missing tokens", ["{d}/params.pkl", "--tokens", "{d}/none.txt"], "cannot read token file", "text file of token ids"),
    ("ragged tokens", ["{d}/params.pkl", "--tokens", "{d}/ragged.txt"], "3 to 4 tokens", "same length"),
    ("id beyond vocab", ["{d}/params.pkl", "--tokens", "{d}/big.txt"], "id 12", "0..11"),
    ("negative id", ["{d}/params.pkl", "--tokens", "{d}/neg.txt"], "not a non-negative integer", "token ids only"),
    ("words", ["{d}/params.pkl", "--tokens", "{d}/words.txt"], "not a non-negative integer", "token ids only"),
    ("no sequences", ["{d}/params.pkl", "--tokens", "{d}/empty.txt"], "no sequences", "one sequence"),
    ("binary tokens", ["{d}/params.pkl", "--tokens", "{d}/binary.txt"], "not plain text", "one sequence"),
    ("samples 1", ["{d}/params.pkl", "--samples", "1"], "--samples", ">= 2"),
    ("samples word", ["{d}/params.pkl", "--samples", "many"], "--samples", "integer"),
    ("length 0", ["{d}/params.pkl", "--length", "0"], "--length", ">= 1"),
    ("negative seed", ["{d}/params.pkl", "--seed", "-1"], "--seed", "0 <= seed"),
    ("json is a folder", ["{d}/params.pkl", "--json", "{d}/folder"], "is a folder", "pass a file path"),
    ("train into a file", ["{d}/params.pkl", "--train", "{d}/tokens.txt"], "is a file, not a folder", "pass a folder path"),
    ("train under a file", ["{d}/params.pkl", "--train", "{d}/tokens.txt/out"], "which is a file", "pass a folder path"),
    ("unknown scale", ["{d}/params.pkl", "--train", "{d}/new", "--scale", "huge"], "--scale", "choose from"),
    ("scale without train", ["{d}/params.pkl", "--scale", "smoke"], "--scale", "add --train OUTDIR"),
    ("tokens with train", ["{d}/params.pkl", "--tokens", "{d}/tokens.txt", "--train", "{d}/new"], "--tokens", "two commands"),
    ("bad params with train", ["{d}/junk.pkl", "--train", "{d}/new"], "not a readable pickle", "target_params_py3.pkl"),
    ("folder of another oracle", ["{d}/params.pkl", "--train", "{d}/other-run", "--scale", "smoke", "--length", "5"],
     "params_sha256", "pass a new folder"),
    ("unreadable run.json", ["{d}/params.pkl", "--train", "{d}/broken-run", "--scale", "smoke"], "run.json is unreadable",
     "pass a new --train folder"),
    ("train json is a folder", ["{d}/params.pkl", "--train", "{d}/new", "--json", "{d}/folder"], "is a folder", "pass a file path"),
]


@pytest.mark.parametrize("name, argv, thing, fix", CASES, ids=[c[0] for c in CASES])
def test_oracle_refuses(name, argv, thing, fix, d, refuse):
    refuse(["oracle", *(a.format(d=d) for a in argv)], thing, fix, root=d)


def test_oracle_prints_floor_uniform_and_token_score(d, tmp_path, capsys):
    out = tmp_path / "o.json"
    assert main(["oracle", str(d / "params.pkl"), "--tokens", str(d / "tokens.txt"), "--samples", "300",
                 "--length", "5", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "entropy rate (floor)" in text and "published 5.752" in text and "tokens.txt" in text
    numbers = json.loads(out.read_text())
    assert numbers["floor"]["n"] == 300 and numbers["tokens"]["n"] == 2
    assert numbers["floor"]["mean"] < numbers["uniform"]["mean"]  # the oracle's own samples are likelier than uniform ones


def train(d, outdir, capsys, *extra):
    assert main(["oracle", str(d / "params.pkl"), "--train", str(outdir), "--scale", "smoke", "--length", "5", *extra]) == 0
    return capsys.readouterr().out


def test_oracle_train_prints_the_arms_beside_table_1_and_resumes(d, tmp_path, capsys):
    outdir, extra = tmp_path / "train", tmp_path / "copy.json"
    text = train(d, outdir, capsys, "--json", str(extra))
    result = json.loads((outdir / "result.json").read_text())
    assert json.loads(extra.read_text()) == result
    assert result["shape"] == {"vocab": 12, "emb": 4, "hidden": 4, "length": 5}  # the generator has the file's shape
    assert set(result["arms"]) == {"mle", "gumbel", "seqgan"}
    assert result["arms"]["mle"]["published_nll_oracle"] == 9.038 and result["arms"]["seqgan"]["published_nll_oracle"] == 8.736
    assert result["floor"]["mean"] < result["uniform_nll_test"] == pytest.approx(np.log(12))
    assert all(0 < row["nll_oracle"] < 20 and 0 < row["nll_test"] < 20 for row in result["arms"].values())
    assert "9.038" in text and "8.736" in text and "curve gap" in text
    checkpoints = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in outdir.glob("*.pt")}
    assert set(checkpoints) == {"pretrain.pt", "mle.pt", "gumbel.pt", "seqgan.pt"}

    assert train(d, outdir, capsys) == text  # the rerun resumes every finished phase: nothing is retrained
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in outdir.glob("*.pt")} == checkpoints
    assert json.loads((outdir / "result.json").read_text()) == result


def test_oracle_train_resumes_an_interrupted_arm_exactly(d, tmp_path, capsys):
    outdir = tmp_path / "train"
    train(d, outdir, capsys)
    result = json.loads((outdir / "result.json").read_text())
    (outdir / "seqgan.pt").unlink()
    (outdir / "result.json").unlink()
    train(d, outdir, capsys)
    assert json.loads((outdir / "result.json").read_text()) == result
