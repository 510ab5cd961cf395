"""Statements compiled once per process and sent as the driver's own SQL, for the few that carry many
parameters on the hottest path (the claim statement: storage/claims.py).

SQLAlchemy's work for each execution of a cached statement grows with its parameters: it looks up the
compiled form by the statement's cache key, builds the parameter dictionary from every bind, then runs
each bind's processor in Python. For a booking's claim (about 75 parameters) that cost more server CPU than
the database spent on the statement. Here the compiled form is kept with the statement, and the named
values are turned into the positional ones the driver takes, running only the processors that exist
(times to UTC, JSON to text). The statement still goes through the connection: its events (a late
transaction's BEGIN: storage/transactions.py), its execution options and its error wrapping are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import CursorResult, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True, slots=True)
class Precompiled:
    """A statement's SQL for one dialect, and how to order and process its named parameters."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    defaults: Mapping[str, Any]  # the values the statement carries itself (its literals, as parameters)
    _processed: tuple[tuple[int, Callable[[Any], Any]], ...] = field(init=False)

    def __post_init__(self) -> None:
        processed = tuple((at, process) for at, process in enumerate(self.processors) if process is not None)
        object.__setattr__(self, "_processed", processed)

    def positional(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        # Called for every claim with about 75 parameters, most with no processor: looked up in C, then only
        # the few that need it (times, JSON) processed.
        values = list(map({**self.defaults, **params}.__getitem__, self.names))
        for at, process in self._processed:
            values[at] = process(values[at])
        return tuple(values)


_compiled: WeakKeyDictionary[Dialect, dict[int, tuple[Any, Precompiled]]] = WeakKeyDictionary()


def precompiled(statement: Any, dialect: Dialect) -> Precompiled:
    """The statement compiled for `dialect`, once per process (statements passed here live as long)."""
    forms = _compiled.setdefault(dialect, {})
    kept = forms.get(id(statement))
    if kept is not None and kept[0] is statement:
        return kept[1]
    compiled = statement.compile(dialect=dialect)
    assert compiled.positiontup is not None, f"{dialect.name} takes positional parameters here"
    if any(bind.expanding for bind in compiled.binds.values()):
        raise ValueError("a statement with an IN list expanded at execution cannot be precompiled")
    names = tuple(compiled.positiontup)
    types = [compiled.binds[name].type.dialect_impl(dialect) for name in names]
    form = Precompiled(
        compiled.string,
        names,
        tuple(type_.bind_processor(dialect) for type_ in types),
        {name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required},
    )
    forms[id(statement)] = (statement, form)  # the statement is kept, so its id is never reused
    return form


async def execute_precompiled(
    conn: AsyncConnection, statement: Any, params: Mapping[str, Any], options: Mapping[str, Any] | None = None
) -> Sequence[Any]:
    """Run `statement` with `params` as precompiled driver SQL; its rows (typed as the driver gives them:
    UUIDs, aware datetimes, no result processing)."""
    form = precompiled(statement, conn.dialect)
    result: CursorResult[Any] = await conn.exec_driver_sql(
        form.sql, form.positional(params), execution_options=dict(options or {})
    )
    return list(result) if result.returns_rows else []
