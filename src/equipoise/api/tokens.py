"""Create and check API tokens. Tokens are random, shown once, and stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from equipoise.api.models import ApiToken
from equipoise.core.errors import ApplicationError

TOKEN_PREFIX = "eqp_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def token_create(*, username: str, name: str = "") -> tuple[ApiToken, str]:
    """A new token for ``username``: returns the record and the plain token (never stored)."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ApplicationError(f"There is no user named {username!r}.", field="user")
    if not user.is_active:
        raise ApplicationError(f"User {username!r} is inactive.", field="user")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken.objects.create(user=user, name=name, prefix=plain[:12], token_hash=_hash(plain))
    return record, plain


def token_user(plain: str) -> Any | None:
    """The active user a token belongs to, or None. Touches ``last_used_at`` at most once a minute."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    record = ApiToken.objects.select_related("user").filter(token_hash=_hash(plain), revoked_at__isnull=True).first()
    if record is None or not record.user.is_active:
        return None
    now = timezone.now()
    if record.last_used_at is None or now - record.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return record.user


def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
