from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "display_name", "email", "role_list", "is_active", "last_login"]
    list_filter = ["groups", "is_active"]
    search_fields = ["username", "display_name", "email", "first_name", "last_name"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("KeyCare"), {"fields": ("display_name", "phone", "language")}),
    )

    @admin.display(description=_("roles"))
    def role_list(self, obj: User) -> str:
        return ", ".join(sorted(g.name for g in obj.groups.all()))

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")
