"""Kernel sets: ``reference`` computes bit for bit what TensorFlow Lite Micro (an MCU's runtime) computes.

The TFLM comparisons run when ``tflite-micro`` is installed (``pip install 'zoo[mcu]'``) and are skipped
otherwise; on osnet_demo (the real osnet_a025 on CUHK03 crops: test_real_artifacts.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from zoo.reid import synthetic
from zoo.cards.card import load_card
from zoo.demo import DEMO_MODEL, bundled_mirror
from zoo.core.errors import UsageError
from zoo.reid.features import extract_features
from zoo.model.goldens import kernel_agreement, load_golden
from zoo.reid.preprocessing import Preprocessing
from zoo.reid.protocols import get_protocol
from zoo.catalog.registry import load_registry
from zoo.model.runtime import load_model
from helpers import assert_reference_equals_micro, golden_like_inputs, micro_outputs



@pytest.fixture(scope="module")
def tflm():
    return pytest.importorskip("tflite_micro.python.tflite_micro.runtime", reason="tflite-micro is not installed")


@pytest.fixture(scope="module")
def demo_model() -> Path:
    return bundled_mirror() / DEMO_MODEL / load_registry().get(DEMO_MODEL).artifact("tflite").file


def test_reference_kernels_are_bit_exact_with_tflm_on_the_demo(tflm, demo_model):
    assert_reference_equals_micro(tflm, demo_model, golden_like_inputs(demo_model, 4))


def test_reference_features_are_what_the_mcu_computes(tflm, demo_model, tmp_path):
    """Through zoo's whole feature path (threads, one interpreter each): raw outputs equal TFLM's."""
    root = synthetic.write_test_set(tmp_path, identities=3, gallery_per_identity=2).root
    images = sorted(root.rglob("*.jpeg"))
    prep = Preprocessing.from_card(load_card(load_registry().get(DEMO_MODEL).card).preprocessing)
    raw = get_protocol("st-modelzoo")
    ours = extract_features(demo_model, images, prep, protocol=raw, kernels="reference", workers=2)
    (info,) = load_model(demo_model).inputs
    inputs = [prep.model_input(p, info.dtype, info.scale, info.zero_point, requantize=True) for p in images]
    micro = np.stack([o.reshape(-1) for o in micro_outputs(tflm, demo_model, inputs)]).astype(np.float32)
    np.testing.assert_array_equal(ours, micro)


def test_kernel_agreement_on_the_golden_inputs(demo_model):
    golden = load_golden(load_registry().get(DEMO_MODEL).artifact("tflite").golden)
    agreement = kernel_agreement(demo_model, golden)
    model = load_model(demo_model)
    assert agreement.cases == golden["recipe"]["cases"]
    assert agreement.values == agreement.cases * int(np.prod(model.outputs[0].shape))
    # the two kernel sets round differently: some outputs differ, each by a few steps, never wildly
    assert 0 < agreement.differing_share < 1 and 1 <= agreement.max_steps < 32


def test_unknown_kernel_set_is_a_usage_error(demo_model):
    with pytest.raises(UsageError, match="unknown kernel set 'fast'.*optimized, reference"):
        load_model(demo_model, kernels="fast")


def test_bench_names_its_kernels(demo_model, capsys):
    from zoo.cli import main

    argv = ["bench", str(demo_model), "--warmup", "0", "--min-runs", "3", "--min-seconds", "0", "--kernels", "reference"]
    assert main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["kernels"] == "reference"
    assert main(argv) == 0
    assert "reference kernels" in capsys.readouterr().out.splitlines()[0]
