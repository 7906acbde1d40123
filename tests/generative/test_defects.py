"""The controlled generators really have their defect."""

import numpy as np
import pytest

from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.generative import defects as df


@pytest.fixture(scope="module")
def pools():
    return df.make_pools(200, seed=0)


def test_pools_split_all_images_stratified(pools):
    assert len(pools.reference) == 200 and len(pools.held_out) == 4800
    assert np.bincount(pools.reference_labels).tolist() == [20] * 10
    flat_ref = {r.tobytes() for r in pools.reference}
    assert not any(h.tobytes() in flat_ref for h in pools.held_out[:500])  # disjoint (spot check)


def test_every_defect_gives_images_in_unit_range(pools):
    for defect in df.DEFECTS:
        s = df.generate(defect, pools, 100, seed=1)
        assert s.images.shape == (100, 1, 28, 28) and s.images.dtype == np.float32
        assert 0.0 <= s.images.min() and s.images.max() <= 1.0


def test_mode_drop_has_no_sample_of_the_dropped_classes(pools):
    s = df.generate("mode_drop", pools, 300, seed=3, params=df.DefectParams(dropped_classes=4))
    dropped = s.info["dropped"]
    assert len(dropped) == 4
    assert not np.isin(s.labels, dropped).any()
    assert np.array_equal(s.labels, pools.held_out_labels[s.indices])
    assert len(set(s.labels.tolist())) == 6


def test_memorised_samples_equal_reference_images(pools):
    s = df.generate("memorise", pools, 150, seed=0)
    reference = {r.tobytes() for r in pools.reference}
    assert all(img.tobytes() in reference for img in s.images)
    assert np.array_equal(s.images, pools.reference[s.indices])


def high_frequency_energy(images):
    spectrum = np.abs(np.fft.fft2(images[:, 0])) ** 2
    f = np.fft.fftfreq(28)
    radius = np.sqrt(f[:, None] ** 2 + f[None, :] ** 2)
    return spectrum[:, radius > 0.25].sum(axis=1)


def test_blur_lowers_high_frequencies_and_noise_raises_them(pools):
    ideal = df.generate("ideal", pools, 100, seed=0)
    blurred = df.generate("blur", pools, 100, seed=0)
    base = pools.held_out[blurred.indices]  # the same images before blurring
    assert (high_frequency_energy(blurred.images) < 0.2 * high_frequency_energy(base)).all()
    assert np.allclose(df.gaussian_blur(base, 1.5), blurred.images)
    noisy = df.generate("noise", pools, 100, seed=0)
    assert high_frequency_energy(noisy.images).mean() > 2 * high_frequency_energy(ideal.images).mean()


def test_truncation_draws_only_class_prototypes_nearest_the_mean(pools):
    keep = 0.1
    s = df.generate("truncation", pools, 200, seed=0, params=df.DefectParams(truncation_keep=keep))
    protos = df.prototypes(pools, keep)
    assert np.bincount(s.labels).tolist() == [20] * 10
    for c in range(10):
        members = np.flatnonzero(pools.held_out_labels == c)
        assert len(protos[c]) == int(np.ceil(keep * len(members)))
        assert set(s.indices[s.labels == c]) <= set(protos[c].tolist())
        flat = pools.held_out[members].reshape(len(members), -1)
        dist = np.linalg.norm(flat - flat.mean(0), axis=1)
        assert dist[np.isin(members, protos[c])].max() <= np.sort(dist)[len(protos[c]) - 1] + 1e-9
    # low diversity: samples lie nearer their class mean than held-out real samples do
    ideal = df.generate("ideal", pools, 200, seed=0)

    def spread(samples):
        flat = samples.images.reshape(len(samples.images), -1)
        means = {c: pools.held_out[pools.held_out_labels == c].reshape(-1, 784).mean(0) for c in range(10)}
        return np.mean([np.linalg.norm(f - means[c]) for f, c in zip(flat, samples.labels)])

    assert spread(s) < 0.9 * spread(ideal)


def test_generators_are_deterministic_and_seed_dependent(pools):
    for defect in df.DEFECTS:
        a, b = df.generate(defect, pools, 50, seed=7), df.generate(defect, pools, 50, seed=7)
        assert np.array_equal(a.images, b.images)
    assert not np.array_equal(df.generate("ideal", pools, 50, 1).images, df.generate("ideal", pools, 50, 2).images)


def test_bad_requests_are_user_errors(pools):
    with pytest.raises(UnknownName):
        df.generate("sharpen", pools, 10, 0)
    with pytest.raises(BadInput, match="pool holds only"):
        df.generate("mode_drop", pools, 4000, 0, df.DefectParams(dropped_classes=9))
    with pytest.raises(BadInput):
        df.make_pools(205, 0)
