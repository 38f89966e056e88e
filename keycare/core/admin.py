from django.contrib import admin

from .models import TickRun


@admin.register(TickRun)
class TickRunAdmin(admin.ModelAdmin):
    list_display = ["name", "started_at", "finished_at", "status"]
    list_filter = ["status", "name"]
    readonly_fields = ["name", "started_at", "finished_at", "status", "detail"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
