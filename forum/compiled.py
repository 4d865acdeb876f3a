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
use. A query that writes a stand-in into the SQL itself, not among its parameters, or that
takes a time of its own (it would be kept for ever), is simply built and run by Django every
time.
"""

import re
from collections.abc import Callable
from datetime import date, datetime

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
        if made is None or any(map(_beyond_64_bits, values.values())):
            # (The ORM answers a number no column can hold with no rows; the database would
            # refuse it.)
            return list(self.build(shape, **values).using(using))
        sql, template, places, converters = made
        params = list(template)
        for name, (positions, adapt) in places.items():
            value = adapt(values[name])
            for position in positions:
                params[position] = value
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            rows = [_converted(row, converters, connection) for row in rows]
        return rows

    def _make(self, shape, using: str):
        connection = connections[using]
        query = self.build(shape, **self.stand_ins).query
        compiler = query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        places = {}
        for name, stand_in in self.stand_ins.items():
            adapt = _adapter(connection, stand_in)
            sent = adapt(stand_in)
            if str(stand_in) in sql or str(sent) in sql:
                return None
            # None found: this shape of the query does not use the value.
            positions = [i for i, param in enumerate(params) if _same(param, sent)]
            places[name] = (positions, adapt)
        taken = {position for positions, _adapt in places.values() for position in positions}
        stand_ins_sent = [adapt(self.stand_ins[name]) for name, (_p, adapt) in places.items()]
        if any(param == sent for i, param in enumerate(params) if i not in taken
               for sent in stand_ins_sent):  # fmt: skip
            # A stand-in sent in another form (wrapped for the database's types): its place
            # is not sure, so neither is the SQL.
            return None
        if any(_a_time(param) for i, param in enumerate(params) if i not in taken):
            # A time the queryset took for itself (timezone.now(), say) would be kept for
            # ever: such a query must take it as one of its values.
            return None
        # What the ORM does to each column it reads (a date from SQLite's text, say).
        columns = [column for column, _sql, _alias in compiler.select[: compiler.col_count]]
        converters = list(compiler.get_converters(columns).items())
        return sql, tuple(params), places, converters


def _converted(row, converters, connection) -> tuple:
    row = list(row)
    for position, (functions, expression) in converters:
        value = row[position]
        for function in functions:
            value = function(value, expression, connection)
        row[position] = value
    return tuple(row)


class CompiledObjects:
    """One model instance with related ones, as `select_related` loads them, through a
    CompiledQuery: `build(shape, **values)` filters `model`'s rows, `related` names the
    relations loaded with it (one level), `deferred` the fields of each left unread."""

    def __init__(
        self,
        build: Callable[..., QuerySet],
        *,
        model,
        related: tuple[str, ...] = (),
        deferred: dict[str, set[str]] | None = None,
        **stand_ins,
    ):
        deferred = deferred or {}
        self.parts = [("", model, _read_fields(model, deferred.get("", set())))]
        for name in related:
            related_model = model._meta.get_field(name).related_model
            self.parts.append(
                (name, related_model, _read_fields(related_model, deferred.get(name, set())))
            )
        paths = [
            f"{name}__{field.name}" if name else field.name
            for name, _model, fields in self.parts
            for field in fields
        ]
        self.query = CompiledQuery(
            lambda shape, **values: build(shape, **values).values_list(*paths), **stand_ins
        )

    def get(self, *, shape=None, using: str = "default", **values):
        """The instance (its related ones in place), or None."""
        rows = self.query.rows(shape=shape, using=using, **values)
        if not rows:
            return None
        row, start, instances = rows[0], 0, []
        for _name, model, fields in self.parts:
            columns = row[start : start + len(fields)]
            start += len(fields)
            primary_key = columns[fields.index(model._meta.pk)]
            names = [field.attname for field in fields]
            instances.append(None if primary_key is None else model.from_db(using, names, columns))
        loaded = instances[0]
        for (name, _model, _fields), instance in zip(self.parts[1:], instances[1:], strict=True):
            # Through the relation's descriptor, as select_related leaves it: no query later.
            setattr(loaded, name, instance)
        return loaded


def _read_fields(model, deferred: set[str]) -> list:
    return [field for field in model._meta.concrete_fields if field.name not in deferred]


def _adapter(connection, value) -> Callable:
    """How a value of this type reaches the database's parameters (as the ORM sends it)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value
    return lambda value: value


_TIME = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d")


def _a_time(param) -> bool:
    return isinstance(param, date) or (isinstance(param, str) and bool(_TIME.match(param)))


def _beyond_64_bits(value) -> bool:
    return isinstance(value, int) and not -(2**63) <= value < 2**63


def _same(param, value) -> bool:
    return type(param) is type(value) and param == value
