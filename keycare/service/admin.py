from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    BusinessCalendar,
    CalendarDay,
    MaintenancePlan,
    ServiceContract,
    ServiceTeam,
    ServiceTeamMember,
    SlaAlert,
    SlaPolicy,
    SlaTarget,
    Ticket,
    TicketEvent,
    Webhook,
)


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(SimpleHistoryAdmin):
    list_display = ["name", "time_zone", "is_default", "covered_from", "covered_to"]
    inlines = [CalendarDayInline]


class SlaTargetInline(admin.TabularInline):
    model = SlaTarget
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(SimpleHistoryAdmin):
    list_display = ["name", "tier", "account_type", "is_floor", "calendar", "is_active"]
    inlines = [SlaTargetInline]


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    extra = 0
    readonly_fields = ["kind", "actor", "at", "data"]
    can_delete = False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "subject",
        "account",
        "status",
        "priority",
        "assignee",
        "resolution_due_at",
    ]
    list_filter = ["status", "priority", "ticket_type"]
    search_fields = ["number", "subject", "account__name"]
    readonly_fields = [f.name for f in Ticket._meta.fields]
    inlines = [TicketEventInline]
    list_select_related = ["account", "assignee"]

    def has_add_permission(self, request):
        return False  # tickets are opened through the service desk, where the SLA applies


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["name", "format", "url", "is_active"]


@admin.register(SlaAlert)
class SlaAlertAdmin(admin.ModelAdmin):
    list_display = ["ticket", "target", "level", "created_at", "sent_at", "attempts", "last_error"]
    list_filter = ["level", "target"]
    readonly_fields = [f.name for f in SlaAlert._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ServiceContract)
class ServiceContractAdmin(SimpleHistoryAdmin):
    list_display = [
        "number",
        "account",
        "starts_on",
        "ends_on",
        "sla_policy",
        "included_visits",
        "reminded_at",
    ]
    search_fields = ["number", "account__name"]
    autocomplete_fields = ["account"]
    filter_horizontal = ["equipment"]


@admin.register(MaintenancePlan)
class MaintenancePlanAdmin(admin.ModelAdmin):
    list_display = [
        "equipment",
        "interval_months",
        "next_due",
        "lead_days",
        "last_ticket",
        "is_active",
    ]
    list_select_related = ["equipment", "last_ticket"]


class ServiceTeamMemberInline(admin.TabularInline):
    model = ServiceTeamMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(ServiceTeam)
class ServiceTeamAdmin(admin.ModelAdmin):
    list_display = ["name", "manager", "provinces", "is_active"]
    search_fields = ["name"]
    inlines = [ServiceTeamMemberInline]
