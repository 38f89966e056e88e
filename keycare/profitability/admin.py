from django.contrib import admin

from .models import (
    Concession,
    ConcessionEvent,
    ConcessionPolicy,
    ConcessionStep,
    CostRate,
    ProfitAlert,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rates, concessions and alerts are written through their services (the pages and the
    API), which validate and record every step; the admin only shows them."""

    def get_queryset(self, request):
        from keycare.core.scoping import restrict

        return restrict(super().get_queryset(request), request.user, "view")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CostRate)
class CostRateAdmin(ReadOnlyAdmin):
    list_display = ("driver", "valid_from", "rate", "pool_cost", "capacity", "created_by")
    list_filter = ("driver",)


@admin.register(ConcessionPolicy)
class ConcessionPolicyAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "tier",
        "account_type",
        "max_discount_pct",
        "min_line_margin_pct",
        "is_active",
    )


class StepInline(admin.TabularInline):
    model = ConcessionStep
    extra = 0
    can_delete = False
    readonly_fields = ("position", "level", "status", "decided_by", "decided_at", "comment")


class EventInline(admin.TabularInline):
    model = ConcessionEvent
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "actor", "at", "level", "comment")
    exclude = ("data",)


@admin.register(Concession)
class ConcessionAdmin(ReadOnlyAdmin):
    list_display = ("number", "account", "kind", "amount", "status", "requested_by", "requested_at")
    list_filter = ("status", "kind")
    search_fields = ("number", "account__name")
    inlines = [StepInline, EventInline]


@admin.register(ProfitAlert)
class ProfitAlertAdmin(ReadOnlyAdmin):
    list_display = ("account", "kind", "month", "sent_at", "attempts")
