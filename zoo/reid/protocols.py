"""Evaluation protocols: the named ways a re-ID figure is computed, so a claim is checked the way it was made.

A published accuracy figure is only comparable with a measurement that took the same steps. Two families
are in use for the models this project ships, and they differ in every step after decoding:

- ``market1501``: the torchreid / Market-1501 protocol that the literature reports. A uint8 input takes the
  resized pixels as they are (its input quantization stands for the rescale); outputs are dequantized;
  identities and cameras come from the dataset layout; same-identity same-camera gallery items are removed,
  queries without a match are skipped; mAP, CMC and mINP as torchreid computes them.
- ``st-modelzoo``: the host evaluation of the STM32 model zoo services (AI-ModelZoo 4.0,
  ``re_identification/tf/src/``), by which the ST cards' figures were made. The float image goes through
  Keras ``Rescaling``, ``tf.image.resize`` again, then ``np.round(x / scale + zero_point)`` (float32, half to
  even) to the input type, so a uint8 input is not always the raw pixel; the raw integer output is the
  feature (``target: host`` does not dequantize); labels are file-name prefixes; no cameras; ST's rank-k
  and mAP.
- ``st-modelzoo-dequantized``: the same with dequantized outputs, as the services' STEdgeAI targets do.

Each protocol is data read by the steps it governs (``zoo.reid.preprocessing`` for the input, ``zoo.reid.features``
for the output, ``zoo.reid.evaluation`` for labels, ``zoo.reid.metrics`` for the metrics); nothing here runs a model.

    >>> get_protocol("st-modelzoo").dequantize_output
    False
    >>> file_name_labels(["3_1_0.jpg", "7_1_0.jpg"], ["7_2_1.jpg", "9_2_0.jpg", "3_2_4.jpg"])
    ([0, 1], [1, -1, 0])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from zoo.core.errors import UsageError


@dataclass(frozen=True)
class Protocol:
    """What a protocol fixes, step by step; ``steps`` describes each in words for reports and the README."""

    name: str
    summary: str
    requantize_input: bool  # Rescaling + resize + round(x / scale + zero point); else raw pixels for uint8
    dequantize_output: bool  # else the raw integer output, cast to float32, is the feature
    file_name_labels: bool  # label = file name before the first "_" (query identities, others -1); no cameras
    scoring: str  # how ranks become figures: a key of zoo.reid.scoring.SCORINGS
    steps: dict[str, str]


_DECODING = "tf.image.decode_image (libjpeg-turbo, fast integer DCT)"
_ST_INPUT = "Keras Rescaling, resize again, np.round(x / scale + zero point) in float32 (half to even), clip"
_ST_STEPS = {
    "decoding": _DECODING,
    "input quantization": _ST_INPUT,
    "cameras": "none: labels are file-name prefixes; gallery identities absent from the queries never match",
    "ranking": "tf.argsort of cosine distance clipped to [0, 2]; rank-k: the query's label among the first k",
    "mAP": "ST's: mean precision at each matching position over the whole gallery; no-match queries left out",
}

PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol(
            name="market1501",
            summary="torchreid / Market-1501: raw uint8 pixels in, dequantized outputs, same-camera matches removed",
            requantize_input=False,
            dequantize_output=True,
            file_name_labels=False,
            scoring="market1501",
            steps={
                "decoding": _DECODING,
                "input quantization": "uint8: the resized pixels as they are; int8: rescaled, rounded half to even",
                "output": "dequantized with its scale and zero point",
                "cameras": "from the layout; gallery items with the query's identity and camera removed",
                "ranking": "stable sort of the distance; CMC over the queries that have a match",
                "mAP": "torchreid's (precision at each true match), with mINP; no-match queries skipped",
            },
        ),
        Protocol(
            name="st-modelzoo",
            summary="the STM32 model zoo services' host evaluation (target: host): raw integer outputs",
            requantize_input=True,
            dequantize_output=False,
            file_name_labels=True,
            scoring="st-modelzoo",
            steps={**_ST_STEPS, "output": "the raw integer output cast to float32 (not dequantized)"},
        ),
        Protocol(
            name="st-modelzoo-dequantized",
            summary="the STM32 model zoo services' evaluation on its STEdgeAI targets: dequantized outputs",
            requantize_input=True,
            dequantize_output=True,
            file_name_labels=True,
            scoring="st-modelzoo",
            steps={**_ST_STEPS, "output": "dequantized with its scale and zero point"},
        ),
    )
}
# Publishers whose re-ID cards' figures were made by one protocol, and the words by which their cards name them.
PUBLISHERS: dict[str, tuple[str, ...]] = {"st-modelzoo": ("stm32ai-modelzoo", "stedgeai", "stm32cube.ai")}


def get_protocol(name: str) -> Protocol:
    """The protocol called ``name``; an unknown name is a ``UsageError`` listing the known ones."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise UsageError(f"unknown evaluation protocol {name!r} (choose from {', '.join(PROTOCOLS)})") from None


def published_protocol(use_case: str, text: str) -> str | None:
    """The protocol of the figures of an imported re-ID card, from the publisher its text names (the ST
    model zoo's were made by its services' host evaluation); None for other use cases or unknown publishers.

    >>> published_protocol("re_identification", "Please refer to the stm32ai-modelzoo-services GitHub")
    'st-modelzoo'
    >>> published_protocol("image_classification", "stm32ai-modelzoo"), published_protocol("re_identification", "")
    (None, None)
    """
    if use_case != "re_identification":
        return None
    lowered = text.lower()
    return next((name for name, words in PUBLISHERS.items() if any(w in lowered for w in words)), None)


def file_name_labels(query: Sequence[str | PurePath], gallery: Sequence[str | PurePath]) -> tuple[list[int], list[int]]:
    """The ST services' labels: the file name before the first ``_``, numbered among the query's identities.

    The services build the class list from the query folder, so a gallery image whose prefix no query has
    gets -1 and never matches. Prefixes compare as text (``"07"`` and ``"7"`` are different people), as there.
    """
    def prefix(name: str | PurePath) -> str:
        return PurePath(name).name.split("_", 1)[0]

    classes = {name: i for i, name in enumerate(sorted({prefix(p) for p in query}))}
    return [classes[prefix(p)] for p in query], [classes.get(prefix(p), -1) for p in gallery]
