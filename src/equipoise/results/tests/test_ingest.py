from datetime import date, timedelta

import pytest
from django.db import transaction
from django.db.models import Sum
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from equipoise.results import ingest as ingest_module
from equipoise.results.ingest import Ingestor
from equipoise.results.models import ResultLine, ResultLineRevision, Rollup, RollupTotal
from equipoise.results.rollups import expected_rollups, rollups_compare, rollups_rebuild, stored_rollups
from equipoise.results.tests.conftest import line, make_batch


def _rollup(node, grain="M", period=date(2027, 1, 1)):
    return Rollup.objects.filter(node_id=node, grain=grain, period=period).aggregate(total=Sum("amount_minor"))["total"]


def _total(node, grain="M", period=date(2027, 1, 1)):
    return RollupTotal.objects.filter(node_id=node, grain=grain, period=period).aggregate(total=Sum("amount_minor"))["total"]


def test_a_line_credits_the_company_and_every_manager_above_the_seller(org, catalog, settings):
    settings.EQUIPOISE_LARGE_SUBTREE = 1_000  # no subtree is large: managers keep monthly totals only
    ingestor = Ingestor(batch=make_batch())
    ingestor.ingest([line(org, catalog)])
    assert ingestor.counts.created == 1
    assert _rollup(0) == 100_000
    days = Rollup.objects.filter(node_id=0, grain="D", period=date(2027, 1, 15))
    by_dimensions = sorted(days.values_list("region_id", "product_line_id", "product_application_id", "amount_minor"))
    region, line_id, application = org.north.pk, catalog.connectivity.pk, catalog.fibre.pk
    # By every dimension; by region alone; by product alone.
    expected = [(region, line_id, application, 100_000), (region, 0, 0, 100_000), (0, line_id, application, 100_000)]
    assert by_dimensions == sorted(expected)
    assert _rollup(org.sam.pk) is None  # a seller's breakdowns come from their lines
    assert _rollup(org.sam.pk, grain="O") == 100_000  # the seller's own credits, by motion only
    assert Rollup.objects.get(node_id=org.sam.pk).region_id == 0
    for node in (org.maria.pk, org.vp.pk):  # small teams read their lines
        assert _rollup(node) is None
    totals = sorted(RollupTotal.objects.values_list("node_id", "grain", "period", "amount_minor"))
    assert totals == sorted(
        [(node, "M", date(2027, 1, 1), 100_000) for node in (org.maria.pk, org.vp.pk, 0)] + [(0, "D", date(2027, 1, 15), 100_000)]
    )
    assert rollups_compare() == []


def test_large_subtrees_keep_rollups_by_dimension_and_daily_totals(org, catalog, settings):
    settings.EQUIPOISE_LARGE_SUBTREE = 3  # the VP has more than 3 people below, Maria's team not
    Ingestor(batch=make_batch()).ingest([line(org, catalog)])
    assert _rollup(org.vp.pk) == _rollup(0) == _rollup(org.sam.pk, grain="O") == 100_000
    assert _rollup(org.maria.pk) is None
    assert _rollup(org.vp.pk, grain="D", period=date(2027, 1, 15)) is None  # by dimension, only the company has days
    totals = sorted(RollupTotal.objects.values_list("node_id", "grain", "period", "amount_minor"))
    assert totals == sorted(
        [(node, "M", date(2027, 1, 1), 100_000) for node in (org.maria.pk, org.vp.pk, 0)]
        + [(node, "D", date(2027, 1, 15), 100_000) for node in (org.vp.pk, 0)]
    )
    assert rollups_compare() == []


def test_the_same_line_again_changes_nothing(org, catalog):
    Ingestor(batch=make_batch()).ingest([line(org, catalog)])
    again = Ingestor(batch=make_batch())
    again.ingest([line(org, catalog)])
    assert (again.counts.created, again.counts.unchanged, again.counts.corrected) == (0, 1, 0)
    assert ResultLine.objects.count() == 1
    assert _rollup(0) == 100_000


def test_a_changed_line_is_a_correction_with_history(org, catalog):
    first = make_batch()
    Ingestor(batch=first).ingest([line(org, catalog)])
    corrected = Ingestor(batch=make_batch())
    corrected.ingest([line(org, catalog, amount_minor=70_001, credits=((org.sam.pk, 5000), (org.olga.pk, 5000)))])
    assert corrected.counts.corrected == 1
    assert sorted(ResultLine.objects.values_list("seller_id", "amount_minor", "line_amount_minor", "version")) == sorted(
        [(org.sam.pk, 35_001, 70_001, 2), (org.olga.pk, 35_000, 70_001, 2)]
    )
    revision = ResultLineRevision.objects.get()
    assert revision.previous["amount_minor"] == 100_000
    assert revision.previous["credits"] == [[org.sam.pk, 10_000]]
    assert revision.batch == first
    assert _rollup(0) == 70_001
    assert _total(org.maria.pk) + _total(org.omar.pk) == 70_001
    assert rollups_compare() == []


def test_a_failed_batch_leaves_nothing(org, catalog):
    try:
        with transaction.atomic():
            Ingestor(batch=make_batch()).ingest([line(org, catalog), line(org, catalog, external_id="L2")])
            raise RuntimeError("killed mid-import")
    except RuntimeError:
        pass
    assert ResultLine.objects.count() == 0
    assert Rollup.objects.count() == 0


def test_rebuild_repairs_drifted_rollups(org, catalog):
    Ingestor(batch=make_batch()).ingest([line(org, catalog)])
    Rollup.objects.filter(node_id=0, grain="M").update(amount_minor=1)
    differences = rollups_rebuild()
    assert len(differences) == 1
    assert differences[0].stored == (1, 1) and differences[0].expected == (100_000, 1)
    assert rollups_compare() == []


line_strategy = st.tuples(
    st.integers(min_value=1, max_value=12),  # external id
    st.integers(min_value=-50_000, max_value=500_000),  # amount
    st.integers(min_value=0, max_value=60),  # day offset
    st.sampled_from(["booking", "invoice", "credit_note", "renewal", "churn"]),
    st.integers(min_value=0, max_value=3),  # credit pattern
)


class ThreeSellers:
    """Two teams under a VP: three sellers, one region, product and customer."""

    def setUp(self) -> None:
        from equipoise.core.access import Role
        from equipoise.org.models import Customer, ProductApplication, ProductLine, Region
        from equipoise.org.services import person_create

        vp = person_create(full_name="VP", role=Role.EXECUTIVE)
        north_manager = person_create(full_name="M1", role=Role.MANAGER, manager=vp)
        south_manager = person_create(full_name="M2", role=Role.MANAGER, manager=vp)
        self.sellers = [
            person_create(full_name="S1", role=Role.SELLER, manager=north_manager),
            person_create(full_name="S2", role=Role.SELLER, manager=north_manager),
            person_create(full_name="S3", role=Role.SELLER, manager=south_manager),
        ]
        region = Region.objects.create(code="R", name="R")
        product_line = ProductLine.objects.create(code="P", name="P")
        self.application = ProductApplication.objects.create(product_line=product_line, code="A", name="A")
        self.customer = Customer.objects.create(code="C", name="C", home_region=region)
        self.region, self.product_line = region, product_line

    def _line(self, external, amount, offset, kind, pattern, row=1):
        from equipoise.results.ingest import LineInput

        patterns = [
            ((self.sellers[0].pk, 10_000),),
            ((self.sellers[1].pk, 10_000),),
            ((self.sellers[0].pk, 3_333), (self.sellers[2].pk, 6_667)),
            ((self.sellers[1].pk, 5_000), (self.sellers[2].pk, 5_000)),
        ]
        return LineInput(
            row=row, source="prop", external_id=str(external), kind=kind, occurred_on=date(2027, 1, 1) + timedelta(days=offset),
            currency="EUR", amount_minor=amount, customer_id=self.customer.pk, region_id=self.region.pk,
            product_line_id=self.product_line.pk, product_application_id=self.application.pk, motion="new", credits=patterns[pattern],
        )  # fmt: skip


batches_strategy = st.lists(st.lists(line_strategy, min_size=1, max_size=8), min_size=1, max_size=5)


def _ingest_and_compare_with_a_rebuild(case: ThreeSellers, batches) -> None:
    with transaction.atomic():
        for batch_lines in batches:
            ingestor = Ingestor(batch=make_batch())
            chunk = []
            seen = set()
            for values in batch_lines:
                if values[0] in seen:
                    continue
                seen.add(values[0])
                chunk.append(case._line(*values))
            ingestor.ingest(chunk)
        assert stored_rollups() == expected_rollups()
        company = sum(amount for key, (amount, _) in stored_rollups().items() if key[:3] == ("rollup", 0, "M"))
        assert company == sum(ResultLine.objects.values_list("amount_minor", flat=True))
        lines = {(row.external_id, row.line_amount_minor) for row in ResultLine.objects.all()}
        assert company == sum(amount for _, amount in lines)
        transaction.set_rollback(True)


def _only_on(case: ThreeSellers, vendor: str, why: str, **constants: int) -> None:
    """Set ``case`` up on ``vendor`` only (skipped elsewhere, for ``why``), with the ingest's
    ``constants`` patched for the test."""
    from unittest import mock

    from django.db import connection

    if connection.vendor != vendor:
        case.skipTest(why)  # type: ignore[attr-defined]
    ThreeSellers.setUp(case)
    for name, value in constants.items():
        patcher = mock.patch.object(ingest_module, name, value)
        patcher.start()
        case.addCleanup(patcher.stop)  # type: ignore[attr-defined]


@override_settings(EQUIPOISE_LARGE_SUBTREE=2)  # the VP's and M1's subtrees are large, M2's is not
class RollupPropertyTests(ThreeSellers, TestCase):
    """Random batches in any order and repetition give the rollups a from-scratch rebuild gives."""

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches=batches_strategy)
    def test_incremental_rollups_equal_a_rebuild(self, batches):
        _ingest_and_compare_with_a_rebuild(self, batches)


@override_settings(EQUIPOISE_LARGE_SUBTREE=2)
class MergedRollupPropertyTests(ThreeSellers, TestCase):
    """The same on PostgreSQL, with every flush's rollup rows sampled, so that rows mostly new to the
    table are added by MERGE and the others by an upsert: both give what a rebuild gives."""

    def setUp(self) -> None:
        _only_on(self, "postgresql", "MERGE is PostgreSQL's", MERGE_ABOVE_ROWS=1)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches=batches_strategy)
    def test_merged_rollups_equal_a_rebuild(self, batches):
        _ingest_and_compare_with_a_rebuild(self, batches)


@override_settings(EQUIPOISE_LARGE_SUBTREE=2)
class SeveralRowsPerStatementPropertyTests(ThreeSellers, TestCase):
    """The same on SQLite with three rollup rows to a statement, so that every flush adds its rows
    several to an upsert and the rest one at a time: both give what a rebuild gives."""

    def setUp(self) -> None:
        _only_on(self, "sqlite", "PostgreSQL adds rollup rows through a staging table", ROLLUP_ROWS_PER_STATEMENT=3)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches=batches_strategy)
    def test_rollups_added_several_to_a_statement_equal_a_rebuild(self, batches):
        _ingest_and_compare_with_a_rebuild(self, batches)


@override_settings(EQUIPOISE_LARGE_SUBTREE=2)
class PreparedLinesPropertyTests(ThreeSellers, TestCase):
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches=st.lists(st.lists(st.lists(line_strategy, min_size=1, max_size=6), min_size=1, max_size=3), min_size=1, max_size=4))
    def test_lines_prepared_where_they_were_read_ingest_as_line_inputs_do(self, batches):
        """Batches of chunks, with ids repeated within a chunk, across chunks and across batches
        (unchanged lines, corrections): the credit rows a reading process prepares leave the same
        lines, revisions, counts and rollups as the same lines ingested as LineInput values."""
        from equipoise.results.ingest import PreparedLines

        def state(prepared: bool):
            with transaction.atomic():
                counts = []
                number = {}  # batch id -> its place in this run (ids differ between runs on PostgreSQL)
                for batch_chunks in batches:
                    ingestor = Ingestor(batch=make_batch(), defer_rollups=True)
                    number[ingestor.batch.pk] = len(number)
                    for chunk in batch_chunks:
                        lines = [self._line(*values, row=row) for row, values in enumerate(chunk, start=2)]
                        if prepared:
                            ingestor.ingest_prepared(PreparedLines.of(lines, batch_id=ingestor.batch.pk))
                        else:
                            ingestor.ingest(lines)
                    ingestor.flush()
                    tally = ingestor.counts
                    counts.append((tally.created, tally.corrected, tally.unchanged, tally.repeated, ingestor.repeats, ingestor.conflicts))
                    counts.append((sorted(tally.touched_sellers), sorted(tally.touched_months)))
                lines = sorted(
                    (*values, number[batch_id])
                    for *values, batch_id in ResultLine.objects.values_list(
                        "external_id", "seller_id", "share_bp", "amount_minor", "line_amount_minor", "occurred_on", "kind", "version",
                        "fingerprint", "batch_id",
                    )
                )  # fmt: skip
                revisions = sorted(
                    (external_id, version, number[batch_id], number[replaced_by])
                    for external_id, version, batch_id, replaced_by in ResultLineRevision.objects.values_list(
                        "external_id", "version", "batch_id", "replaced_by_batch_id"
                    )
                )
                found = (counts, lines, revisions, stored_rollups())
                assert stored_rollups() == expected_rollups()
                transaction.set_rollback(True)
            return found

        assert state(prepared=True) == state(prepared=False)


def test_a_batchs_lines_are_written_in_seller_and_day_order(org, catalog):
    """Lines are held and written sorted, so each seller's lines sit together on disk; a repeat
    of a held line is still found."""
    sellers = [org.sara.pk, org.sam.pk, org.olga.pk]
    lines = [line(org, catalog, f"L{n}", occurred_on=date(2027, 1, 28 - n), credits=((sellers[n % 3], 10_000),)) for n in range(12)]
    with transaction.atomic():
        ingestor = Ingestor(batch=make_batch(), defer_rollups=True)
        ingestor.ingest(lines[:6])
        ingestor.ingest([*lines[6:], lines[0], line(org, catalog, "L1", amount_minor=1)])  # a repeat and a conflict
        assert ingestor.repeats == [1] and ingestor.conflicts == [(1, "L1")]
        batch = ingestor.finish(rows_read=14, rows_skipped=0, rows_rejected=0, skipped_reasons={}, started=0.0)
    written = list(ResultLine.objects.order_by("id").values_list("seller_id", "occurred_on"))
    assert written == sorted(written)
    assert len(written) == 12 and batch.lines_created == 12
    assert rollups_compare() == []


def test_a_large_import_refreshes_the_planner_statistics_on_postgresql(org, catalog):
    from django.db import connection

    from equipoise.results.ingest import ANALYZE_AFTER_LINES, refresh_statistics

    if connection.vendor != "postgresql":
        refresh_statistics(10**9)  # nothing to do: SQLite plans without them
        return

    def analyzed() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'results_resultline'::regclass")
            return cursor.fetchone()[0]

    with transaction.atomic():
        Ingestor(batch=make_batch()).ingest([line(org, catalog, f"S{n}") for n in range(3)])
    before = analyzed()
    refresh_statistics(ANALYZE_AFTER_LINES - 1)  # too few to matter
    assert analyzed() == before
    refresh_statistics(ANALYZE_AFTER_LINES)
    assert analyzed() == 3


def test_prepared_lines_turn_back_into_the_lines_they_were_made_of(org, catalog):
    """A reading process's credit rows give back each line, split credits and all, with its fingerprint."""
    from equipoise.results.ingest import PreparedLines

    lines = [
        line(org, catalog, external_id="one"),
        line(org, catalog, external_id="split", amount_minor=100_001, credits=((org.sam.pk, 3_333), (org.sara.pk, 6_667))),
        line(org, catalog, external_id="two", amount_minor=-5),
    ]
    lines = [entry._replace(row=row) for row, entry in enumerate(lines, start=2)]
    prepared = PreparedLines.of(lines, batch_id=7)
    assert prepared.counts == [1, 2, 1] and prepared.line_rows == [2, 3, 4]
    assert [row[3] for row in prepared.rows] == [10_000, 3_333, 6_667, 10_000]
    assert sum(row[9] for row in prepared.rows[1:3]) == 100_001  # the split adds up to the line
    assert prepared.inputs() == [entry._replace(digest=entry.fingerprint()) for entry in lines]
    assert [row[0:2] for row in prepared.firsts()] == [("test", "one"), ("test", "split"), ("test", "two")]
    single = PreparedLines.of(lines[:1], batch_id=7)
    assert single.counts is None and single.firsts() == single.rows


def test_fingerprints_stay_what_earlier_versions_stored():
    """Stored lines keep the fingerprint they were written with: computed differently, every line
    of a file imported again would look changed and become a correction. The expected values were
    computed by an earlier version; the fast path's digest and the resolver's are the same."""
    from equipoise.results.ingest import LineInput

    split = LineInput(
        row=2, source="crm", external_id="E1", kind="booking", occurred_on=date(2027, 1, 15), currency="EUR", amount_minor=123456,
        customer_id=7, region_id=3, product_line_id=2, product_application_id=None, motion="new", credits=((9, 6000), (4, 4000)),
    )  # fmt: skip
    credit = split._replace(kind="credit_note", amount_minor=-500, product_application_id=5, credits=((4, 10_000),))
    assert split.fingerprint() == "805039bd60c8217607fb2e3a889c3620"
    assert credit.fingerprint() == "6af7edd79c153a2c6de7da6e6fff4348"
    assert split._replace(digest="given").fingerprint() == "given"


def test_rollup_rows_new_to_the_table_are_merged_and_the_others_upserted_on_postgresql(org, catalog, monkeypatch):
    """PostgreSQL adds a flush's rollup rows with MERGE when a sample says most are new (a first
    load: half the time of an upsert), and with an upsert when most exist. Either way the rollups
    are what a rebuild gives."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no MERGE, and its upsert costs a new key no more than an insert")
    monkeypatch.setattr(ingest_module, "MERGE_ABOVE_ROWS", 1)

    def merged(lines) -> bool:
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            Ingestor(batch=make_batch()).ingest(lines)
        return any(query["sql"].startswith("MERGE INTO") for query in queries.captured_queries)

    january = [line(org, catalog, f"J{n}", occurred_on=date(2027, 1, 1 + n)) for n in range(6)]
    assert merged(january)  # an empty table: every key is new
    again = [line(org, catalog, f"K{n}", occurred_on=date(2027, 1, 1 + n)) for n in range(6)]
    assert not merged(again)  # the same days, seller and dimensions: every key exists
    assert merged([line(org, catalog, f"F{n}", occurred_on=date(2027, 2, 1 + n)) for n in range(6)])  # new days, a new month
    assert rollups_compare() == []
    assert _rollup(0) == 12 * 100_000


def test_the_rollup_codes_name_every_grain_measure_and_motion_in_the_order_their_text_sorts():
    from equipoise.org.models import Motion
    from equipoise.results.models import GRAIN_CODES, MEASURE_CODES, MOTION_CODES, Grain, Measure

    for codes, choices in ((GRAIN_CODES, Grain), (MEASURE_CODES, Measure), (MOTION_CODES, Motion)):
        assert set(codes) == set(choices.values), f"{choices.__name__} needs a migration that renumbers the stored codes"
        assert list(codes) == sorted(codes)


def test_rollups_store_codes_and_the_orm_reads_text(org, catalog):
    from django.db import connection

    with transaction.atomic():
        Ingestor(batch=make_batch()).ingest([line(org, catalog, "L1", motion="renewal")])
    assert set(Rollup.objects.values_list("motion", flat=True)) == {"renewal"}
    assert Rollup.objects.filter(grain="M", measure="booked", motion="renewal").exists()
    assert not Rollup.objects.filter(motion="new").exists()
    assert not Rollup.objects.filter(motion="not a motion").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT grain, measure, motion FROM results_rolluptotal ORDER BY grain")
        assert cursor.fetchall() == [(0, 0, 2), (1, 0, 2)]  # D and M; booked; renewal


# -- near the end of a source; the customer index set aside for a large first load --------------


def _customer_index_sql() -> str | None:
    """The statement that built the lines' (customer, day) index, None while it does not exist (SQLite)."""
    from django.db import connection

    name = next(index.name for index in ResultLine._meta.indexes if index.fields == ["customer", "occurred_on"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s", [name])
        found = cursor.fetchone()
    return found[0] if found else None


def _sqlite_only() -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the index is set aside on SQLite only: PostgreSQL would lock the table against readers")


def _many(org, catalog, prefix: str, count: int, **overrides):
    customers = [catalog.acme.pk, catalog.globex.pk]
    return [
        line(org, catalog, f"{prefix}{n}", row=n + 2, customer_id=customers[n % 2], occurred_on=date(2027, 1, 1) + timedelta(days=n % 40),
             **overrides)
        for n in range(count)
    ]  # fmt: skip


def test_a_large_first_load_sets_the_customer_index_aside_and_builds_it_again(org, catalog, monkeypatch):
    """Written into an empty table, the lines go in without their (customer, day) index, which is
    built again, exactly as it was, before the batch is finished; the rollups are what a rebuild gives."""
    from django.db import connection

    _sqlite_only()
    monkeypatch.setattr(ingest_module, "LINE_BUFFER_ROWS", 4)
    monkeypatch.setattr(ingest_module, "SET_ASIDE_ROWS", 5)
    before = _customer_index_sql()
    assert before is not None
    with transaction.atomic():
        ingestor = Ingestor(batch=make_batch(), defer_rollups=True)
        lines = _many(org, catalog, "F", 9)
        ingestor.ingest(lines[:6])  # six held: written, and the index set aside (six to come, none stored)
        assert ResultLine.objects.count() == 6
        assert _customer_index_sql() is None
        ingestor.ingest(lines[6:])
        ingestor.finish(rows_read=9, rows_skipped=0, rows_rejected=0, skipped_reasons={}, started=0.0)
        assert _customer_index_sql() == before
        with connection.cursor() as cursor:
            cursor.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM results_resultline WHERE customer_id = %s AND occurred_on >= %s",
                [catalog.acme.pk, date(2027, 1, 1)],
            )
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        index_name = next(index.name for index in ResultLine._meta.indexes if index.fields == ["customer", "occurred_on"])
        assert index_name in plan
        assert ResultLine.objects.filter(customer_id=catalog.acme.pk).count() == 5
        assert rollups_compare() == []


def test_a_batch_smaller_than_the_table_keeps_the_customer_index(org, catalog, monkeypatch):
    _sqlite_only()
    monkeypatch.setattr(ingest_module, "LINE_BUFFER_ROWS", 4)
    monkeypatch.setattr(ingest_module, "SET_ASIDE_ROWS", 5)
    with transaction.atomic():
        Ingestor(batch=make_batch()).ingest(_many(org, catalog, "OLD", 12))
    with transaction.atomic():
        ingestor = Ingestor(batch=make_batch(), defer_rollups=True)
        ingestor.ingest(_many(org, catalog, "NEW", 6))  # written, and fewer than the 12 stored
        assert ResultLine.objects.count() == 18
        assert _customer_index_sql() is not None
        ingestor.finish(rows_read=6, rows_skipped=0, rows_rejected=0, skipped_reasons={}, started=0.0)
    assert _customer_index_sql() is not None


def test_a_failed_or_rolled_back_load_leaves_the_customer_index_as_it_was(org, catalog, monkeypatch):
    """The index is dropped inside the batch's transaction: rolling the batch back, or only the
    savepoint it was written in (an all-or-nothing batch with an invalid row), brings it back, and
    finishing the batch after that leaves it as it was."""
    _sqlite_only()
    monkeypatch.setattr(ingest_module, "LINE_BUFFER_ROWS", 4)
    monkeypatch.setattr(ingest_module, "SET_ASIDE_ROWS", 5)
    before = _customer_index_sql()
    with pytest.raises(RuntimeError), transaction.atomic():
        Ingestor(batch=make_batch(), defer_rollups=True).ingest(_many(org, catalog, "A", 6))
        assert _customer_index_sql() is None
        raise RuntimeError("the import stops here")
    assert _customer_index_sql() == before and not ResultLine.objects.exists()

    with transaction.atomic():
        ingestor = Ingestor(batch=make_batch(), defer_rollups=True)
        with pytest.raises(RuntimeError), transaction.atomic():
            ingestor.ingest(_many(org, catalog, "B", 6))
            assert _customer_index_sql() is None
            raise RuntimeError("an invalid row: the savepoint is rolled back")
        ingestor.forget()
        assert _customer_index_sql() == before
        ingestor.finish(rows_read=6, rows_skipped=0, rows_rejected=6, skipped_reasons={}, started=0.0)
        assert _customer_index_sql() == before and not ResultLine.objects.exists()


def test_held_rows_are_written_while_the_reader_is_busy_at_the_start_and_end_of_a_source(org, catalog, monkeypatch):
    """idle() writes what is held, when there are enough rows to make it worth it, while the first
    runs double in length, and in the source's last stretch (less than a buffer's worth to come,
    from the share left to read); in between, rows wait for a full buffer."""
    monkeypatch.setattr(ingest_module, "LINE_BUFFER_ROWS", 10)
    monkeypatch.setattr(ingest_module, "IDLE_WRITE_ROWS", 3)
    unread = [0.9]
    with transaction.atomic():
        ingestor = Ingestor(batch=make_batch(), defer_rollups=True, unread=lambda: unread[0])
        lines = iter(_many(org, catalog, "I", 13))

        def hand_over(count: int) -> int:
            ingestor.ingest([next(lines) for _ in range(count)])
            ingestor.idle()
            return ResultLine.objects.count()

        assert hand_over(2) == 0  # two held: fewer than IDLE_WRITE_ROWS
        assert hand_over(2) == 4  # nothing written yet: the first run goes at once
        assert hand_over(3) == 4  # fewer held than written, and 63 rows to come
        assert hand_over(1) == 8  # as many held as written: the next run, twice as long
        assert hand_over(4) == 8  # 4 held, 108 to come
        unread[0] = 0.3
        assert hand_over(1) == 13  # 5 held, 5 to come: the last stretch
        ingestor.finish(rows_read=13, rows_skipped=0, rows_rejected=0, skipped_reasons={}, started=0.0)
        assert rollups_compare() == []
    without_hint = Ingestor.__new__(Ingestor)
    without_hint._unread, without_hint._received = None, 5
    assert without_hint._rows_to_come() is None


def test_a_full_window_is_summed_at_the_end_when_the_rest_of_the_source_is_small(org, catalog, monkeypatch):
    """The window is summed when full, unless what is still to come fits in a quarter more: then
    once, at the end. Without a hint from the source it is summed when full, as before."""
    monkeypatch.setattr(ingest_module, "LINE_BUFFER_ROWS", 2)
    monkeypatch.setattr(ingest_module, "FLUSH_ROWS", 8)
    for unread, summed_early in ((0.02, False), (0.5, True), (None, True)):
        with transaction.atomic():
            ingestor = Ingestor(batch=make_batch(), defer_rollups=True, unread=lambda unread=unread: unread)
            ingestor.ingest(_many(org, catalog, "W", 8))  # the window is full
            assert Rollup.objects.exists() == summed_early, unread
            ingestor.finish(rows_read=8, rows_skipped=0, rows_rejected=0, skipped_reasons={}, started=0.0)
            assert rollups_compare() == []
            transaction.set_rollback(True)


@override_settings(EQUIPOISE_LARGE_SUBTREE=2)
class SetAsideIndexPropertyTests(ThreeSellers, TestCase):
    """Random batches written with the customer index set aside whenever the batch is at least as
    large as the table (SQLite): the rollups are what a rebuild gives, and the index is there after."""

    def setUp(self) -> None:
        _only_on(self, "sqlite", "the index is set aside on SQLite only", SET_ASIDE_ROWS=2, LINE_BUFFER_ROWS=3)

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches=batches_strategy)
    def test_batches_written_with_the_index_set_aside_equal_a_rebuild(self, batches):
        before = _customer_index_sql()
        with transaction.atomic():
            for batch_lines in batches:
                ingestor = Ingestor(batch=make_batch(), defer_rollups=True)
                unique = {values[0]: values for values in batch_lines}
                ingestor.ingest([self._line(*values) for values in unique.values()])
                ingestor.finish(rows_read=len(unique), rows_skipped=0, rows_rejected=0, skipped_reasons={}, started=0.0)
                assert _customer_index_sql() == before
            assert stored_rollups() == expected_rollups()
            transaction.set_rollback(True)


def test_an_error_in_the_work_done_on_a_thread_at_the_end_of_a_batch_is_raised(org, catalog, monkeypatch):
    """At the end of a batch the last rows are copied (PostgreSQL) or the set-aside index is built
    (SQLite) on a thread while the window is summed: an error there fails the batch, as it would
    have without the thread."""
    from django.db import connection

    monkeypatch.setattr(ingest_module, "LINE_BUFFER_ROWS", 4)
    monkeypatch.setattr(ingest_module, "SET_ASIDE_ROWS", 5)
    if connection.vendor == "postgresql":

        def failing_copy(*args, **kwargs):
            raise RuntimeError("the copy failed")

        monkeypatch.setattr(ingest_module, "_copy_rows", failing_copy)
    with pytest.raises(Exception, match=r"the copy failed|no such table"), transaction.atomic():
        ingestor = Ingestor(batch=make_batch(), defer_rollups=True)
        if connection.vendor == "postgresql":
            ingestor.ingest(_many(org, catalog, "E", 3))  # held, not written until the end
        else:
            ingestor.ingest(_many(org, catalog, "E", 6))  # written, the index set aside
            assert ingestor._set_aside_sql is not None
            ingestor._set_aside_sql = "CREATE INDEX broken ON no_such_table (x)"
        ingestor.finish(rows_read=6, rows_skipped=0, rows_rejected=0, skipped_reasons={}, started=0.0)
    assert not ResultLine.objects.exists()
