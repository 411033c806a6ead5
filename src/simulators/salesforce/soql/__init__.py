"""The SOQL subset the fake understands: lexing, parsing, and planning a query against an org."""

from simulators.salesforce.soql.parser import parse_soql
from simulators.salesforce.soql.syntax import Query

__all__ = ["Query", "parse_soql"]
