from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from equipoise.core.errors import ApplicationError
from equipoise.planning.domain import validate_weights
from equipoise.planning.models import PlanBucket, PlanVersion, SeasonalityProfile


class SeasonalityProfileForm(forms.ModelForm):
    class Meta:
        model = SeasonalityProfile
        fields = ["name", "kind", "weights", "description"]

    def clean_weights(self) -> list[str]:
        """Twelve non-negative weights, normalised to average 1, exactly as the plan pages store them."""
        raw = self.cleaned_data["weights"]
        if not isinstance(raw, list):
            raise forms.ValidationError("Enter a list of twelve weights, January to December, e.g. [1, 1, 1.2, …].")
        try:
            return [str(weight) for weight in validate_weights(raw)]
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from error


@admin.register(SeasonalityProfile)
class SeasonalityProfileAdmin(admin.ModelAdmin):
    form = SeasonalityProfileForm
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
