from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from equipoise.org.models import Company, Customer, Person, ProductApplication, ProductLine, Region, Territory


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "fiscal_year_start_month", "reporting_currency"]


@admin.register(Person)
class PersonAdmin(SimpleHistoryAdmin):
    list_display = ["full_name", "role", "team_name", "manager", "carries_quota", "hire_date", "is_active"]
    list_filter = ["role", "carries_quota", "is_active"]
    search_fields = ["full_name", "email", "team_name"]
    raw_id_fields = ["user", "manager"]
    readonly_fields = ["path", "depth"]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        # Keep the materialised path in step with the manager link.
        from equipoise.org.services import person_set_manager

        manager_changed = change and "manager" in form.changed_data
        super().save_model(request, obj, form, change)
        if not change or manager_changed:
            person_set_manager(person=obj, manager=obj.manager)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent"]
    search_fields = ["code", "name"]


@admin.register(ProductLine)
class ProductLineAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]


@admin.register(ProductApplication)
class ProductApplicationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "product_line"]
    list_filter = ["product_line"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_named_account", "segment", "home_region", "owner"]
    list_filter = ["is_named_account", "segment"]
    search_fields = ["code", "name"]
    raw_id_fields = ["owner", "home_region"]


@admin.register(Territory)
class TerritoryAdmin(SimpleHistoryAdmin):
    list_display = ["seller", "region", "product_line", "customer", "starts_on", "ends_on", "potential_minor"]
    raw_id_fields = ["seller", "customer"]
