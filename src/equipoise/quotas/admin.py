from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from equipoise.quotas.models import Commit, QuotaAdjustment, QuotaAllocation


@admin.register(QuotaAllocation)
class QuotaAllocationAdmin(SimpleHistoryAdmin):
    list_display = ["plan", "method", "state", "created_at", "locked_at"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(QuotaAdjustment)
class QuotaAdjustmentAdmin(admin.ModelAdmin):
    list_display = ["allocation", "person", "bucket", "month", "old_amount_minor", "new_amount_minor", "changed_by", "changed_at", "reason"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(Commit)
class CommitAdmin(SimpleHistoryAdmin):
    list_display = ["person", "month", "motion", "amount_minor", "currency", "entered_by", "updated_at"]
    list_filter = ["motion"]
    raw_id_fields = ["person"]
