"""Done means: under each protocol, ``zoo evaluate`` gives the figures of an independent TensorFlow
implementation of that protocol (``tests/tf_protocols.py``), to the protocol's rounding.

On the bundled demo model with both kernel sets, so a plain clone checks every protocol; the real osnet_a025
on the CUHK03 sample with the optimized kernels in tests/test_real_artifacts.py (the reference kernels over
the whole sample take minutes: ``benchmarks/check_protocols_tf.py``). Needs TensorFlow (the test extra).
"""

from __future__ import annotations

import json

import pytest

import tf_protocols
from zoo.reid import synthetic
from zoo.cards.card import load_card
from zoo.cli import main
from zoo.demo import DEMO_MODEL, bundled_mirror
from zoo.reid.protocols import PROTOCOLS
from zoo.catalog.registry import load_registry

FIGURES = ("mAP", "rank1", "rank5", "rank10")


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


def zoo_figures(capsys, model, dataset, protocol, kernels, *card):
    argv = ["evaluate", str(model), "--dataset", str(dataset), "--protocol", protocol, "--kernels", kernels, "--json"]
    assert main([*argv, *card]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["protocol"], report["kernels"]) == (protocol, kernels)
    return {key: report["percent"][key] for key in FIGURES}


@pytest.fixture(scope="module")
def people(tmp_path_factory):
    return synthetic.write_test_set(tmp_path_factory.mktemp("people"), identities=12, gallery_per_identity=4).root


@pytest.mark.parametrize("kernels", ["optimized", "reference"])
@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_demo_model_under_every_protocol_and_kernel_set(tf, capsys, people, protocol, kernels):
    model = load_registry().get(DEMO_MODEL)
    file = bundled_mirror() / DEMO_MODEL / model.artifact("tflite").file
    expected = tf_protocols.protocol_figures(tf, protocol, file, people, load_card(model.card).preprocessing, kernels)
    assert zoo_figures(capsys, file, people, protocol, kernels) == expected
