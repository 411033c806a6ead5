"""A recursive-descent parser for the SOQL subset real sync queries use."""

from __future__ import annotations

from simulators.salesforce.errors import MalformedQueryError, soql_message
from simulators.salesforce.soql.lexer import Token, tokenize
from simulators.salesforce.soql.syntax import (
    And,
    Comparison,
    Condition,
    FieldPath,
    Literal,
    Not,
    Or,
    OrderItem,
    Query,
    RelativeDate,
)

__all__ = ["RELATIVE_DATES", "parse_soql"]

# Relative date literals; those ending in _N_ take a `:n` amount.
RELATIVE_DATES = frozenset(
    {"TODAY", "YESTERDAY", "TOMORROW", "LAST_N_DAYS", "NEXT_N_DAYS", "THIS_YEAR", "LAST_YEAR", "THIS_MONTH"}
)
_COMPARATORS = {"=": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, token: Token | None = None, message: str | None = None) -> MalformedQueryError:
        token = token or self.current
        if message is None:
            message = (
                "unexpected token: <EOF>" if token.kind == "end" else f"unexpected token: '{token.text}'"
            )
        return MalformedQueryError(soql_message(self.text, token.position, message))

    def is_keyword(self, *words: str) -> bool:
        return self.current.kind == "ident" and self.current.upper in words

    def expect_keyword(self, word: str) -> Token:
        if not self.is_keyword(word):
            raise self.fail()
        return self.advance()

    def expect_punct(self, char: str) -> Token:
        if self.current.kind != "punct" or self.current.text != char:
            raise self.fail()
        return self.advance()

    def is_punct(self, char: str) -> bool:
        return self.current.kind == "punct" and self.current.text == char

    def parse(self) -> Query:
        self.expect_keyword("SELECT")
        fields: list[FieldPath] = []
        count_only = False
        if self.is_keyword("COUNT") and self.tokens[self.index + 1].text == "(":
            self.advance()
            self.expect_punct("(")
            self.expect_punct(")")
            count_only = True
        else:
            fields.append(self.field_path())
            while self.is_punct(","):
                self.advance()
                fields.append(self.field_path())
        self.expect_keyword("FROM")
        if self.current.kind != "ident" or "." in self.current.text:
            raise self.fail()
        object_token = self.advance()
        where = None
        if self.is_keyword("WHERE"):
            self.advance()
            where = self.condition()
        order: list[OrderItem] = []
        if self.is_keyword("ORDER"):
            self.advance()
            self.expect_keyword("BY")
            order.append(self.order_item())
            while self.is_punct(","):
                self.advance()
                order.append(self.order_item())
        limit = self.integer_clause("LIMIT")
        offset = self.integer_clause("OFFSET")
        if self.current.kind != "end":
            raise self.fail()
        return Query(
            text=self.text,
            fields=tuple(fields),
            count_only=count_only,
            object_name=object_token.text,
            object_position=object_token.position,
            where=where,
            order_by=tuple(order),
            limit=limit,
            offset=offset,
        )

    def integer_clause(self, word: str) -> int | None:
        if not self.is_keyword(word):
            return None
        self.advance()
        token = self.current
        if token.kind != "number" or not token.text.isdigit():
            raise self.fail()
        self.advance()
        return int(token.text)

    def field_path(self) -> FieldPath:
        token = self.current
        if token.kind == "punct" and token.text == "(":
            raise self.fail(message="the fake Salesforce does not support child subqueries")
        if token.kind != "ident" or token.upper in {"FROM", "WHERE"}:
            raise self.fail()
        self.advance()
        return FieldPath(tuple(token.text.split(".")), token.position)

    def order_item(self) -> OrderItem:
        path = self.field_path()
        descending = False
        if self.is_keyword("ASC", "DESC"):
            descending = self.advance().upper == "DESC"
        nulls_last = descending
        if self.is_keyword("NULLS"):
            self.advance()
            if not self.is_keyword("FIRST", "LAST"):
                raise self.fail()
            nulls_last = self.advance().upper == "LAST"
        return OrderItem(path, descending, nulls_last)

    def condition(self) -> Condition:
        parts = [self.conjunction()]
        while self.is_keyword("OR"):
            self.advance()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conjunction(self) -> Condition:
        parts = [self.negation()]
        while self.is_keyword("AND"):
            self.advance()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def negation(self) -> Condition:
        if self.is_keyword("NOT"):
            self.advance()
            return Not(self.negation())
        if self.is_punct("("):
            self.advance()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Condition:
        path = self.field_path()
        token = self.current
        if token.kind == "op":
            self.advance()
            return Comparison(path, _COMPARATORS[token.text], (self.literal(),))
        if self.is_keyword("LIKE"):
            self.advance()
            value = self.literal()
            if value.kind != "string":
                raise self.fail(message="LIKE needs a quoted string")
            return Comparison(path, "like", (value,))
        negated = False
        if self.is_keyword("NOT"):
            self.advance()
            negated = True
        if self.is_keyword("IN"):
            self.advance()
            self.expect_punct("(")
            values = [self.literal()]
            while self.is_punct(","):
                self.advance()
                values.append(self.literal())
            self.expect_punct(")")
            return Comparison(path, "not in" if negated else "in", tuple(values))
        raise self.fail()

    def literal(self) -> Literal:
        token = self.advance()
        kind = token.kind
        if kind == "string":
            return Literal("string", token.text, token.position)
        if kind == "number":
            return Literal("number", float(token.text), token.position)
        if kind in {"date", "datetime"}:
            return Literal(kind, token.text, token.position)
        if kind == "ident":
            word = token.upper
            if word in {"TRUE", "FALSE"}:
                return Literal("boolean", word == "TRUE", token.position)
            if word == "NULL":
                return Literal("null", None, token.position)
            if word in RELATIVE_DATES:
                amount = 0
                if word.endswith("_N_DAYS"):
                    self.expect_punct(":")
                    number = self.advance()
                    if number.kind != "number" or not number.text.isdigit():
                        raise self.fail(number)
                    amount = int(number.text)
                return Literal("relative", RelativeDate(word, amount), token.position)
        raise self.fail(token)


def parse_soql(text: str) -> Query:
    """Parse `text`; raises MalformedQueryError with Salesforce's message format on bad syntax."""
    return _Parser(text).parse()
