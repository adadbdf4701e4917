import pytest
from django.core.management import call_command

from equipoise.results.ingest import Ingestor
from equipoise.results.models import Rollup
from equipoise.results.tests.conftest import line, make_batch


def test_rebuild_rollups_reports_and_repairs_differences(org, catalog, capsys):
    Ingestor(batch=make_batch()).ingest([line(org, catalog)])
    call_command("rebuild_rollups", "--check")
    assert "Rollups are exact" in capsys.readouterr().out
    Rollup.objects.filter(node_id=0, grain="M").update(amount_minor=5)
    with pytest.raises(SystemExit) as exit_info:
        call_command("rebuild_rollups", "--check")
    assert exit_info.value.code == 1
    assert "1 rollup cells differ" in capsys.readouterr().out
    assert Rollup.objects.get(node_id=0, grain="M").amount_minor == 5  # --check changes nothing
    with pytest.raises(SystemExit):
        call_command("rebuild_rollups")
    assert "stored 5 (1 lines), expected 100000 (1 lines)" in capsys.readouterr().out
    assert Rollup.objects.get(node_id=0, grain="M").amount_minor == 100_000
    call_command("rebuild_rollups")
    assert "Rollups are exact" in capsys.readouterr().out
