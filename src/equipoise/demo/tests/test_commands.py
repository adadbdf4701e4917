"""The `demo`, `serve` and `bench` commands."""

import json
from datetime import date
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Max
from django.utils import timezone

from equipoise.demo import catalog
from equipoise.org.models import Company, Customer, Person, Region, Territory
from equipoise.planning.models import PlanVersion
from equipoise.quotas.models import Quota, QuotaAllocation
from equipoise.results.models import Contract, ImportBatch, ResultLine, Rollup


class FakeServer:
    """Stands in for waitress: records how it was created and that it was run."""

    created: dict = {}
    ran = False

    def run(self):
        FakeServer.ran = True


@pytest.fixture
def fake_waitress(monkeypatch):
    def create_server(application, **options):
        FakeServer.created = {"application": application, **options}
        return FakeServer()

    FakeServer.created, FakeServer.ran = {}, False
    monkeypatch.setattr("waitress.server.create_server", create_server)
    return FakeServer


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_demo_no_serve_loads_once_and_prints_the_logins(db, fake_waitress):
    # when
    first, _ = run("demo", "--no-serve", "--sellers", "10", "--customers", "120", "--as-of", "2026-11-18")
    counts = (Person.objects.count(), ResultLine.objects.count(), Contract.objects.count(), Rollup.objects.count(), Quota.objects.count())
    second, _ = run("demo", "--no-serve", "--sellers", "10", "--customers", "120")

    # then
    assert "Loaded the demo company Northwind Data & Internet Services in " in first
    assert "Open http://127.0.0.1:8000/ and sign in as one of:" in first
    for login in catalog.LOGINS:
        assert f"  {login} " in first
    assert "Password for every demo login: equipoise-demo" in first
    assert "weekly imports up to 18 Nov 2026" in first
    assert "already in" in second and "nothing loaded" in second
    assert (
        Person.objects.count(),
        ResultLine.objects.count(),
        Contract.objects.count(),
        Rollup.objects.count(),
        Quota.objects.count(),
    ) == counts
    assert Company.objects.count() == 1
    assert fake_waitress.created == {}


def test_demo_default_scale_loads_forty_sellers_up_to_today(db):
    out, _ = run("demo", "--no-serve")

    today = timezone.localdate()
    assert "  40 sellers, 1,500 customers," in out
    assert Person.objects.filter(carries_quota=True, is_active=True).count() == 40
    assert QuotaAllocation.objects.get().state == "locked"
    assert QuotaAllocation.objects.get().plan.start_month == date(today.year, 1, 1)
    assert ResultLine.objects.aggregate(last=Max("occurred_on"))["last"] <= today
    assert ImportBatch.objects.count() > 100  # one a week, 24 months of history and more


def test_demo_rejects_a_reference_day_that_is_not_a_date(db):
    with pytest.raises(CommandError, match="'2026-02-30' is not a date: write it as YYYY-MM-DD"):
        run("demo", "--no-serve", "--as-of", "2026-02-30")

    assert not Person.objects.exists()


def test_demo_serves_with_waitress_after_loading(db, fake_waitress):
    out, _ = run("demo", "--port", "8123", "--sellers", "8", "--customers", "50")

    assert "Equipoise serving on http://127.0.0.1:8123/ with 8 threads" in out
    assert out.index("Password for every demo login") < out.index("serving")
    assert fake_waitress.created["host"] == "127.0.0.1"
    assert fake_waitress.created["port"] == 8123
    assert fake_waitress.created["threads"] == 8
    assert callable(fake_waitress.created["application"])
    assert fake_waitress.ran is True


def test_demo_refuses_outside_demo_mode(db, settings):
    settings.DEMO_MODE = False

    with pytest.raises(CommandError, match="runs only in demo mode") as raised:
        run("demo", "--no-serve")

    assert raised.value.returncode == 2
    assert not Person.objects.exists()


def test_demo_refuses_a_database_with_another_company(org):
    with pytest.raises(CommandError, match="already holds Test Co") as raised:
        run("demo", "--no-serve", "--sellers", "8")

    assert raised.value.returncode == 2
    assert not Company.objects.filter(name=catalog.COMPANY_NAME).exists()


def test_serve_loads_nothing_and_passes_its_options_to_waitress(db, fake_waitress):
    out, _ = run("serve", "--host", "0.0.0.0", "--port", "9001", "--threads", "4")

    assert "Equipoise serving on http://0.0.0.0:9001/ with 4 threads" in out
    assert {key: fake_waitress.created[key] for key in ("host", "port", "threads")} == {"host": "0.0.0.0", "port": 9001, "threads": 4}
    assert fake_waitress.ran is True
    assert not Person.objects.exists()


def test_serve_rejects_a_port_out_of_range(db):
    with pytest.raises(CommandError, match="outside 1 to 65535"):
        run("serve", "--port", "70000")


def test_bench_allocate_prints_one_reconciled_json_line_and_leaves_the_database_unchanged(org):
    # given a database with data of its own
    def state():
        return (
            Person.objects.count(),
            Region.objects.count(),
            Territory.objects.count(),
            PlanVersion.objects.count(),
            ResultLine.objects.count(),
            ImportBatch.objects.count(),
            Rollup.objects.count(),
            Customer.objects.count(),
            Quota.objects.count(),
            get_user_model().objects.count(),
        )

    before = state()

    # when
    out, _ = run("bench", "allocate", "--sellers", "200")

    # then
    lines = out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["bench"] == "allocate"
    assert result["sellers"] == 200
    assert result["buckets"] == 12
    assert result["reconciled"] is True
    assert result["errors"] == 0
    assert result["database"] in ("sqlite", "postgresql")
    assert result["seconds"] > 0
    # 200 sellers in 25 teams under 4 directors and the VP; each seller in one region's 3 buckets
    assert result["people"] == 1 + 4 + 25 + 200
    assert result["quota_rows"] == (200 + 25) * 3 * 24 + 4 * 3 * 24 + 12 * 24
    assert state() == before
    assert not Region.objects.filter(code__startswith="BENCH").exists()


def test_bench_with_few_sellers_and_an_odd_bucket_count(db):
    out, _ = run("bench", "allocate", "--sellers", "9", "--buckets", "5", "--method", "equal")

    result = json.loads(out)
    assert result["reconciled"] is True
    assert result["buckets"] == 5
    assert result["people"] == 1 + 2 + 9
