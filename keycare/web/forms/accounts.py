"""Forms of the accounts area: they shape input only; services validate and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from keycare.accounts.models import Account, Contact, PersonalDetails
from keycare.core.scoping import restrict
from keycare.users.choices import STAFF_ROLES
from keycare.users.models import User


class AccountForm(forms.ModelForm):
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with commas.")
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    confirm_duplicate = forms.BooleanField(
        label=_("Create it anyway: it is a different company"), required=False
    )

    class Meta:
        model = Account
        fields = [
            "name",
            "name_en",
            "short_name",
            "credit_code",
            "parent",
            "industry",
            "province",
            "city",
            "address",
            "website",
            "status",
            "tier",
            "account_type",
            "owner",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = restrict(Account.objects.all(), actor, "view").order_by(
            "name"
        )
        self.fields["owner"].queryset = (
            User.objects.filter(is_active=True, groups__name__in=list(STAFF_ROLES))
            .distinct()
            .order_by("username")
        )
        if self.instance.pk:
            self.fields["tags"].initial = ", ".join(t.name for t in self.instance.tags.all())
            self.fields["version"].initial = self.instance.version
            del self.fields["confirm_duplicate"]
        else:
            self.fields["confirm_duplicate"].widget = forms.HiddenInput()

    def _post_clean(self):
        """Model validation belongs to the service; the form only parses the input."""

    def tag_names(self) -> list[str]:
        return [
            t.strip()
            for t in self.cleaned_data.get("tags", "").replace("，", ",").split(",")
            if t.strip()
        ]

    def service_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k in self.Meta.fields}
        for key in (
            "credit_code",
            "name_en",
            "short_name",
            "industry",
            "province",
            "city",
            "address",
            "website",
            "tier",
            "account_type",
            "notes",
        ):
            data[key] = data.get(key) or ""
        return data


class ContactForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Contact
        fields = [
            "name",
            "title",
            "department",
            "mobile",
            "email",
            "wechat_id",
            "buying_role",
            "decision_style",
            "influence",
            "relationship",
            "reports_to",
            "introduced_by_contact",
            "introduced_by_user",
            "portal_sees_branches",
            "is_active",
        ]

    def __init__(self, *args, actor: User, account: Account, **kwargs):
        super().__init__(*args, **kwargs)
        colleagues = restrict(Contact.objects.filter(account=account), actor, "view").order_by(
            "name"
        )
        if self.instance.pk:
            colleagues = colleagues.exclude(pk=self.instance.pk)
            self.fields["version"].initial = self.instance.version
        self.fields["reports_to"].queryset = colleagues
        group_root = f"/{account.path.split('/')[1]}/"  # people anywhere in the same group
        self.fields["introduced_by_contact"].queryset = (
            restrict(Contact.objects.all(), actor, "view")
            .filter(account__path__startswith=group_root)
            .order_by("name")
        )
        self.fields["introduced_by_user"].queryset = (
            User.objects.filter(is_active=True, groups__name__in=list(STAFF_ROLES))
            .distinct()
            .order_by("username")
        )

    def _post_clean(self):
        pass

    def service_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k in self.Meta.fields}
        for key in ("title", "department", "mobile", "email", "wechat_id"):
            data[key] = data.get(key) or ""
        return data


class PersonalDetailsForm(forms.ModelForm):
    class Meta:
        model = PersonalDetails
        fields = ["birthday", "preferences", "family", "hobbies"]
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}),
            "preferences": forms.Textarea(attrs={"rows": 2}),
            "family": forms.Textarea(attrs={"rows": 2}),
            "hobbies": forms.Textarea(attrs={"rows": 2}),
        }

    def _post_clean(self):
        pass


class ImportantDateForm(forms.Form):
    label = forms.CharField(label=_("Occasion"), max_length=100)
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    yearly = forms.BooleanField(label=_("Every year"), required=False, initial=True)
    remind_days_before = forms.IntegerField(
        label=_("Remind days before"), min_value=0, max_value=90, initial=7
    )


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("The file contains"))
    file = forms.FileField(label=_("CSV or Excel file (.csv, .xlsx)"))
    dry_run = forms.BooleanField(
        label=_("Dry run: check the file and show what would change, without changing anything"),
        required=False,
        initial=True,
    )

    def __init__(self, *args, **kwargs):
        from keycare.dataio.models import ImportKind

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = ImportKind.choices
