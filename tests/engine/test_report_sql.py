"""The reports' SQL helpers (engine/report_sql.py) on both backends: the medians are
those of `statistics.median` — the mean of the two middle values of an even count, the
middle of an odd one, taken after the scale, NULLs left out, ties and values either
side of a histogram bucket's edge — and the grouped measures add up across buckets."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert
from sqlalchemy.orm import Session

from engine.db import get_engine
from engine.report_sql import BUCKET, count_if, grouped, grouped_with_medians, medians

probe = Table(
    "report_sql_probe",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("grp", String(10), nullable=False),
    Column("sub", Integer, nullable=False),
    Column("name", String(10), nullable=False),
    Column("v", Integer, nullable=True),
    prefixes=["TEMPORARY"],
)

VALUES = {
    "even": [7, 3, 3, 12],  # middles 3 and 7: 5
    "odd": [5, 1, 9],
    "edge": [BUCKET - 1, BUCKET, 10, 5 * BUCKET],  # middles either side of a bucket edge
    "ties": [BUCKET + 4] * 3 + [2, 9 * BUCKET],
    "one": [42],
    "wide": [n * 97 % 20011 for n in range(1, 400)],  # many buckets, an odd count
    "nulls": [None, None],  # no value: no median
}


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    with get_engine(db_url).connect() as conn:
        transaction = conn.begin()
        probe.create(conn)
        rows = [
            {"grp": grp, "sub": n % 2, "name": f"{grp[:3]}{n % 3}", "v": v}
            for grp, values in VALUES.items()
            for n, v in enumerate([*values, None])  # a NULL in every group, left out
        ]
        conn.execute(insert(probe), rows)
        yield Session(bind=conn)
        transaction.rollback()


def _expected(key: str = "grp", scale=float) -> dict:  # type: ignore[no-untyped-def]
    found = defaultdict(list)
    for grp, values in VALUES.items():
        for n, v in enumerate([*values, None]):
            if v is not None:
                found[(grp,) if key == "grp" else (grp, n % 2)].append(scale(v))
    return {k: statistics.median(v) for k, v in found.items()}


def test_medians_are_those_of_statistics_median(session: Session) -> None:
    assert medians(session, [probe.c.grp], probe.c.v, []) == _expected()
    hours = medians(session, [probe.c.grp], probe.c.v, [], scale=lambda v: v / 3600)
    assert hours == _expected(scale=lambda v: v / 3600)
    assert hours[("even",)] == (3 / 3600 + 7 / 3600) / 2  # scaled, then averaged
    assert ("nulls",) not in hours
    assert medians(session, [probe.c.grp, probe.c.sub], probe.c.v, []) == _expected("sub")
    assert medians(session, [probe.c.grp], probe.c.v, [probe.c.grp == "none"]) == {}


def _plain(found: dict) -> dict:  # type: ignore[type-arg]
    return {
        k: {n: v if isinstance(v, str) else int(v) for n, v in f.items()} for k, f in found.items()
    }


def test_grouped_measures_and_medians_read_together(session: Session) -> None:
    keys = [probe.c.grp, probe.c.sub]
    measures = {
        "rows": func.count(),
        "valued": count_if(probe.c.v.is_not(None)),
        "first": func.min(probe.c.name),  # a text keeps its smallest across buckets
    }
    counted, middle = grouped_with_medians(
        session, keys, measures, [], value=probe.c.v, of=probe.c.v > 0, median_keys=1
    )
    assert _plain(counted) == _plain(grouped(session, keys, measures, []))
    assert middle == _expected()  # per group of the first key, every value above 0
    assert ("nulls", 0) in counted and ("nulls",) not in middle
