"""`xsell fake-salesforce`: help for users, one-line errors, and CSV export of a generated group."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from entrypoints.cli import commands  # noqa: F401  (attaches the commands)
from entrypoints.cli.app import cli


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["fake-salesforce", *args])
    return result.exit_code, result.output


def test_help_explains_options_and_examples() -> None:
    code, output = run("--help")
    assert code == 0
    for text in ("--generate", "--org NAME=DIR", "--fault ORG:KEY=VALUE", "--admin", "Examples:"):
        assert text in output


def test_bad_input_exits_non_zero_with_one_line_reason(tmp_path: Path) -> None:
    code, output = run("--fault", "bu1:latency_ms=slow")
    assert code == 2 and "latency_ms must be a number" in output and "Traceback" not in output
    code, output = run("--org", "missing")
    assert code == 2 and "--org must look like NAME=DIR" in output
    (tmp_path / "Account.csv").write_text("Id,Name,NumberOfEmployees\n001000000000001,Acme,lots\n")
    code, output = run("--org", f"emea={tmp_path}")
    assert code == 1
    assert "Account.csv, line 2, column 3 (NumberOfEmployees)" in output
    assert "Traceback" not in output


def test_write_csv_streams_a_group_and_its_ground_truth(tmp_path: Path) -> None:
    code, output = run(
        "--accounts",
        "40",
        "--orgs",
        "2",
        "--write-csv",
        str(tmp_path / "group"),
        "--ground-truth",
        str(tmp_path / "truth.jsonl"),
    )
    assert code == 0, output
    assert (tmp_path / "group" / "bu1" / "Account.csv").is_file()
    assert (tmp_path / "group" / "bu2" / "Opportunity.csv").is_file()
    assert (tmp_path / "truth.jsonl").read_text().startswith('{"kind":"header"')
    assert "--org bu1=" in output
