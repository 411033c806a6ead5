"""Ids as routes take them: printable text of bounded length, so a NUL or a megabyte never reaches SQL."""

from __future__ import annotations

from typing import Annotated

from litestar.params import PathParameter

__all__ = ["PRINTABLE", "ChangeId", "CustomerId", "OrgId", "ProductId"]

# No control characters: NUL above all, which PostgreSQL cannot store and would answer with an error.
PRINTABLE = "^[^\\x00-\\x1f\\x7f]+$"

CustomerId = Annotated[
    str, PathParameter(max_length=128, pattern=PRINTABLE, description="A resolved customer's id.")
]
ChangeId = Annotated[
    str, PathParameter(max_length=128, pattern=PRINTABLE, description="A merge's or split's change id.")
]
OrgId = Annotated[str, PathParameter(max_length=64, pattern=PRINTABLE, description="The org's id in xsell.")]
ProductId = Annotated[
    str, PathParameter(max_length=18, pattern=PRINTABLE, description="The CRM's 15- or 18-character id.")
]
