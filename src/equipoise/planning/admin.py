from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from equipoise.planning.models import PlanBucket, PlanVersion, SeasonalityProfile


@admin.register(SeasonalityProfile)
class SeasonalityProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "created_at"]


@admin.register(PlanVersion)
class PlanVersionAdmin(SimpleHistoryAdmin):
    """Read-only here: plans change through the plan pages, where approval rules are enforced."""

    list_display = ["name", "kind", "state", "start_month", "horizon_months", "total_target_minor", "currency"]
    list_filter = ["kind", "state"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(PlanBucket)
class PlanBucketAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "plan", "target_kind", "target_minor", "target_share_bp"]
    list_filter = ["plan"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
