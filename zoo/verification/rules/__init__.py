"""The card-against-artifact rules: each has an id, a severity, and a message that says what to fix.

Rules are pure functions of card data (a dict shaped like ``model_cards/*/card.yaml``), the registry and,
for the artifact rules, the ``ModelInfo`` read from the released file. They never fetch or run anything,
so they can be tested on any card and file, and ``zoo verify`` decides what to feed them.
"""
