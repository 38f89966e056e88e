import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from keycare.accounts.choices import AccountTier
from keycare.core.filtering import ChoicesFilter

from .choices import Priority, SlaState, TicketStatus, TicketType
from .models import NpsSurvey, Ticket


class TicketFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = ChoicesFilter(label=_("Status"), choices=TicketStatus.choices)
    open = django_filters.BooleanFilter(label=_("Open only"), method="filter_open")
    priority = ChoicesFilter(label=_("Priority"), choices=Priority.choices)
    ticket_type = ChoicesFilter(label=_("Type"), choices=TicketType.choices)
    account = django_filters.NumberFilter(label=_("Account"), field_name="account_id")
    assignee = django_filters.NumberFilter(label=_("Assignee"), field_name="assignee_id")
    team = django_filters.NumberFilter(label=_("Team"), field_name="team_id")
    equipment = django_filters.NumberFilter(label=_("Equipment"), field_name="equipment_id")
    tier = ChoicesFilter(label=_("Tier"), field_name="account__tier", choices=AccountTier.choices)
    sla = django_filters.ChoiceFilter(label=_("SLA"), choices=SlaState.choices, method="filter_sla")
    ordering = django_filters.OrderingFilter(
        label=_("Order by"),
        fields=(("opened_at", "opened_at"), ("priority", "priority"),
                ("resolution_due_at", "resolution_due_at"), ("number", "number")),
    )  # fmt: skip

    class Meta:
        model = Ticket
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(number__icontains=value) | Q(subject__icontains=value))

    def filter_open(self, queryset, name, value):
        closed = [TicketStatus.RESOLVED, TicketStatus.CLOSED]
        return queryset.exclude(status__in=closed) if value else queryset.filter(status__in=closed)

    def filter_sla(self, queryset, name, value):
        return queryset.filter(Q(response_sla=value) | Q(resolution_sla=value))


class NpsSurveyFilterSet(django_filters.FilterSet):
    account = django_filters.NumberFilter(label=_("Account"), field_name="account_id")
    group = django_filters.NumberFilter(label=_("Account and its branches"), method="filter_group")
    contact = django_filters.NumberFilter(label=_("Contact"), field_name="contact_id")
    answered = django_filters.BooleanFilter(label=_("Answered"), method="filter_answered")
    tier = ChoicesFilter(label=_("Tier"), field_name="account__tier", choices=AccountTier.choices)

    class Meta:
        model = NpsSurvey
        fields = []

    def filter_group(self, queryset, name, value):
        from keycare.accounts.models import Account

        path = Account.objects.filter(pk=value).values_list("path", flat=True).first()
        if not path:
            return queryset.filter(account_id=value)
        return queryset.filter(account__path__startswith=path)

    def filter_answered(self, queryset, name, value):
        return queryset.filter(responded_at__isnull=not value)
