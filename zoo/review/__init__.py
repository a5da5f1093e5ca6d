"""Review a published markdown card on its own: every error the card proves about itself, each on its line.

A careful reviewer reads a card without its files: totals against their parts, rates against times, links,
formats and resolutions against the file names the rows link, datasets, row labels, units, and what the prose
says against the tables. ``review_markdown`` does that (``zoo validate README.md``). A finding is an error only
when the card's own text proves it wrong (interval arithmetic on printed digits, one file with two resolutions);
anything a reader could explain is a warning or information. Rule ids live in ``zoo.verification.rules.base.RULES``.
"""
