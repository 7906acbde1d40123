"""Bad inputs of ``thoughtlab eval REAL FAKE`` and ``thoughtlab eval stats INPUT -o OUT``: one table each."""

import argparse
import textwrap

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.filterwarnings("ignore::thoughtlab.metrics.SmallSampleWarning")


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    """Inputs, good and bad, written once."""
    d = tmp_path_factory.mktemp("eval-inputs")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 1, 16, 16), dtype=np.uint8)
    np.save(d / "real.npy", images)
    np.save(d / "feat.npy", rng.normal(size=(30, 4)))
    np.save(d / "feat5.npy", rng.normal(size=(30, 5)))
    np.save(d / "nan.npy", np.where(np.arange(120).reshape(30, 4) == 7, np.nan, rng.normal(size=(30, 4))))
    np.save(d / "bool.npy", rng.normal(size=(30, 4)) > 0)
    np.save(d / "vector.npy", rng.normal(size=30))
    np.save(d / "one.npy", rng.normal(size=(1, 4)))
    np.save(d / "float2.npy", rng.uniform(0, 2, (12, 1, 16, 16)))
    np.save(d / "two_channels.npy", images.reshape(12, 1, 16, 16).repeat(2, axis=1))
    np.save(d / "text.npy", np.array(["a", "b"]))
    np.savez(d / "good.npz", images=images)
    (d / "truncated.npz").write_bytes((d / "good.npz").read_bytes()[:200])
    (d / "noise.npz").write_bytes(rng.bytes(300))
    np.save(d / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(d / "two_arrays.npz", a=images, b=images)
    sigma = np.cov(rng.normal(size=(30, 4)).T)
    np.savez(d / "stats.npz", mu=np.zeros(4), sigma=sigma)
    np.savez(d / "asym.npz", mu=np.zeros(4), sigma=sigma + np.triu(np.ones((4, 4)), 1))
    np.savez(d / "negdef.npz", mu=np.zeros(4), sigma=-sigma)
    np.savez(d / "nanstats.npz", mu=np.full(4, np.nan), sigma=sigma)
    np.savez(d / "shape.npz", mu=np.zeros(3), sigma=sigma)
    np.savez(d / "badn.npz", mu=np.zeros(4), sigma=sigma, n=np.float64(2.5))
    (d / "empty").mkdir()
    (d / "corrupt").mkdir()
    (d / "corrupt" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    (d / "gen.py").write_text(textwrap.dedent("""
        import numpy as np
        calls = []
        def grows(n):
            calls.append(n)
            side = 8 + 2 * len(calls)
            return np.zeros((n, 1, side, side), np.uint8)
        def listy(n):
            return [[0] * 4] * n
        def fails(n):
            raise RuntimeError("boom")
    """))
    torch.save(argparse.Namespace(weights=1), d / "pickled.pth")
    (d / "truncated.pth").write_bytes(b"PK\x03\x04" + b"\0" * 20)
    (d / "a_file").write_text("not a folder")
    return d


F = ["--metrics", "fid", "--no-cache"]  # cheapest metric: the refusals must come before any work anyway
EVAL = [
    # (id, argv(d, t), thing, fix)
    ("truncated-npz", lambda d, t: [d / "truncated.npz", d / "feat.npy", *F], "truncated.npz", "np.savez"),
    ("non-zip-npz", lambda d, t: [d / "noise.npz", d / "feat.npy", *F], "noise.npz", "np.save"),
    ("pickled-npy", lambda d, t: [d / "pickled.npy", d / "feat.npy", *F], "pickled.npy", "without pickled"),
    ("text-npy", lambda d, t: [d / "text.npy", d / "feat.npy", *F], "text.npy", "reshape"),
    ("two-array-npz", lambda d, t: [d / "two_arrays.npz", d / "feat.npy", *F], "two_arrays.npz", "name it"),
    ("nan-features", lambda d, t: [d / "feat.npy", d / "nan.npy", *F], "row 1", "drop or recompute"),
    ("bool-features", lambda d, t: [d / "bool.npy", d / "feat.npy", *F], "dtype bool", "pass numeric"),
    ("1d-array", lambda d, t: [d / "vector.npy", d / "feat.npy", *F], "shape (30,)", "features (N, d)"),
    ("dims-differ", lambda d, t: [d / "feat.npy", d / "feat5.npy", *F], "5", "same feature extractor"),
    ("one-sample", lambda d, t: [d / "one.npy", d / "feat.npy", *F], "got 1", "pass more samples"),
    ("float-images-out-of-range", lambda d, t: [d / "float2.npy", d / "real.npy", *F], "[0, 1]", "divide"),
    ("two-channel-images", lambda d, t: [d / "two_channels.npy", d / "real.npy", *F], "shape", "1 or 3"),
    ("stats-not-symmetric", lambda d, t: [d / "asym.npz", d / "feat.npy"], "not symmetric", "recompute"),
    ("stats-negative-definite", lambda d, t: [d / "negdef.npz", d / "feat.npy"], "negative eigenvalues", "recompute"),
    ("stats-nan", lambda d, t: [d / "nanstats.npz", d / "feat.npy"], "mu", "recompute"),
    ("stats-shape", lambda d, t: [d / "shape.npz", d / "feat.npy"], "shape.npz", "expected (d,) and (d, d)"),
    ("stats-n-not-integer", lambda d, t: [d / "badn.npz", d / "feat.npy"], "n must be one integer", "store the count"),
    ("stats-with-kid", lambda d, t: [d / "stats.npz", d / "feat.npy", "--metrics", "kid"], "only give FID",
     "pass feature arrays"),
    ("generator-changes-size", lambda d, t: [d / "real.npy", f"{d / 'gen.py'}:grows", "--samples", "9",
                                             "--batch-size", "4", *F], "change shape", "one size"),
    ("generator-returns-list", lambda d, t: [d / "real.npy", f"{d / 'gen.py'}:listy", "--samples", "3", *F],
     "returned a list", "numpy array"),
    ("generator-raises", lambda d, t: [d / "real.npy", f"{d / 'gen.py'}:fails", "--samples", "3", *F],
     "RuntimeError: boom", "fix the generator"),
    ("generator-without-samples", lambda d, t: [d / "real.npy", f"{d / 'gen.py'}:grows", *F], "generator",
     "--samples N"),
    ("samples-0", lambda d, t: [d / "real.npy", f"{d / 'gen.py'}:grows", "--samples", "0", *F], "--samples",
     "at least 1"),
    ("size-0", lambda d, t: [d / "real.npy", d / "real.npy", "--extractor", "pixels", "--size", "0", *F],
     "--size", ">= 1"),
    ("size-negative", lambda d, t: [d / "real.npy", d / "real.npy", "--extractor", "pixels", "--size", "-3", *F],
     "--size", ">= 1"),
    ("size-huge", lambda d, t: [d / "real.npy", d / "real.npy", "--extractor", "pixels", "--size", "100000", *F],
     "--size", "<= 2048"),
    ("size-float", lambda d, t: [d / "real.npy", d / "real.npy", "--size", "1.5", *F], "--size", "--help"),
    ("seed-negative", lambda d, t: [d / "feat.npy", d / "feat.npy", "--seed", "-1", *F], "--seed", "2**32"),
    ("seed-20-digits", lambda d, t: [d / "feat.npy", d / "feat.npy", "--seed", "1" * 20, *F], "--seed", "2**32"),
    ("seed-text", lambda d, t: [d / "feat.npy", d / "feat.npy", "--seed", "abc", *F], "--seed", "--help"),
    ("batch-size-0", lambda d, t: [d / "real.npy", d / "real.npy", "--batch-size", "0", *F], "--batch-size", ">= 1"),
    ("json-is-a-folder", lambda d, t: [d / "feat.npy", d / "feat.npy", "--json", t, *F], "--json", "file path"),
    ("json-under-a-file", lambda d, t: [d / "feat.npy", d / "feat.npy", "--json", d / "a_file" / "r.json", *F],
     "a_file", "folder path"),
    ("cache-dir-is-a-file", lambda d, t: [d / "real.npy", d / "real.npy", "--metrics", "fid",
                                          "--cache-dir", d / "a_file"], "--cache-dir", "pass a folder"),
    ("cache-dir-under-a-file", lambda d, t: [d / "real.npy", d / "real.npy", "--metrics", "fid",
                                             "--cache-dir", d / "a_file" / "cache"], "a_file", "folder path"),
    ("weights-pickled", lambda d, t: [d / "real.npy", d / "real.npy", "--weights", d / "pickled.pth", *F],
     "not a plain weights file", "torch.save(model.state_dict()"),
    ("weights-truncated", lambda d, t: [d / "real.npy", d / "real.npy", "--weights", d / "truncated.pth", *F],
     "truncated.pth", "intact file"),
    ("weights-missing", lambda d, t: [d / "real.npy", d / "real.npy", "--weights", d / "none.pth", *F],
     "none.pth", "fix --weights"),
    ("weights-for-pixels", lambda d, t: [d / "real.npy", d / "real.npy", "--extractor", "pixels",
                                         "--weights", d / "pickled.pth", *F], "--weights", "inception"),
    ("unknown-metric", lambda d, t: [d / "feat.npy", d / "feat.npy", "--metrics", "fidd"], "fidd", "choose one of"),
    ("no-metric", lambda d, t: [d / "feat.npy", d / "feat.npy", "--metrics", ","], "no metric", "pass metrics"),
    ("missing-input", lambda d, t: [d / "absent.npy", d / "feat.npy", *F], "absent.npy", "no such file"),
    ("unknown-suffix", lambda d, t: [d / "a_file", d / "feat.npy", *F], "a_file", "expected an image folder"),
    ("empty-folder", lambda d, t: [d / "empty", d / "feat.npy", *F], "empty", "no image files"),
    ("corrupt-image", lambda d, t: [d / "corrupt", d / "real.npy", *F], "a.png", "delete or replace"),
    ("is-on-features", lambda d, t: [d / "feat.npy", d / "feat.npy", "--metrics", "is"], "inception score",
     "--extractor"),
    ("three-inputs", lambda d, t: [d / "feat.npy", d / "feat.npy", d / "feat.npy"], "got 3 inputs", "REAL FAKE"),
    ("out-without-stats", lambda d, t: [d / "feat.npy", d / "feat.npy", "-o", t / "s.npz"], "-o/--out", "--json"),
    ("unknown-extractor", lambda d, t: [d / "real.npy", d / "real.npy", "--extractor", "vgg"], "--extractor",
     "--help"),
    ("unknown-device", lambda d, t: [d / "real.npy", d / "real.npy", "--device", "tpu", *F], "tpu", "choose"),
]


@pytest.mark.parametrize("argv, thing, fix", [row[1:] for row in EVAL], ids=[row[0] for row in EVAL])
def test_eval_refuses(d, tmp_path, refuse, argv, thing, fix):
    refuse(["eval", *argv(d, tmp_path)], thing, fix, root=tmp_path)
    refuse_nothing_written_to_inputs = sorted(p.name for p in d.iterdir())
    assert "r.json" not in refuse_nothing_written_to_inputs


S = ["--extractor", "pixels", "--no-cache"]
STATS = [
    ("out-missing", lambda d, t: ["stats", d / "feat.npy"], "usage", "-o stats.npz"),
    ("out-is-a-folder", lambda d, t: ["stats", d / "feat.npy", "-o", t], "-o/--out", "file path"),
    ("out-under-a-file", lambda d, t: ["stats", d / "feat.npy", "-o", d / "a_file" / "s.npz"], "a_file",
     "folder path"),
    ("input-is-stats", lambda d, t: ["stats", d / "stats.npz", "-o", t / "s.npz"], "already holds FID statistics",
     "pass images or features"),
    ("input-truncated", lambda d, t: ["stats", d / "truncated.npz", "-o", t / "s.npz"], "truncated.npz", "np.savez"),
    ("input-non-zip", lambda d, t: ["stats", d / "noise.npz", "-o", t / "s.npz"], "noise.npz", "np.save"),
    ("input-nan", lambda d, t: ["stats", d / "nan.npy", "-o", t / "s.npz"], "NaN", "drop or recompute"),
    ("input-one-sample", lambda d, t: ["stats", d / "one.npy", "-o", t / "s.npz"], "got 1", "pass more samples"),
    ("input-1d", lambda d, t: ["stats", d / "vector.npy", "-o", t / "s.npz"], "shape (30,)", "features (N, d)"),
    ("input-bool", lambda d, t: ["stats", d / "bool.npy", "-o", t / "s.npz"], "dtype bool", "pass numeric"),
    ("input-missing", lambda d, t: ["stats", d / "absent.npy", "-o", t / "s.npz"], "absent.npy", "no such file"),
    ("input-generator-grows", lambda d, t: ["stats", f"{d / 'gen.py'}:grows", "--samples", "9", "--batch-size", "4",
                                            "-o", t / "s.npz", *S], "change shape", "one size"),
    ("size-0", lambda d, t: ["stats", d / "real.npy", "-o", t / "s.npz", "--size", "0", *S], "--size", ">= 1"),
    ("seed-negative", lambda d, t: ["stats", d / "real.npy", "-o", t / "s.npz", "--seed", "-5", *S], "--seed",
     "2**32"),
    ("cache-dir-is-a-file", lambda d, t: ["stats", d / "real.npy", "-o", t / "s.npz", "--extractor", "pixels",
                                          "--cache-dir", d / "a_file"], "--cache-dir", "pass a folder"),
    ("two-inputs", lambda d, t: ["stats", d / "feat.npy", d / "feat.npy", "-o", t / "s.npz"], "usage",
     "-o stats.npz"),
    ("weights-pickled", lambda d, t: ["stats", d / "real.npy", "-o", t / "s.npz", "--weights", d / "pickled.pth",
                                      "--no-cache"], "not a plain weights file", "torch.save(model.state_dict()"),
]


@pytest.mark.parametrize("argv, thing, fix", [row[1:] for row in STATS], ids=[row[0] for row in STATS])
def test_eval_stats_refuses(d, tmp_path, refuse, argv, thing, fix):
    refuse(["eval", *argv(d, tmp_path)], thing, fix, root=tmp_path)


def test_json_write_failure_after_the_work_keeps_the_printed_metrics(d, tmp_path, capsys, monkeypatch):
    """A disk that fails at the very end: the table is already on stdout, the error is one line naming the file."""
    from thoughtlab.cli import main
    from thoughtlab.metrics import cli as eval_cli

    def full_disk(path, obj):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(eval_cli, "atomic_write_json", full_disk)
    assert main(["eval", str(d / "feat.npy"), str(d / "feat5.npy").replace("feat5", "feat"), "--metrics", "fid",
                 "--json", str(tmp_path / "r.json")]) == 2
    out, err = capsys.readouterr()
    assert out.startswith("fid") and "r.json" in err and "No space left" in err and err.count("\n") == 1
