"""NPS surveys (净推荐值): a one-time, expiring link asking a contact "how likely are you to
recommend us" (0–10) and a comment. A contact is asked at most once per
KEYCARE_NPS_INTERVAL_MONTHS: by hand (one contact, or every eligible contact of an account) or
by the daily schedule. The figures are aggregated in SQL, a group with its branches."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from keycare.accounts.lock_objects import contact_qs_select_for_update
from keycare.accounts.models import Account, Contact, ContactAccount, Order
from keycare.accounts.services.equipment import add_months
from keycare.core.background import enqueue_on_commit
from keycare.core.exceptions import ApplicationError, PermissionDeniedError
from keycare.core.figures import account_figures_changed
from keycare.core.filtering import filter_queryset
from keycare.core.scoping import restrict, scope_filter
from keycare.core.tokens import token_hash, token_new
from keycare.users.models import User

from .calculations import NPS_DETRACTOR_MAX, NPS_PROMOTER_MIN, nps_from_counts
from .filters import NpsSurveyFilterSet
from .models import NpsSurvey, Ticket

#: Surveys the schedule sends per run at most (it runs every minute until none is due).
SCHEDULE_BATCH = 100
#: Local hours in which the schedule mails customers (not in the middle of the night).
SCHEDULE_HOURS = range(9, 18)


def nps_interval_start(now: dt.datetime | None = None) -> dt.datetime:
    """KEYCARE_NPS_INTERVAL_MONTHS calendar months before `now` (local time)."""
    local = timezone.localtime(now or timezone.now())
    day = add_months(local.date(), -settings.KEYCARE_NPS_INTERVAL_MONTHS)
    return local.replace(year=day.year, month=day.month, day=day.day)


# --- who may send -----------------------------------------------------------------------------


def _on_account(q: Q) -> Q:
    """The survey rule's Q speaks of the survey's account (`account__owner=…`, `account__in=…`);
    the same condition on the Account itself. Anything else fails closed."""
    children = []
    for child in q.children:
        if isinstance(child, Q):
            children.append(_on_account(child))
            continue
        lookup, value = child
        head, _sep, rest = lookup.partition("__")
        if head == "account_id" and not rest:
            children.append(("pk", value))
        elif head != "account":
            raise ImproperlyConfigured(f"NPS send rule: cannot evaluate {lookup!r} on an account")
        elif not rest:
            children.append(("pk", value))
        else:
            try:
                Account._meta.get_field(rest.split("__")[0])
                children.append((rest, value))
            except FieldDoesNotExist:  # a lookup on the account itself: account__in=…
                children.append((f"pk__{rest}", value))
    return Q(*children, _connector=q.connector, _negated=q.negated)


def nps_survey_may_send(*, actor: User, account: Account) -> bool:
    """Whether the actor may survey this account's contacts (the NpsSurvey "add" rule, checked
    before any survey exists)."""
    verdict = scope_filter(NpsSurvey, actor, "add")
    if isinstance(verdict, bool):
        return verdict
    return Account.objects.filter(_on_account(verdict), pk=account.pk).exists()


def _require_send(*, actor: User, account: Account) -> None:
    if not nps_survey_may_send(actor=actor, account=account):
        raise PermissionDeniedError(
            _("You do not have permission to do this."), extra={"code": "permission_denied"}
        )


# --- sending ----------------------------------------------------------------------------------


def _account_contacts(account: Account) -> QuerySet[Contact]:
    """Contacts of the account: their main account, or a further one (ContactAccount)."""
    members = ContactAccount.objects.filter(account=account).values("contact_id")
    return Contact.objects.filter(Q(account=account) | Q(pk__in=members))


def _recent_surveys(since: dt.datetime) -> QuerySet[NpsSurvey]:
    return NpsSurvey.objects.filter(contact=OuterRef("pk"), sent_at__gt=since)


def _new_survey(*, account: Account, contact: Contact, sent_by: User | None, now: dt.datetime):
    token = token_new()
    survey = NpsSurvey(
        account=account, contact=contact, token_hash=token_hash(token), email=contact.email,
        sent_at=now, expires_at=now + dt.timedelta(days=settings.KEYCARE_NPS_LINK_DAYS),
        sent_by=sent_by,
    )  # fmt: skip
    return survey, token


def _mail_after_commit(survey: NpsSurvey, token: str) -> None:
    from .tasks import send_nps_survey_task

    enqueue_on_commit(send_nps_survey_task, survey.pk, token)


@transaction.atomic
def _survey_create(
    *, account: Account, contact: Contact, sent_by: User | None, now: dt.datetime
) -> tuple[NpsSurvey, str]:
    # lock the contact so two sends at once (a double click, the schedule) survey them once
    contact = contact_qs_select_for_update().get(pk=contact.pk)
    if not _account_contacts(account).filter(pk=contact.pk).exists():
        raise ApplicationError(
            _("%(contact)s is not a contact of %(account)s.")
            % {"contact": contact.name, "account": account.name},
            extra={"code": "contact_not_at_account"},
        )
    if not contact.is_active:
        raise ApplicationError(
            _("%(contact)s has left the company: no survey is sent.") % {"contact": contact.name},
            extra={"code": "contact_inactive"},
        )
    if not contact.email:
        raise ApplicationError(
            _("%(contact)s has no email address: no survey can be sent.")
            % {"contact": contact.name},
            extra={"code": "no_email"},
        )
    last = (
        NpsSurvey.objects.filter(contact=contact, sent_at__gt=nps_interval_start(now))
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
    if last is not None:
        params = {"contact": contact.name, "date": timezone.localdate(last),
                  "months": settings.KEYCARE_NPS_INTERVAL_MONTHS}  # fmt: skip
        raise ApplicationError(
            _(
                "%(contact)s was already surveyed on %(date)s; a contact is surveyed at most "
                "once every %(months)d months."
            )
            % params,
            extra={"code": "recently_surveyed"},
        )
    survey, token = _new_survey(account=account, contact=contact, sent_by=sent_by, now=now)
    survey.full_clean()
    survey.save()
    _mail_after_commit(survey, token)
    return survey, token


@transaction.atomic
def nps_survey_send(
    *, actor: User, account: Account, contact: Contact, now: dt.datetime | None = None
) -> tuple[NpsSurvey, str]:
    """Survey one contact of the account and mail the one-time link after commit. Returns
    the survey and the plain token (only ever sent in the mail)."""
    _require_send(actor=actor, account=account)
    return _survey_create(
        account=account, contact=contact, sent_by=actor, now=now or timezone.now()
    )


@transaction.atomic
def nps_surveys_send_for_account(
    *, actor: User, account: Account, now: dt.datetime | None = None
) -> int:
    """Survey every eligible contact of the account (active, with an email, not surveyed in
    the interval); the others are skipped. Returns how many were sent."""
    _require_send(actor=actor, account=account)
    now = now or timezone.now()
    candidates = (
        _account_contacts(account)
        .filter(is_active=True)
        .exclude(email="")
        .filter(~Exists(_recent_surveys(nps_interval_start(now))))
        .order_by("pk")
    )
    sent = 0
    for contact in candidates:
        try:
            _survey_create(account=account, contact=contact, sent_by=actor, now=now)
        except ApplicationError:  # surveyed meanwhile by someone else: skip
            continue
        sent += 1
    return sent


# --- the schedule -----------------------------------------------------------------------------


def nps_surveys_due(*, now: dt.datetime | None = None) -> QuerySet[Contact]:
    """One query: active contacts with an email, not surveyed within the interval, whose main
    account (or, for a group, a branch under it) had a ticket resolved or an order in it, so
    prospects are not surveyed."""
    since = nps_interval_start(now)
    served = Account.objects.filter(
        Q(pk__in=Ticket.objects.filter(resolved_at__gte=since).values("account_id"))
        | Q(pk__in=Order.objects.filter(order_date__gte=since.date()).values("account_id"))
    )
    in_subtree = Exists(served.filter(path__startswith=OuterRef("account__path")))
    return (
        Contact.objects.filter(is_active=True)
        .exclude(email="")
        .filter(Q(account__in=served.values("pk")) | (in_subtree & ~Q(account__path="")))
        .filter(~Exists(_recent_surveys(since)))
        .order_by("pk")
    )


def nps_surveys_schedule(*, now: dt.datetime | None = None, batch: int = SCHEDULE_BATCH) -> int:
    """Survey up to `batch` due contacts (for their main account). Idempotent: a surveyed
    contact is no longer due, and concurrent runs skip each other's locked contacts."""
    now = now or timezone.now()
    since = nps_interval_start(now)
    with transaction.atomic():
        ids = list(nps_surveys_due(now=now).values_list("pk", flat=True)[:batch])
        if not ids:
            return 0
        locked = list(
            Contact.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(pk__in=ids)
            .values_list("pk", flat=True)
        )
        # re-read after locking: a run that committed meanwhile has surveyed some of them
        taken = set(
            NpsSurvey.objects.filter(contact_id__in=locked, sent_at__gt=since).values_list(
                "contact_id", flat=True
            )
        )
        contacts = Contact.objects.filter(pk__in=set(locked) - taken).select_related("account")
        pairs = [_new_survey(account=c.account, contact=c, sent_by=None, now=now) for c in contacts]
        NpsSurvey.objects.bulk_create([survey for survey, _token in pairs])
        for survey, token in pairs:
            _mail_after_commit(survey, token)
    return len(pairs)


def nps_surveys_tick(*, now: dt.datetime | None = None) -> str:
    """The periodic job: within office hours, survey the due contacts in batches; once nothing
    is due it rests until the next day (one cache read per minute)."""
    local = timezone.localtime(now or timezone.now())
    if local.hour not in SCHEDULE_HOURS:
        return "outside office hours"
    idle_key = f"keycare:nps:idle:{local.date().isoformat()}"
    if cache.get(idle_key):
        return "nothing due today"
    sent = nps_surveys_schedule(now=now)
    if sent < SCHEDULE_BATCH:
        cache.set(idle_key, True, timeout=24 * 3600)
    return f"{sent} NPS surveys sent"


# --- the mail and the public answer page ------------------------------------------------------


def nps_link(token: str) -> str:
    return settings.KEYCARE_BASE_URL.rstrip("/") + reverse("web:nps", args=[token])


def nps_survey_invitation_send(*, survey_id: int, token: str) -> bool:
    survey = (
        NpsSurvey.objects.select_related("account", "contact")
        .filter(pk=survey_id, responded_at__isnull=True)
        .first()
    )
    if survey is None:
        return False
    with translation.override("zh-hans"):
        subject = _("One question: would you recommend us?")
        body = _(
            "Dear %(name)s,\n\nHow likely are you to recommend us to a colleague or business "
            "partner? Please answer on a scale from 0 to 10, in one click: %(link)s\n\nThe link "
            "works once and expires in %(days)d days. Thank you for your time."
        ) % {"name": survey.contact.name if survey.contact_id else survey.email,
             "link": nps_link(token), "days": settings.KEYCARE_NPS_LINK_DAYS}  # fmt: skip
    send_mail(subject, body, None, [survey.email])
    return True


def _used_error() -> ApplicationError:
    return ApplicationError(
        _("Thank you: this survey has already been answered."), extra={"code": "used"}
    )


def nps_survey_get_open(*, token: str) -> NpsSurvey:
    """The open survey for this token; a clear error when it is unknown, used or expired."""
    survey = (
        NpsSurvey.objects.select_related("account").filter(token_hash=token_hash(token)).first()
    )
    if survey is None:
        raise ApplicationError(_("This link is not valid."), extra={"code": "invalid_link"})
    if survey.responded_at is not None:
        raise _used_error()
    if survey.expires_at < timezone.now():
        raise ApplicationError(_("This link has expired."), extra={"code": "expired"})
    return survey


@transaction.atomic
def nps_survey_answer(*, token: str, score: int, comment: str = "") -> NpsSurvey:
    """Record the answer once: the row is locked, so a double submit records one answer."""
    survey = nps_survey_get_open(token=token)
    survey = NpsSurvey.objects.select_for_update().get(pk=survey.pk)
    if survey.responded_at is not None:  # a second submit racing the first
        raise _used_error()
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise ApplicationError(_("Choose a score from 0 to 10."), extra={"code": "invalid_score"})
    survey.score, survey.comment = score, comment.strip()[:2000]
    survey.responded_at = timezone.now()
    survey.full_clean()
    survey.save(update_fields=["score", "comment", "responded_at"])
    account_figures_changed(account_ids=[survey.account_id])  # the account's NPS
    return survey


# --- reads ------------------------------------------------------------------------------------


def nps_survey_list(
    *, actor: User, filters: Mapping[str, Any] | None = None
) -> QuerySet[NpsSurvey]:
    qs = restrict(NpsSurvey.objects.all(), actor, "view")
    qs = filter_queryset(NpsSurveyFilterSet, filters, qs)
    return qs.select_related("account", "contact", "sent_by").order_by("-sent_at", "-id")


def nps_survey_get(*, actor: User, pk: int) -> NpsSurvey:
    return nps_survey_list(actor=actor).get(pk=pk)


def _bounds(value: dt.date | dt.datetime | None, *, end: bool = False) -> dt.datetime | None:
    """A date means the whole local day (`until` includes it); a datetime is taken as is."""
    if value is None or isinstance(value, dt.datetime):
        return value
    day = value + dt.timedelta(days=1) if end else value
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _in_group(qs: QuerySet[NpsSurvey], account: Account) -> QuerySet[NpsSurvey]:
    if account.path:
        return qs.filter(account__path__startswith=account.path)
    return qs.filter(account=account)


_ANSWERED = Q(score__isnull=False)
_BANDS = {
    "responses": _ANSWERED,
    "promoters": Q(score__gte=NPS_PROMOTER_MIN),
    "passives": Q(score__gt=NPS_DETRACTOR_MAX, score__lt=NPS_PROMOTER_MIN),
    "detractors": Q(score__lte=NPS_DETRACTOR_MAX),
}


def _band_counts(answered: Q = _ANSWERED) -> dict[str, Count]:
    return {name: Count("id", filter=answered & band) for name, band in _BANDS.items()}


def nps_summary(
    *,
    actor: User,
    account: Account | None = None,
    since: dt.date | dt.datetime | None = None,
    until: dt.date | dt.datetime | None = None,
) -> dict:
    """{"nps", "responses", "promoters", "passives", "detractors", "sent"} over the surveys the
    actor sees; with `account`, that account and every branch under it. Answers count by
    when they were given, `sent` by when the surveys went out (a date is a whole local day,
    `until` included). One query."""
    qs = restrict(NpsSurvey.objects.all(), actor, "view")
    if account is not None:
        qs = _in_group(qs, account)
    start, end = _bounds(since), _bounds(until, end=True)
    sent_q, answered_q = Q(), _ANSWERED
    if start is not None:
        sent_q &= Q(sent_at__gte=start)
        answered_q &= Q(responded_at__gte=start)
    if end is not None:
        sent_q &= Q(sent_at__lt=end)
        answered_q &= Q(responded_at__lt=end)
    if sent_q:  # a period: only the surveys sent or answered in it
        qs = qs.filter(sent_q | answered_q)
    figures = qs.aggregate(sent=Count("id", filter=sent_q or None), **_band_counts(answered_q))
    figures["nps"] = nps_from_counts(
        promoters=figures["promoters"], detractors=figures["detractors"],
        total=figures["responses"],
    )  # fmt: skip
    return figures


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def nps_trend(
    *, actor: User, months: int = 12, filters: Mapping[str, Any] | None = None
) -> list[dict]:
    """NPS by month of answer over the last `months` (the current one included), oldest
    first, a row for every month (nps None when nobody answered). `filters` are the survey
    list's (account, group, tier, …). One query."""
    first = _month_start(add_months(timezone.localdate(), -(months - 1)))
    qs = nps_survey_list(actor=actor, filters=filters).filter(
        _ANSWERED, responded_at__gte=_bounds(first)
    )
    rows = {
        _month_key(r["month"]): r
        for r in qs.annotate(month=TruncMonth("responded_at"))
        .values("month")
        .annotate(**_band_counts())
        .order_by("month")
    }
    trend = []
    for i in range(months):
        key = add_months(first, i).strftime("%Y-%m")
        r = rows.get(key, {"responses": 0, "promoters": 0, "passives": 0, "detractors": 0})
        trend.append({
            "month": key, "responses": r["responses"], "promoters": r["promoters"],
            "passives": r["passives"], "detractors": r["detractors"],
            "nps": nps_from_counts(promoters=r["promoters"], detractors=r["detractors"],
                                   total=r["responses"]),
        })  # fmt: skip
    return trend


def _month_key(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime("%Y-%m")
