from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Account, AccountTeamMember, Contact


class AccountTeamMemberInline(admin.TabularInline):
    model = AccountTeamMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Account)
class AccountAdmin(SimpleHistoryAdmin):
    list_display = ["name", "short_name", "province", "city", "status", "owner", "parent"]
    list_filter = ["status", "province"]
    search_fields = ["name", "name_en", "short_name"]
    autocomplete_fields = ["parent", "owner"]
    inlines = [AccountTeamMemberInline]
    list_select_related = ["owner", "parent"]


@admin.register(Contact)
class ContactAdmin(SimpleHistoryAdmin):
    list_display = ["name", "title", "account", "mobile", "email", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "email", "mobile", "account__name"]
    autocomplete_fields = ["account", "user"]
    list_select_related = ["account"]
