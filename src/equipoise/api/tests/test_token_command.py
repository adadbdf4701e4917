"""`equipoise token create|list|revoke`."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from equipoise.api.models import ApiToken
from equipoise.api.tokens import token_create


def run(*args):
    out = StringIO()
    call_command("token", *args, stdout=out)
    return out.getvalue()


def test_create_prints_the_token_alone_on_the_last_line_and_it_authenticates(org, approved_plan, client):
    output = run("create", "--user", "executive", "--name", "CRM export")

    lines = output.rstrip("\n").split("\n")
    assert len(lines) == 2
    token = lines[-1]
    assert token.startswith("eqp_") and token == token.strip() and " " not in token
    record = ApiToken.objects.get()
    assert (record.user, record.name, record.prefix) == (org.executive, "CRM export", token[:12])
    assert token not in lines[0] and record.prefix in lines[0]
    assert record.token_hash != token  # only the hash is stored
    response = client.get("/api/v1/plans", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_create_for_an_unknown_user_exits_2_with_a_clear_message(org):
    with pytest.raises(CommandError) as raised:
        run("create", "--user", "nobody")

    assert raised.value.returncode == 2
    assert str(raised.value) == "user: There is no user named 'nobody'."
    assert ApiToken.objects.count() == 0


def test_list_shows_prefixes_never_tokens(org):
    first, first_plain = token_create(username="executive", name="CRM")
    token_create(username="seller", name="phone")

    mine = run("list", "--user", "executive")
    everyone = run("list")

    assert first.prefix in mine and "CRM" in mine and "active" in mine
    assert "phone" not in mine
    assert first_plain not in mine and first_plain not in everyone
    assert len(everyone.strip().split("\n")) == 2


def test_list_for_an_unknown_user_exits_2(org):
    with pytest.raises(CommandError) as raised:
        run("list", "--user", "nobody")

    assert raised.value.returncode == 2


def test_list_without_tokens_says_how_to_make_one(org):
    assert run("list") == "No tokens yet: create one with `equipoise token create --user NAME`.\n"


def test_revoke_by_prefix_stops_the_token(org, client):
    record, plain = token_create(username="executive")
    assert client.get("/api/v1/plans", HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 200

    output = run("revoke", record.prefix)

    assert output == f"Revoked token {record.prefix} of executive; it no longer authenticates.\n"
    record.refresh_from_db()
    assert record.revoked_at is not None
    assert client.get("/api/v1/plans", HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 401
    assert "revoked" in run("list", "--user", "executive")


def test_revoke_accepts_the_whole_token(org):
    record, plain = token_create(username="seller")

    run("revoke", plain)

    record.refresh_from_db()
    assert record.revoked_at is not None


@pytest.mark.parametrize("prefix", ["eqp", "eqp_zzzzzzzz"])
def test_revoke_an_unknown_or_too_short_prefix_exits_2_and_revokes_nothing(org, prefix):
    token_create(username="seller")

    with pytest.raises(CommandError) as raised:
        run("revoke", prefix)

    assert raised.value.returncode == 2
    assert "prefix" in str(raised.value)
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 0


def test_revoke_twice_exits_2(org):
    record, _ = token_create(username="seller")
    run("revoke", record.prefix)

    with pytest.raises(CommandError) as raised:
        run("revoke", record.prefix)

    assert raised.value.returncode == 2
    assert "already revoked" in str(raised.value)


def test_revoke_an_ambiguous_prefix_exits_2_and_revokes_nothing(org):
    ApiToken.objects.create(user=org.seller, prefix="eqp_abcd1111", token_hash="a" * 64)
    ApiToken.objects.create(user=org.seller, prefix="eqp_abcd2222", token_hash="b" * 64)

    with pytest.raises(CommandError) as raised:
        run("revoke", "eqp_abcd")

    assert raised.value.returncode == 2
    assert "matches 2 active tokens" in str(raised.value)
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 0
