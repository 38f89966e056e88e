from django import forms
from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from keycare.accounts.models import Account, Contact, Equipment
from keycare.core.scoping import restrict
from keycare.service.attachments import CONTENT_TYPES
from keycare.service.choices import Channel, Priority, RootCause, TicketType
from keycare.users.models import User


def _attachments_help() -> str:
    # evaluated when shown: in the user's language, with the limits as configured
    return gettext(
        "Up to %(files)d files of at most %(mb)d MB each: pictures, PDF, text, Word, Excel, "
        "PowerPoint, zip or mp4."
    ) % {"files": settings.KEYCARE_ATTACHMENT_MAX_FILES, "mb": settings.KEYCARE_ATTACHMENT_MAX_MB}


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files in one input. Only the count is checked here; size, type and content
    are checked by the service (keycare.service.attachments)."""

    def __init__(self, **kwargs):
        accept = ",".join(f".{extension}" for extension in CONTENT_TYPES)
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True, "accept": accept}))
        kwargs.setdefault("label", _("Attachments"))
        super().__init__(required=False, **kwargs)
        self.help_text = lazy(_attachments_help, str)()

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        files = [super(AttachmentsField, self).clean(one, initial) for one in files]
        files = [one for one in files if one]
        limit = settings.KEYCARE_ATTACHMENT_MAX_FILES
        if len(files) > limit:
            raise forms.ValidationError(
                _("Attach at most %(max)d files at a time.") % {"max": limit}
            )
        return files


class TicketForm(forms.Form):
    account = forms.ModelChoiceField(label=_("Account"), queryset=Account.objects.none())
    contact = forms.ModelChoiceField(
        label=_("Contact"), queryset=Contact.objects.none(), required=False
    )
    equipment = forms.ModelChoiceField(
        label=_("Equipment"), queryset=Equipment.objects.none(), required=False
    )
    ticket_type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.P3)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    file = AttachmentsField()

    def __init__(self, *args, actor: User, account: Account | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        accounts = restrict(Account.objects.all(), actor, "view").order_by("name")
        self.fields["account"].queryset = accounts
        chosen = account or self._chosen_account(accounts)
        if chosen is None and actor.is_portal_user:
            # a customer contact usually has one account: no need to pick it
            only = list(accounts[:2])
            chosen = only[0] if len(only) == 1 else None
        contacts = restrict(Contact.objects.all(), actor, "view")
        equipment = restrict(Equipment.objects.all(), actor, "view").select_related("product")
        if chosen is not None:
            self.fields["account"].initial = chosen.pk
            contacts = contacts.filter(account=chosen)
            equipment = equipment.filter(account=chosen)
        self.fields["contact"].queryset = contacts.order_by("name")
        self.fields["equipment"].queryset = equipment.order_by("serial_number")
        if actor.is_portal_user:
            for name in ("channel",):
                del self.fields[name]

    def _chosen_account(self, accounts):
        pk = self.data.get("account") or self.initial.get("account")
        return accounts.filter(pk=pk).first() if pk and str(pk).isdigit() else None


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    file = AttachmentsField()
    internal = forms.BooleanField(
        label=_("Internal note (not shown to the customer)"), required=False
    )

    def clean(self):
        data = super().clean()
        if (
            not (data.get("body") or "").strip()
            and not data.get("file")
            and "file" not in self.errors
        ):
            self.add_error("body", _("Write a message."))
        return data


class ResolveForm(forms.Form):
    resolution = forms.CharField(label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 3}))
    root_cause = forms.ChoiceField(
        label=_("Root cause"), choices=[("", "—"), *RootCause.choices], required=False
    )
