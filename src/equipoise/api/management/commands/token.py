"""``equipoise token create|list|revoke``: API tokens for integrations.

``create`` prints one line of explanation and then the token alone on the last line, so a script
can take it with ``tail -n 1``. The token is shown once: only its hash is stored.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandParser

from equipoise.api.models import ApiToken
from equipoise.api.tokens import TOKEN_PREFIX, token_create, token_revoke
from equipoise.core.commands import ApplicationCommand
from equipoise.core.errors import ApplicationError

# Enough characters to name one token among many, not so few that a typo revokes the wrong one.
MIN_PREFIX_LENGTH = len(TOKEN_PREFIX) + 4
# How many leading characters of a token are stored to recognise it.
PREFIX_LENGTH = ApiToken._meta.get_field("prefix").max_length or 12


class Command(ApplicationCommand):
    help = "Create, list and revoke API tokens (sent as `Authorization: Bearer <token>`)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = actions.add_parser("create", help="Create a token for a user and print it once.")
        create.add_argument("--user", required=True, help="The username the token acts as.")
        create.add_argument("--name", default="", help="What the token is for, e.g. 'CRM export'.")
        listing = actions.add_parser("list", help="List tokens (prefix, name, dates); never the tokens themselves.")
        listing.add_argument("--user", help="Only this user's tokens.")
        revoke = actions.add_parser("revoke", help="Revoke a token by its prefix (as shown by list).")
        revoke.add_argument("prefix", help=f"The token's prefix, e.g. {TOKEN_PREFIX}AbCd1234 (or the whole token).")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self._create(username=options["user"], name=options["name"])
        elif action == "list":
            self._list(username=options["user"])
        else:
            self._revoke(prefix=options["prefix"])

    def _create(self, *, username: str, name: str) -> None:
        record, plain = token_create(username=username, name=name)
        label = f" ({record.name})" if record.name else ""
        self.stdout.write(
            f"New API token{label} for {record.user.get_username()}, prefix {record.prefix}. "
            "Copy it now: it is not shown again. Send it as `Authorization: Bearer <token>`."
        )
        self.stdout.write(plain)

    def _list(self, *, username: str | None) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("user__username", "created_at", "id")
        if username is not None:
            if not get_user_model().objects.filter(username=username).exists():
                raise ApplicationError(f"There is no user named {username!r}.", field="user")
            tokens = tokens.filter(user__username=username)
        rows = list(tokens)
        if not rows:
            self.stdout.write("No tokens yet: create one with `equipoise token create --user NAME`.")
            return
        for token in rows:
            status = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
            last_used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            self.stdout.write(
                f"{token.prefix}  {token.user.get_username():<20} {token.name or '-':<24} "
                f"created {token.created_at:%Y-%m-%d}  last used {last_used}  {status}"
            )

    def _revoke(self, *, prefix: str) -> None:
        # A whole token starts with its stored prefix, so either identifies it.
        key = prefix.strip()[:PREFIX_LENGTH]
        if len(key) < MIN_PREFIX_LENGTH:
            raise ApplicationError(
                f"{prefix!r} is too short to identify one token: give at least {MIN_PREFIX_LENGTH} characters, "
                "as shown by `equipoise token list`.",
                field="prefix",
            )
        matches = list(ApiToken.objects.select_related("user").filter(prefix__startswith=key))
        active = [token for token in matches if token.revoked_at is None]
        if not matches:
            raise ApplicationError(f"No token starts with {key!r}; see `equipoise token list`.", field="prefix")
        if not active:
            raise ApplicationError(f"The token {matches[0].prefix} is already revoked.", field="prefix")
        if len(active) > 1:
            raise ApplicationError(
                f"{key!r} matches {len(active)} active tokens ({', '.join(t.prefix for t in active)}): give more characters.",
                field="prefix",
            )
        token = active[0]
        token_revoke(token=token)
        self.stdout.write(f"Revoked token {token.prefix} of {token.user.get_username()}; it no longer authenticates.")
