"""The accounts area: accounts, the account 360 page, contacts and personal details,
equipment, orders and products."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Window
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from keycare.accounts import selectors, services
from keycare.accounts.choices import BuyingRole
from keycare.accounts.filters import (
    AccountFilterSet,
    ContactFilterSet,
    EquipmentFilterSet,
    OrderFilterSet,
    ProductFilterSet,
)
from keycare.accounts.models import Account, Contact, Equipment, Order, PersonalDetails
from keycare.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from keycare.core.scoping import scope_filter, user_can, user_can_any

from ..forms.accounts import AccountForm, ContactForm, ImportantDateForm, PersonalDetailsForm
from .base import FilteredListView, PageView, apply_errors


def _get_or_404(getter, **kwargs):
    try:
        return getter(**kwargs)
    except (Account.DoesNotExist, Contact.DoesNotExist, Equipment.DoesNotExist, Order.DoesNotExist):
        raise Http404 from None


# --- lists -------------------------------------------------------------------------------------


class AccountListView(FilteredListView):
    selector = staticmethod(selectors.account_list)
    filterset_class = AccountFilterSet
    fragment_name = "web/accounts/_table.html"
    title = gettext_lazy("Accounts")
    export_kind = "accounts"
    filter_fields = ("q", "status", "tier", "account_type", "province", "top_level")

    def extra_context(self):
        return {
            "can_add": user_can_any(self.request.user, "add", Account),
            "add_url": reverse("web:account_create"),
        }


class ContactListView(FilteredListView):
    selector = staticmethod(selectors.contact_list)
    filterset_class = ContactFilterSet
    fragment_name = "web/accounts/_contact_table.html"
    title = gettext_lazy("Contacts")
    export_kind = "contacts"
    filter_fields = ("q", "buying_role", "decision_style", "is_active")


class EquipmentListView(FilteredListView):
    selector = staticmethod(selectors.equipment_list)
    filterset_class = EquipmentFilterSet
    fragment_name = "web/accounts/_equipment_table.html"
    title = gettext_lazy("Installed base")
    export_kind = "equipment"
    filter_fields = ("q", "status", "under_warranty")


class OrderListView(FilteredListView):
    selector = staticmethod(selectors.order_list)
    filterset_class = OrderFilterSet
    fragment_name = "web/accounts/_order_table.html"
    title = gettext_lazy("Orders")
    export_kind = "orders"
    filter_fields = ("q", "date_from", "date_to")

    def get(self, request, *args, **kwargs):
        if scope_filter(Order, request.user, "view") is False:
            raise Http404
        return super().get(request, *args, **kwargs)


class ProductListView(FilteredListView):
    selector = staticmethod(selectors.product_list)
    filterset_class = ProductFilterSet
    fragment_name = "web/accounts/_product_table.html"
    title = gettext_lazy("Products")
    export_kind = "products"
    filter_fields = ("q", "is_active")


# --- account 360 -------------------------------------------------------------------------------


class AccountDetailView(PageView):
    """The account 360 page (客户全景)."""

    template_name = "web/accounts/detail.html"

    def get_context(self, *, pk: int, **kwargs) -> dict:
        actor = self.request.user
        account = _get_or_404(selectors.account_get, actor=actor, pk=pk)
        contacts = selectors.account_contacts(actor=actor, account=account)
        from .engagement_programme import account_engagement_section

        engagement = account_engagement_section(actor=actor, account=account)
        graph = selectors.account_relationship_map(
            contacts=contacts, account=account, paths=engagement["paths"] if engagement else []
        )
        subtree = selectors.account_subtree(actor=actor, account=account)
        # the selectors' querysets narrowed to the account directly: a FilterSet per section
        # (form, validation) costs more than its query on this page
        equipment = selectors.equipment_list(actor=actor).filter(account=account)
        revenue = selectors.account_revenue_by_month(actor=actor, account=account)
        orders = None
        if revenue is not None:
            orders = selectors.account_recent_orders(actor=actor, account=account)
        from keycare.insights.account_type_selectors import account_type_get
        from keycare.insights.scorecard_selectors import account_value_summary
        from keycare.insights.tier_selectors import account_tier_summary
        from keycare.service.choices import OPEN_STATUSES
        from keycare.service.selectors import (
            account_service_summary,
            equipment_service_history,
            ticket_list,
        )
        from keycare.service.surveys import nps_survey_may_send

        from .profitability import account_profit_section

        open_tickets = ticket_list(actor=actor).filter(account=account, status__in=OPEN_STATUSES)
        # the first ten units and, in the same query, how many there are (COUNT(*) OVER ())
        equipment_rows = list(equipment.annotate(total=Window(Count("id")))[:10])
        history = equipment_service_history(
            actor=actor, equipment_ids=[e.pk for e in equipment_rows]
        )
        for unit in equipment_rows:
            unit.service = history.get(unit.pk)
        return {
            "account": account,
            "open_tickets": list(open_tickets[:5]),
            "service": account_service_summary(actor=actor, account=account),
            "can_send_nps": nps_survey_may_send(actor=actor, account=account),
            "tier_summary": account_tier_summary(actor=actor, account=account),
            "value": account_value_summary(actor=actor, account=account),
            "account_type_info": account_type_get(actor=actor, account=account),
            "ancestors": selectors.account_ancestors(actor=actor, account=account),
            "subtree": subtree,
            "contacts": contacts,
            "graph": {
                "nodes": graph.nodes,
                "links": graph.links,
                "labels": _graph_labels(),
                "paths": graph.paths,
            },
            "engagement": engagement,
            "style_matrix": _style_matrix(actor, contacts),
            "equipment": equipment_rows,
            "equipment_count": equipment_rows[0].total if equipment_rows else 0,
            "orders": orders,
            "revenue": revenue,
            "revenue_chart": {
                "labels": revenue.months,
                "revenue": revenue.revenue,
                "profit": revenue.gross_profit,
                "revenue_label": _("Revenue"),
                "profit_label": _("Gross profit"),
            }
            if revenue
            else None,
            "can_change": user_can(actor, "change", account),
            "profit": account_profit_section(
                actor=actor, account=account, has_branches=bool(subtree) if account.path else None
            ),
        }


def _graph_labels() -> dict:
    return {
        "reports_to": _("reports to"),
        "introduced": _("introduced"),
        "decision_maker": _("Decision maker"),
        "coach": _("Coach (internal champion)"),
        "other": _("Other contacts"),
        "colleague": _("Our colleague"),
        "left": _("has left"),
    }


class AccountFormView(PageView):
    template_name = "web/accounts/form.html"

    def _account(self, pk):
        if pk is None:
            return None
        account = _get_or_404(selectors.account_get, actor=self.request.user, pk=pk)
        if not user_can(self.request.user, "change", account):
            raise Http404
        return account

    def get(self, request, pk=None):
        account = self._account(pk)
        if account is None and not user_can_any(request.user, "add", Account):
            raise Http404
        initial = {"parent": request.GET.get("parent")} if account is None else {}
        form = AccountForm(instance=account, actor=request.user, initial=initial)
        return TemplateResponse(request, self.template_name, {"form": form, "account": account})

    def post(self, request, pk=None):
        account = self._account(pk)
        if account is None and not user_can_any(request.user, "add", Account):
            raise Http404
        form = AccountForm(request.POST, instance=account or Account(), actor=request.user)
        similar = []
        if form.is_valid():
            try:
                if account is None:
                    account = services.account_create(
                        actor=request.user,
                        tags=form.tag_names(),
                        confirm_duplicate=form.cleaned_data.get("confirm_duplicate", False),
                        **form.service_data(),
                    )
                    messages.success(request, _("Account created."))
                else:
                    services.account_update(
                        actor=request.user,
                        account=account,
                        data=form.service_data(),
                        expected_version=form.cleaned_data.get("version"),
                        tags=form.tag_names(),
                    )
                    messages.success(request, _("Account saved."))
                return redirect("web:account_detail", pk=account.pk)
            except ValidationError as exc:
                apply_errors(form, exc)
            except (ApplicationError, PermissionDeniedError, ConflictError) as exc:
                form.add_error(None, exc.message)
                similar = exc.extra.get("similar", [])
                if similar and "confirm_duplicate" in form.fields:
                    form.fields["confirm_duplicate"].widget = forms.CheckboxInput()
        return TemplateResponse(
            request,
            self.template_name,
            {"form": form, "account": account, "similar": similar},
            status=400,
        )


# --- contacts ----------------------------------------------------------------------------------


class ContactDetailView(PageView):
    template_name = "web/accounts/contact_detail.html"

    def get_context(self, *, pk: int, **kwargs) -> dict:
        actor = self.request.user
        contact = _get_or_404(selectors.contact_get, actor=actor, pk=pk)
        personal = None
        may_see = selectors.may_see_personal_data(actor=actor, contact=contact)
        if may_see:
            details, dates = services.personal_details_get(
                actor=actor, contact=contact, channel="web"
            )
            personal = {"details": details, "dates": dates}
        log = None
        if actor.has_role("administrator"):
            log = list(selectors.personal_data_log(actor=actor, contact=contact)[:20])
        group_root = f"/{contact.account.path.split('/')[1]}/"
        linked = {link.account_id for link in contact.memberships.all()} | {contact.account_id}
        group_accounts = [
            a
            for a in selectors.account_list(actor=actor).filter(path__startswith=group_root)
            if a.pk not in linked
        ]
        return {
            "contact": contact,
            "group_accounts": group_accounts,
            "buying_roles": BuyingRole.choices,
            "personal": personal,
            "may_see_personal": may_see,
            "access_log": log,
            "can_change": user_can(actor, "change", contact),
            **_contact_engagement(actor, contact),
        }


def _style_matrix(actor, contacts):
    """The 2×2 style matrix (风格矩阵) of the account's people, for staff (one query)."""
    if not contacts or actor.is_portal_user:
        return None
    from keycare.engagement.selectors.programme import style_matrix

    return style_matrix(contacts=contacts)


def _contact_engagement(actor, contact) -> dict:
    """How to deal with them and their recent activities (the engagement box)."""
    from .engagement_activities import contact_engagement

    return contact_engagement(actor, contact)


class ContactFormView(PageView):
    template_name = "web/accounts/contact_form.html"

    def _load(self, request, pk, account_pk):
        contact = None
        if pk is not None:
            contact = _get_or_404(selectors.contact_get, actor=request.user, pk=pk)
            if not user_can(request.user, "change", contact):
                raise Http404
            account = contact.account
        else:
            account = _get_or_404(selectors.account_get, actor=request.user, pk=account_pk)
            if not user_can(request.user, "change", account):
                raise Http404
        return contact, account

    def get(self, request, pk=None, account_pk=None):
        contact, account = self._load(request, pk, account_pk)
        form = ContactForm(instance=contact, actor=request.user, account=account)
        return TemplateResponse(
            request, self.template_name, {"form": form, "contact": contact, "account": account}
        )

    def post(self, request, pk=None, account_pk=None):
        contact, account = self._load(request, pk, account_pk)
        form = ContactForm(
            request.POST,
            instance=contact or Contact(account=account),
            actor=request.user,
            account=account,
        )
        if form.is_valid():
            try:
                if contact is None:
                    contact = services.contact_create(
                        actor=request.user, account=account, **form.service_data()
                    )
                    messages.success(request, _("Contact created."))
                else:
                    services.contact_update(
                        actor=request.user,
                        contact=contact,
                        data=form.service_data(),
                        expected_version=form.cleaned_data.get("version"),
                    )
                    messages.success(request, _("Contact saved."))
                return redirect("web:contact_detail", pk=contact.pk)
            except ValidationError as exc:
                apply_errors(form, exc)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
        return TemplateResponse(
            request,
            self.template_name,
            {"form": form, "contact": contact, "account": account},
            status=400,
        )


class PersonalDetailsFormView(PageView):
    template_name = "web/accounts/personal_form.html"

    def _contact(self, request, pk):
        contact = _get_or_404(selectors.contact_get, actor=request.user, pk=pk)
        if not selectors.may_see_personal_data(actor=request.user, contact=contact):
            raise Http404
        return contact

    def get(self, request, pk):
        contact = self._contact(request, pk)
        details, dates = services.personal_details_get(
            actor=request.user, contact=contact, channel="web"
        )
        form = PersonalDetailsForm(instance=details or PersonalDetails(contact=contact))
        return TemplateResponse(
            request,
            self.template_name,
            {"form": form, "date_form": ImportantDateForm(), "contact": contact, "dates": dates},
        )

    def post(self, request, pk):
        contact = self._contact(request, pk)
        action = request.POST.get("action", "save")
        try:
            if action == "erase":
                services.personal_details_erase(actor=request.user, contact=contact, channel="web")
                messages.success(
                    request, _("Personal details erased. The business record is kept.")
                )
                return redirect("web:contact_detail", pk=contact.pk)
            if action == "add_date":
                date_form = ImportantDateForm(request.POST)
                if date_form.is_valid():
                    services.important_date_add(
                        actor=request.user, contact=contact, **date_form.cleaned_data
                    )
                    messages.success(request, _("Date added."))
                    return redirect("web:contact_personal", pk=contact.pk)
                details, dates = services.personal_details_get(actor=request.user, contact=contact)
                form = PersonalDetailsForm(instance=details or PersonalDetails(contact=contact))
                return TemplateResponse(
                    request,
                    self.template_name,
                    {"form": form, "date_form": date_form, "contact": contact, "dates": dates},
                    status=400,
                )
            if action == "remove_date":
                item = next(
                    (
                        d
                        for d in contact.important_dates.all()
                        if str(d.pk) == request.POST.get("date_id")
                    ),
                    None,
                )
                if item is not None:
                    services.important_date_remove(actor=request.user, item=item)
                return redirect("web:contact_personal", pk=contact.pk)
            form = PersonalDetailsForm(request.POST)
            if form.is_valid():
                services.personal_details_update(
                    actor=request.user, contact=contact, data=form.cleaned_data
                )
                messages.success(request, _("Personal details saved."))
                return redirect("web:contact_detail", pk=contact.pk)
        except ValidationError as exc:
            form = PersonalDetailsForm(request.POST)
            form.is_valid()
            apply_errors(form, exc)
        except PermissionDeniedError:
            raise Http404 from None
        details, dates = services.personal_details_get(actor=request.user, contact=contact)
        return TemplateResponse(
            request,
            self.template_name,
            {"form": form, "date_form": ImportantDateForm(), "contact": contact, "dates": dates},
            status=400,
        )


class ContactMembershipView(PageView):
    """Add a contact to another account of the group (or change their role there), or remove
    them from it."""

    http_method_names = ["post"]  # a GET is a 405, not an error page

    def post(self, request, pk):
        contact = _get_or_404(selectors.contact_get, actor=request.user, pk=pk)
        account = (
            selectors.account_list(actor=request.user)
            .filter(pk=request.POST.get("account") or 0)
            .first()
        )
        if account is None:
            raise Http404
        try:
            if request.POST.get("action") == "remove":
                link = contact.memberships.filter(account=account).first()
                if link is not None:
                    services.contact_membership_remove(actor=request.user, link=link)
            else:
                services.contact_membership_set(
                    actor=request.user, contact=contact, account=account,
                    buying_role=request.POST.get("buying_role", "unknown"),
                )  # fmt: skip
            messages.success(request, _("Contact saved."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except PermissionDeniedError as exc:
            messages.error(request, exc.message)
        return redirect("web:contact_detail", pk=contact.pk)


# --- orders ------------------------------------------------------------------------------------


class OrderDetailView(PageView):
    template_name = "web/accounts/order_detail.html"

    def get_context(self, *, pk: int, **kwargs) -> dict:
        return {"order": _get_or_404(selectors.order_get, actor=self.request.user, pk=pk)}
