from django.contrib import admin

from .models import (
    Activity,
    BusinessEvent,
    EngagementLog,
    Gift,
    Pain,
    Playbook,
    Reminder,
    VipMember,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Engagement records are written through their services (the pages and the API), which
    validate them and write the engagement log; the admin only shows them."""

    def get_queryset(self, request):
        from keycare.core.scoping import restrict

        return restrict(super().get_queryset(request), request.user, "view")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ("subject", "account", "kind", "status", "planned_at", "done_at", "owner")
    list_filter = ("kind", "status")
    search_fields = ("subject", "account__name")


@admin.register(Pain)
class PainAdmin(ReadOnlyAdmin):
    list_display = ("title", "account", "status", "impact", "raised_on")
    list_filter = ("status",)


@admin.register(BusinessEvent)
class BusinessEventAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "status", "starts_at", "cost")
    list_filter = ("kind", "status")


@admin.register(Gift)
class GiftAdmin(ReadOnlyAdmin):
    list_display = ("description", "contact", "account", "value", "given_on", "status")
    list_filter = ("status",)


@admin.register(VipMember)
class VipMemberAdmin(ReadOnlyAdmin):
    list_display = ("contact", "account", "level_override", "joined_on", "is_active")


@admin.register(Playbook)
class PlaybookAdmin(ReadOnlyAdmin):
    list_display = ("name", "account_type", "tier", "is_active")


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ("kind", "user", "account", "due_on", "created_at", "sent_at", "read_at")
    list_filter = ("kind",)


@admin.register(EngagementLog)
class EngagementLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "object_type", "object_id", "action", "actor", "account")
    list_filter = ("object_type", "action")
