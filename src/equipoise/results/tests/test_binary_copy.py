"""PostgreSQL's binary COPY, written by numpy for the rollup sums (see ``ingest.binary_copy``)."""

from datetime import date

import numpy as np
import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from equipoise.results.ingest import _PG_EPOCH, binary_copy

BIGINT = st.integers(min_value=-(2**63), max_value=2**63 - 1)
SMALLINT = st.integers(min_value=-(2**15), max_value=2**15 - 1)
DAY = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))


class BinaryCopyTests(TestCase):
    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            pytest.skip("binary COPY is PostgreSQL's")

    @settings(max_examples=30, deadline=None)
    @given(rows=st.lists(st.tuples(BIGINT, SMALLINT, DAY), max_size=40), per_chunk=st.integers(min_value=1, max_value=7))
    def test_values_read_back_as_written(self, rows, per_chunk):
        columns = [
            np.array([row[0] for row in rows], dtype=np.int64),
            np.array([row[1] for row in rows], dtype=np.int64),
            np.array([row[2].toordinal() - _PG_EPOCH for row in rows], dtype=np.int64),
        ]
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE copied (position serial, big bigint, small smallint, day date)")
            with cursor.cursor.copy("COPY copied (big, small, day) FROM STDIN (FORMAT BINARY)") as copy:
                for chunk in binary_copy(columns, [">i8", ">i2", ">i4"], rows=per_chunk):
                    copy.write(chunk)
            cursor.execute("SELECT big, small, day FROM copied ORDER BY position")
            found = cursor.fetchall()
            cursor.execute("DROP TABLE copied")
        assert found == rows


def test_a_value_that_does_not_fit_its_column_is_refused_before_anything_is_sent():
    chunks = binary_copy([np.array([1, 2**15], dtype=np.int64)], [">i2"])
    with pytest.raises(ValueError, match="does not fit"):
        next(chunks)


def test_the_layout_is_postgresqls():
    data = b"".join(binary_copy([np.array([7], dtype=np.int64), np.array([3], dtype=np.int64)], [">i8", ">i2"]))
    header, row, trailer = data[:19], data[19:-2], data[-2:]
    assert header == b"PGCOPY\n\xff\r\n\x00" + bytes(8)
    assert row == (2).to_bytes(2, "big") + (8).to_bytes(4, "big") + (7).to_bytes(8, "big") + (2).to_bytes(4, "big") + (3).to_bytes(2, "big")
    assert trailer == b"\xff\xff"
