"""Queries whose SQL is made once per process, for the paths that run them on every request.

Django builds and compiles a queryset's SQL afresh each time it runs: for a query with a few
subqueries, a millisecond or more of Python, several times what the database then spends on
it. Posting a comment runs the same few such queries every time (the author's standing,
the same post just made, the place of the new comment among its discussion's pages), and
they were most of what a post cost the web process.

`CompiledQuery(build, **stand_ins)` makes the SQL once from the queryset itself,
`build(shape, **stand_ins)`, with distinctive stand-in values, and finds where each stand-in went
among the query's parameters. Each run puts the real values in those places. The queryset
stays the one place that says what is asked: the SQL is Django's own, for the database in
use. A query that writes a stand-in into the SQL itself, not among its parameters, is simply
built and run by Django every time.
"""

from collections.abc import Callable
from datetime import datetime

from django.db import connections
from django.db.models import QuerySet

_UNMADE = object()


class CompiledQuery:
    def __init__(self, build: Callable[..., QuerySet], **stand_ins):
        """`build(shape, **values)` returns a `values_list` queryset; `stand_ins` names each
        value, with a stand-in of its type that no real run uses (it is never sent
        anywhere)."""
        self.build = build
        self.stand_ins = stand_ins
        self._made: dict = {}

    def rows(self, *, shape=None, using: str = "default", **values) -> list[tuple]:
        """The rows of `build(shape, **values)`. `shape` (hashable) is whatever else the
        queryset's form depends on (a policy, a kind of viewer): one SQL is kept for each."""
        key = (using, shape)
        made = self._made.get(key, _UNMADE)
        if made is _UNMADE:
            made = self._made[key] = self._make(shape, using)
        if made is None:
            return list(self.build(shape, **values).using(using))
        sql, template, places = made
        params = list(template)
        for name, (positions, adapt) in places.items():
            value = adapt(values[name])
            for position in positions:
                params[position] = value
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _make(self, shape, using: str):
        connection = connections[using]
        query = self.build(shape, **self.stand_ins).query
        sql, params = query.get_compiler(using=using).as_sql()
        places = {}
        for name, stand_in in self.stand_ins.items():
            adapt = _adapter(connection, stand_in)
            sent = adapt(stand_in)
            if str(stand_in) in sql or str(sent) in sql:
                return None
            # None found: this shape of the query does not use the value.
            positions = [i for i, param in enumerate(params) if _same(param, sent)]
            places[name] = (positions, adapt)
        return sql, tuple(params), places


def _adapter(connection, value) -> Callable:
    """How a value of this type reaches the database's parameters (as the ORM sends it)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value
    return lambda value: value


def _same(param, value) -> bool:
    return type(param) is type(value) and param == value
