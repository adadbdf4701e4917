"""Roles, and who may see what. Every selector starts from the acting user through here."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    EXECUTIVE = "executive", "Executive"
    FINANCE = "finance", "Finance"
    ADMIN = "admin", "Sales ops / admin"
    MANAGER = "manager", "Manager"
    SELLER = "seller", "Seller"


# Roles that see the whole company.
COMPANY_WIDE_ROLES = frozenset({Role.EXECUTIVE, Role.FINANCE, Role.ADMIN})
# Roles that may create and edit plan versions.
PLAN_EDITOR_ROLES = frozenset({Role.EXECUTIVE, Role.FINANCE, Role.ADMIN})
# Roles that may approve plans and allocate or lock quotas.
PLAN_APPROVER_ROLES = frozenset({Role.EXECUTIVE, Role.ADMIN})
