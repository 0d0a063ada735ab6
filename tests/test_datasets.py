"""Tests of dualcontrol.datasets helpers that do not need a filled store."""

from __future__ import annotations

import sqlalchemy as sa

from dualcontrol.datasets import exact_sum, read_frame
from dualcontrol.store import Store


def test_exact_sum_does_not_depend_on_row_order(store: Store) -> None:
    # As doubles, (0.1 + 0.2) + 0.3 = 0.6000000000000001 but 0.1 + (0.2 + 0.3) = 0.6:
    # a database's sum depends on the order it reads rows. Summed as decimals every
    # order gives the double nearest 0.6.
    assert (0.1 + 0.2) + 0.3 != 0.1 + (0.2 + 0.3)
    got = set()
    for n, order in enumerate(([0.1, 0.2, 0.3], [0.3, 0.2, 0.1], [0.2, 0.3, 0.1])):
        table = f"sum_order_{n}"
        with store.begin() as conn:
            conn.execute(sa.text(f"CREATE TABLE {table} (i INTEGER, x DOUBLE PRECISION)"))
            for i, x in enumerate(order):
                conn.execute(sa.text(f"INSERT INTO {table} VALUES (:i, :x)"), {"i": i, "x": x})
        frame = read_frame(store, f"SELECT {exact_sum(store, 'x')} AS s FROM {table}")
        got.add(float(frame["s"].iloc[0]))
    assert got == {0.6}
