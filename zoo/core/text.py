"""The one printer for untrusted text: names, op names, messages and cells that came from a file or a
pull request, shown on a terminal or in a log.

A control character in them could forge a line (``\\n zoo: error: ...``), rewrite one (``\\r``), colour or
retitle a terminal (``ESC [``), or reorder what a reviewer reads (bidirectional overrides). Each is shown
escaped, as Python writes it in a string literal, so the text stays readable and nothing is hidden.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, line and paragraph separators, and the bidirectional marks and overrides.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_LAYOUT = re.compile("(?:\r\n|[\n\t])")


def _escaped(char: str) -> str:
    return repr(char)[1:-1] if char != "'" else char


def printable(text: str) -> str:
    """``text`` on one line with every control character escaped.

    >>> print(printable("a\\nzoo: error: forged\\x1b[31m.tflite"))
    a\\nzoo: error: forged\\x1b[31m.tflite
    >>> printable("osnet_a025 \u2014 128\u00d764")
    'osnet_a025 \u2014 128\u00d764'
    """
    return _CONTROL.sub(lambda m: _escaped(m.group()), text)


def printable_lines(text: str) -> str:
    """``text`` with its line breaks and tabs kept (a report, a table, a diff) and every other control
    character escaped: a lone ``\\r`` or an escape sequence cannot redraw what is already on the screen.

    >>> printable_lines("ok\\r\\nline\\ttwo\\rFAKE\\x1b[2K")
    'ok\\r\\nline\\ttwo\\\\rFAKE\\\\x1b[2K'
    """
    out, end = [], 0
    for match in _LAYOUT.finditer(text):
        out.append(printable(text[end:match.start()]))
        out.append(match.group())
        end = match.end()
    out.append(printable(text[end:]))
    return "".join(out)
