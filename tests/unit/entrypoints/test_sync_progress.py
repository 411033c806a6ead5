"""The sync counter: rewritten in place on a terminal, one line per object in a log or a pipe."""

from __future__ import annotations

import pytest

from entrypoints.cli.sync import _printer


def test_in_a_log_each_object_gets_one_final_line(capsys: pytest.CaptureFixture[str]) -> None:
    progress, done = _printer("bu1", live=False)
    progress("Account", 2_000, 0)
    progress("Account", 2_158, 0)
    progress("Contact", 4_000, 3)
    done()
    lines = capsys.readouterr().err.splitlines()
    assert [line.split() for line in lines] == [
        ["bu1", "Account", "2,158", "upserted", "0", "deleted"],
        ["bu1", "Contact", "4,000", "upserted", "3", "deleted"],
    ]


def test_on_a_terminal_the_line_is_rewritten(capsys: pytest.CaptureFixture[str]) -> None:
    progress, done = _printer("bu1", live=True)
    progress("Account", 2_000, 0)
    progress("Account", 2_158, 0)
    done()
    err = capsys.readouterr().err
    assert err.count("\r") == 2 and err.endswith("\n") and "2,158" in err
