"""Which evaluation protocol a card's figure was made under, as the card data says it.

The protocols themselves (what each one does to inputs, outputs, labels and ranks) are ``zoo.reid.protocols``;
a card only names them, so reading a card needs no more than this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_PROTOCOL = "market1501"  # what a card without evaluation.protocol means: the literature's protocol


def record_protocol(evaluation: Mapping[str, Any], record: Mapping[str, Any]) -> str:
    """The protocol of a performance record's figures: its own ``protocol``, else the card's
    ``evaluation.protocol``, else ``market1501``.

    >>> record_protocol({"protocol": "st-modelzoo"}, {}), record_protocol({}, {"protocol": "st-modelzoo-dequantized"})
    ('st-modelzoo', 'st-modelzoo-dequantized')
    """
    return str(record.get("protocol") or evaluation.get("protocol") or DEFAULT_PROTOCOL)
