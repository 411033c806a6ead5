"""Imports every command module so that each attaches itself to the root group."""

from __future__ import annotations

from entrypoints.cli import (
    customers,  # noqa: F401
    dashboard,  # noqa: F401
    demo,  # noqa: F401
    evaluate,  # noqa: F401
    fake_salesforce,  # noqa: F401
    features,  # noqa: F401
    jobs,  # noqa: F401
    models,  # noqa: F401
    orgs,  # noqa: F401
    serve,  # noqa: F401
    sync,  # noqa: F401
    users,  # noqa: F401
    worker,  # noqa: F401
)
