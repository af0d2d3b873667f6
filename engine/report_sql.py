"""The reports' SQL: counts grouped in the database, and medians as queries of their own.

A report over a year of a big organisation reads a million task rows; loading them into
Python took seconds. `grouped` counts in one GROUP BY. `medians` finds each group's
middle values — on PostgreSQL without sorting the rows (an ordered-set aggregate such
as `percentile_cont` sorts every group's rows, or walks an index in group order:
seconds at a million rows): a hashed count per bucket of values, then the values of
the few buckets the middles fall in; elsewhere (SQLite) over the one column selected
here. The median is the one of `statistics.median`: the middle value, or the mean of
the two middle values of an even count, taken after `scale`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Select, case, func, or_, select, text, tuple_
from sqlalchemy.orm import Session

# The width of a histogram bucket of the medians on PostgreSQL (ten minutes of seconds).
BUCKET = 600


def count_if(condition: Any) -> Any:
    """The number of rows where `condition` holds (NULL counts as not)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def grouped(
    session: Session,
    keys: Sequence[Any],
    measures: dict[str, Any],
    conditions: Sequence[Any],
    *,
    joins: Sequence[tuple[Any, Any]] = (),
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Return the measures of each group of `keys` over the rows where `conditions`
    hold (the first key's table, joined to `joins`), by the tuple of the keys' values."""
    query = select(*keys, *measures.values())
    for target, on in joins:
        query = query.join(target, on)
    query = query.where(*conditions).group_by(*keys)
    width = len(keys)
    return {
        tuple(row[:width]): dict(zip(measures, row[width:], strict=True))
        for row in session.execute(query)
    }


def tune(session: Session, *, work_mem: str | None = None) -> None:
    """Set this transaction's report queries up on PostgreSQL: no JIT compilation (a
    quarter of a second per query here, more than it saves), and `work_mem` when given
    (room for a hashed aggregate of many groups that would otherwise be sorted; left at
    the server's default otherwise, under which the planner reads in parallel)."""
    if _postgresql(session):
        session.execute(text("SET LOCAL jit = off"))
        if work_mem is not None:
            session.execute(text("SELECT set_config('work_mem', :mem, true)"), {"mem": work_mem})


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _select(joins: Sequence[tuple[Any, Any]], where: Sequence[Any]) -> Callable[..., Select[Any]]:
    def query(*columns: Any) -> Select[Any]:
        found = select(*columns)
        for target, on in joins:
            found = found.join(target, on)
        return found.where(*where)

    return query


def grouped_with_medians(
    session: Session,
    keys: Sequence[Any],
    measures: dict[str, Any],
    conditions: Sequence[Any],
    *,
    value: Any,
    of: Any,
    scale: Callable[[Any], float] = float,
    median_keys: int | None = None,
    joins: Sequence[tuple[Any, Any]] = (),
) -> tuple[dict[tuple[Any, ...], dict[str, Any]], dict[tuple[Any, ...], float]]:
    """Return `grouped` (measures that add up: counts and sums; a text keeps its
    smallest) and the `medians` of `value` over the rows where `of` holds too, per group
    of the first `median_keys` keys (all by default), reading the rows once for both on
    PostgreSQL (the histogram of the medians is grouped with the measures)."""
    width = median_keys if median_keys is not None else len(keys)
    figures, found = grouped_with_medians_by(
        session,
        keys,
        measures,
        conditions,
        value=value,
        of=of,
        scale=scale,
        median_keys=(width,),
        joins=joins,
    )
    return figures, found[width]


def grouped_with_medians_by(
    session: Session,
    keys: Sequence[Any],
    measures: dict[str, Any],
    conditions: Sequence[Any],
    *,
    value: Any,
    of: Any,
    scale: Callable[[Any], float] = float,
    median_keys: Sequence[int],
    joins: Sequence[tuple[Any, Any]] = (),
) -> tuple[dict[tuple[Any, ...], dict[str, Any]], dict[int, dict[tuple[Any, ...], float]]]:
    """`grouped_with_medians` with the medians of several groupings at once: for each
    width of `median_keys`, per group of that many first keys (one read of the rows
    for the measures and every histogram on PostgreSQL, then one read of the middle
    buckets per grouping)."""
    if not _postgresql(session):
        counted = grouped(session, keys, measures, conditions, joins=joins)
        return counted, {
            n: medians(session, keys[:n], value, [*conditions, of], scale=scale, joins=joins)
            for n in median_keys
        }
    bucket = value // BUCKET
    width = len(keys)
    found = grouped(
        session,
        [*keys, bucket],
        {**measures, "_n": count_if(of & value.is_not(None))},
        conditions,
        joins=joins,
    )
    figures: dict[tuple[Any, ...], dict[str, Any]] = {}
    per_bucket: dict[int, dict[tuple[Any, ...], dict[int, int]]] = {
        n: defaultdict(lambda: defaultdict(int)) for n in median_keys
    }
    for group, row in found.items():
        key, n = group[:width], int(row.pop("_n"))
        if n:
            for by, buckets in per_bucket.items():
                buckets[group[:by]][group[width]] += n
        total = figures.get(key)
        if total is None:
            figures[key] = row
            continue
        for name, v in row.items():
            total[name] = min(total[name], v) if isinstance(v, str) else total[name] + v
    query = _select(joins, [*conditions, of, value.is_not(None)])
    found_medians = {}
    for by, buckets in per_bucket.items():
        histogram = {key: list(counts.items()) for key, counts in buckets.items()}
        middles = _middles(session, keys[:by], value, query, histogram)
        found_medians[by] = {
            key: (scale(low) + scale(high)) / 2 for key, (low, high) in middles.items()
        }
    return figures, found_medians


def medians(
    session: Session,
    keys: Sequence[Any],
    value: Any,
    conditions: Sequence[Any],
    *,
    scale: Callable[[Any], float] = float,
    joins: Sequence[tuple[Any, Any]] = (),
) -> dict[tuple[Any, ...], float]:
    """Return the median of `scale(value)` per group of `keys` (never NULL), over the
    rows where `conditions` hold and `value` (a whole number, never negative) is not
    NULL; a group without such rows has none."""
    query = _select(joins, [*conditions, value.is_not(None)])
    middles: dict[tuple[Any, ...], tuple[Any, Any]] = {}
    width = len(keys)
    if _postgresql(session):
        bucket = value // BUCKET
        histogram: dict[tuple[Any, ...], list[tuple[int, int]]] = defaultdict(list)
        for row in session.execute(query(*keys, bucket, func.count()).group_by(*keys, bucket)):
            histogram[tuple(row[:width])].append((row[width], row[width + 1]))
        middles = _middles(session, keys, value, query, histogram)
    else:
        values: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
        for row in session.execute(query(*keys, value)):
            values[tuple(row[:width])].append(row[width])
        for key, found in values.items():
            found.sort()
            n = len(found)
            middles[key] = (found[(n - 1) // 2], found[n // 2])
    return {key: (scale(low) + scale(high)) / 2 for key, (low, high) in middles.items()}


def _middles(
    session: Session,
    keys: Sequence[Any],
    value: Any,
    query: Callable[..., Select[Any]],
    histogram: dict[tuple[Any, ...], list[tuple[int, int]]],
) -> dict[tuple[Any, ...], tuple[Any, Any]]:
    """Return each group's two middle values (the lower and the upper of an even count,
    the middle twice of an odd one) from its histogram (rows per bucket of BUCKET
    values): the values of the buckets the middles fall in, counted in one more hashed
    aggregate over those buckets only."""
    width = len(keys)
    bucket = value // BUCKET
    wanted: dict[tuple[Any, ...], list[tuple[int, int]]] = {}  # group: (bucket, rank in it)
    for key, buckets in histogram.items():
        buckets.sort()
        n = sum(count for _, count in buckets)
        wanted[key] = [_find(buckets, rank) for rank in ((n + 1) // 2, n // 2 + 1)]
    if not wanted:
        return {}
    pairs = sorted({(*key, b) for key, found in wanted.items() for b, _ in found})
    spans = sorted({b for *_, b in pairs})
    counts: dict[tuple[Any, ...], list[tuple[int, int]]] = defaultdict(list)
    for row in session.execute(
        query(*keys, value, func.count())
        .where(
            or_(*(value.between(b * BUCKET, (b + 1) * BUCKET - 1) for b in spans)),
            tuple_(*keys, bucket).in_(pairs),
        )
        .group_by(*keys, value)
    ):
        counts[tuple(row[:width])].append((row[width], row[width + 1]))
    middles = {}
    for key, found in wanted.items():
        values = sorted(counts[key])
        low, high = (_value_at(values, b, rank) for b, rank in found)
        middles[key] = (low, high)
    return middles


def _find(buckets: list[tuple[int, int]], rank: int) -> tuple[int, int]:
    """Return the bucket holding the value of 1-based `rank`, and its rank there."""
    for b, count in buckets:
        if rank <= count:
            return b, rank
        rank -= count
    raise AssertionError("rank beyond the count")


def _value_at(values: list[tuple[int, int]], b: int, rank: int) -> int:
    """Return the value of 1-based `rank` among the values (with counts) of bucket `b`."""
    for found, count in values:
        if found // BUCKET != b:
            continue
        if rank <= count:
            return found
        rank -= count
    raise AssertionError("rank beyond the bucket")


def seconds_between(session: Session, start: Any, end: Any) -> Any:
    """The seconds from `start` to `end` (two timestamps) as a SQL number."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400  # SQLite: UTC text
