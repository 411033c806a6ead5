"""The root `xsell` group and the error handling every command shares."""

from __future__ import annotations

import sys

import click

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="xsell", prog_name="xsell")
def cli() -> None:
    """xsell: cross-sell intelligence across the Salesforce orgs of one company group.

    Start with `xsell demo` to see everything running on generated data.
    """


def _register() -> None:
    # Each command family lives in its own module; importing it attaches it to `cli`.
    from entrypoints.cli import commands  # noqa: F401


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: one-line errors, exit 130 on Ctrl-C, never a traceback for bad input."""
    _register()
    try:
        cli.main(args=argv, prog_name="xsell", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.Abort):
        click.echo("stopped", err=True)
        sys.exit(130)
    sys.exit(0)
