import numpy as np
import pytest
from baseline_helpers import perturbed, structured_image

from harness.baselines.base import Resources
from harness.baselines.feature_entropy import FeatureEntropy, feature_entropy
from harness.baselines.features import ImageEncoder
from harness.baselines.seed_ensemble import SeedEnsemble, cosine_uncertainty, ssim_uncertainty


def test_cosine_uncertainty_by_hand():
    # rows (1,0), (0,1), (1,1): cosines 0, 1/√2, 1/√2 -> u = 1 − (√2/3)
    feats = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert cosine_uncertainty(feats) == pytest.approx(1 - np.sqrt(2) / 3)
    assert cosine_uncertainty(np.ones((4, 3))) == pytest.approx(0.0, abs=1e-12)


def test_identical_images_give_zero(encoder_dir):
    image = structured_image(0)
    images = [image.copy() for _ in range(4)]
    cosine = SeedEnsemble(Resources(), encoder=str(encoder_dir))
    assert cosine.evaluate("a red circle", images).u == pytest.approx(0.0, abs=1e-9)
    assert SeedEnsemble(Resources(), similarity="ssim").evaluate("x", images).u == pytest.approx(
        0.0, abs=1e-9
    )
    assert ssim_uncertainty(images) == pytest.approx(0.0, abs=1e-9)


def test_u_grows_when_images_differ_more(encoder_dir):
    encoder = ImageEncoder.load(str(encoder_dir), "cpu")
    base = structured_image(1)
    u_cos, u_ssim = [], []
    for sigma in (0.0, 0.05, 0.3):
        images = [base] + [perturbed(base, sigma, seed) for seed in range(3)]
        u_cos.append(cosine_uncertainty(encoder.encode(images)))
        u_ssim.append(ssim_uncertainty(images))
    assert u_cos[0] == pytest.approx(0.0, abs=1e-9) and u_cos[0] < u_cos[1] < u_cos[2]
    assert u_ssim[0] == pytest.approx(0.0, abs=1e-9) and u_ssim[0] < u_ssim[1] < u_ssim[2]


def test_signature_names_method_encoder_and_versions(encoder_dir):
    sig = SeedEnsemble(Resources(), encoder=str(encoder_dir)).signature()
    assert sig.startswith("seed_ensemble:sim=cosine:encoder=judge@local-sha256:") and "torch=" in sig
    assert "ssim" in SeedEnsemble(Resources(), similarity="ssim").signature()


def test_feature_entropy_matches_hand_formula():
    feats = np.array([[1.0, 2.0], [3.0, 2.0], [2.0, 5.0]])
    # per-dimension population variances: dim0 mean 2 -> (1+1+0)/3 = 2/3; dim1 mean 3 -> (1+1+4)/3 = 2
    v = np.array([2 / 3, 2.0])
    expected = 0.5 * (np.log(v[0] + 1e-3) + np.log(v[1] + 1e-3)) + (2 / 2) * (np.log(2 * np.pi) + 1)
    assert feature_entropy(feats) == pytest.approx(expected, rel=1e-12)
    # identical features: every v_d = 0 -> ½ D log σ² + (D/2)(log 2π + 1)
    same = np.ones((3, 4))
    assert feature_entropy(same) == pytest.approx(2 * np.log(1e-3) + 2 * (np.log(2 * np.pi) + 1))


def test_feature_entropy_baseline_is_labelled_stand_in(encoder_dir):
    baseline = FeatureEntropy(Resources(), encoder=str(encoder_dir))
    assert "seed-ensemble-stand-in-for-laplace" in baseline.signature()
    base = structured_image(2)
    same = baseline.evaluate("x", [base] * 3)
    varied = baseline.evaluate("x", [base] + [perturbed(base, 0.3, s) for s in range(2)])
    assert same.u < varied.u and same.passes == 3
