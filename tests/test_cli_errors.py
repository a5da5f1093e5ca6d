"""Bad command lines get one line on stderr and exit 2 (never a usage block, never a traceback)."""

from __future__ import annotations

import pytest

from zoo.cli import main


@pytest.mark.parametrize("argv", [
    ["bench", "osnet_demo", "--threads", "100000"],
    ["bench", "osnet_demo", "--min-runs", "0"],
    ["bench", "osnet_demo", "--min-seconds", "nan"],
    ["bench", "osnet_demo", "--warmup", "-1"],
    ["verify", "--jobs", "0"],
    ["verify", "--tolerance-pp", "x"],
    ["evaluate", "osnet_demo", "--dataset", ".", "--limit-queries", "0"],
    ["no-such-command"],
])
def test_bad_options_are_one_line_usage_errors(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.count("\n") == 1 and err.startswith("zoo: error: ") and "--help" in err
