"""The private iCalendar (.ics) feed of each user: their planned activities (owned or taken
part in) from 30 days back to a year ahead, with the people they will meet and how to deal
with each (the style guidance), and their open next steps as all-day events on the day
they are due — so they appear in the user's own calendar app.

The feed's address holds a secret token (256 bits, `secrets.token_urlsafe`); only its
SHA-256 is stored, so the address is shown once, when it is created or reset, and a
reset makes the old one stop working. Looking a token up is a lookup by its digest (an
indexed equality on a hash, so no timing tells anything about a stored token). Personal
details (birthdays, family, preferences) never go into a feed."""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from keycare.core.exceptions import PermissionDeniedError
from keycare.core.scoping import restrict, user_can_any
from keycare.users.choices import STAFF_ROLES
from keycare.users.models import User

from .choices import ActivityStatus
from .filters import open_next_step_q
from .models import Activity, CalendarFeed
from .selectors.programme import style_guidance_all

PAST_DAYS, AHEAD_DAYS = 30, 365
#: How often the feed's "last read" time is written (a calendar app polls often).
LAST_USED_EVERY = dt.timedelta(hours=1)
TOKEN_MAX_LENGTH = 100


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_feed_create_or_reset(*, actor: User) -> str:
    """Create the actor's feed, or give it a new token (the old address stops working at
    once). Returns the new secret token: it is not stored and cannot be shown again."""
    if not user_can_any(actor, "add", CalendarFeed):
        raise PermissionDeniedError(
            _("You do not have permission to do this."), extra={"code": "permission_denied"}
        )
    token = secrets.token_urlsafe(32)
    feed, created = CalendarFeed.objects.select_for_update().get_or_create(
        user=actor, defaults={"token_digest": token_digest(token)}
    )
    if not created:
        feed.token_digest, feed.created_at, feed.last_used_at = (
            token_digest(token), timezone.now(), None)  # fmt: skip
        feed.save(update_fields=["token_digest", "created_at", "last_used_at"])
    from .log import log_event

    log_event(obj=feed, action="calendar_feed_created" if created else "calendar_feed_reset",
              actor=actor, account=None)  # fmt: skip
    return token


def calendar_feed_get(*, actor: User) -> CalendarFeed | None:
    """The actor's feed (without its token, which is not stored), if they have one."""
    return restrict(CalendarFeed.objects.filter(user=actor), actor, "view").first()


def calendar_feed_user(token: str | None) -> User | None:
    """The user whose feed this token opens, or None (no such token, a user who left or is
    no longer staff). Notes when the feed was last read, at most once an hour."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    feed = (
        CalendarFeed.objects.select_related("user").filter(token_digest=token_digest(token)).first()
    )
    if feed is None or not feed.user.is_active or not feed.user.has_role(*STAFF_ROLES):
        return None
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > LAST_USED_EVERY:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    return feed.user


def _url(path: str) -> str:
    return getattr(settings, "KEYCARE_BASE_URL", "").rstrip("/") + path


def _people(activity: Activity, guidance: dict) -> list[str]:
    lines = []
    for contact in activity.contacts.all():
        tip = guidance.get(contact.decision_style) or guidance.get("unknown")
        who = contact.name + (f" ({contact.title})" if contact.title else "")
        style = contact.get_decision_style_display()
        lines.append(f"- {who}: {style} – {tip.summary_text if tip else ''}".rstrip(" –"))
    return lines


def _description(activity: Activity, guidance: dict) -> str:
    parts = [f"{activity.get_kind_display()} · {activity.account}"]
    if activity.objective:
        parts += ["", _("Objective:"), activity.objective]
    people = _people(activity, guidance)
    if people:
        parts += ["", _("Their people and how to deal with them:"), *people]
    ours = [str(u) for u in activity.participants.all()]
    if ours:
        parts += ["", _("Our people:") + " " + ", ".join(ours)]
    if activity.itinerary:
        parts += ["", _("Itinerary:"), activity.itinerary]
    parts += ["", _url(f"/engagement/activities/{activity.pk}/")]
    return "\n".join(parts)


def calendar_ics(*, user: User, today: dt.date) -> bytes:
    """The user's feed as iCalendar bytes (UTF-8), in their language. Only what they see:
    their planned activities on the accounts they see, and their own open next steps."""
    language = user.language or settings.LANGUAGE_CODE
    with translation.override(language):
        return _ics(user=user, today=today)


def _ics(*, user: User, today: dt.date) -> bytes:
    tz = timezone.get_current_timezone()
    first = dt.datetime.combine(today - dt.timedelta(days=PAST_DAYS), dt.time.min, tzinfo=tz)
    last = dt.datetime.combine(today + dt.timedelta(days=AHEAD_DAYS + 1), dt.time.min, tzinfo=tz)
    seen = restrict(Activity.objects.all(), user, "view")
    takes_part = Activity.participants.through.objects.filter(activity=OuterRef("pk"), user=user)
    planned = (
        seen.filter(status=ActivityStatus.PLANNED, planned_at__gte=first, planned_at__lt=last)
        .filter(Q(owner=user) | Exists(takes_part))
        .select_related("account", "owner")
        .prefetch_related("contacts", "participants")
        .order_by("planned_at", "id")
    )
    due = (
        seen.filter(open_next_step_q(), owner=user,
                    next_step_due__gte=today - dt.timedelta(days=PAST_DAYS),
                    next_step_due__lte=today + dt.timedelta(days=AHEAD_DAYS))
        .select_related("account")
        .order_by("next_step_due", "id")
    )  # fmt: skip
    guidance = style_guidance_all()
    stamp = timezone.now().astimezone(dt.UTC).replace(microsecond=0)
    cal = Calendar()
    cal.add("prodid", "-//KeyCare//Engagement//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _("KeyCare: %(user)s") % {"user": user})
    for activity in planned:
        start = activity.planned_at.astimezone(dt.UTC)
        event = Event()
        event.add("uid", f"activity-{activity.pk}@keycare")
        event.add("dtstamp", stamp)
        event.add("last-modified", activity.updated_at.astimezone(dt.UTC).replace(microsecond=0))
        event.add("sequence", activity.version)
        event.add("summary", f"{activity.subject} · {activity.account}")
        event.add("dtstart", start)
        event.add("dtend", start + dt.timedelta(minutes=activity.duration_minutes or 60))
        event.add("description", _description(activity, guidance))
        if activity.location:
            event.add("location", activity.location)
        event.add("status", "CONFIRMED")
        event.add("url", _url(f"/engagement/activities/{activity.pk}/"))
        cal.add_component(event)
    for activity in due:
        event = Event()
        event.add("uid", f"next-step-{activity.pk}@keycare")
        event.add("dtstamp", stamp)
        event.add("summary", _("Next step: %(step)s · %(account)s")
                  % {"step": activity.next_step, "account": activity.account})  # fmt: skip
        event.add("dtstart", activity.next_step_due)
        event.add("dtend", activity.next_step_due + dt.timedelta(days=1))
        event.add("description", _("From: %(subject)s") % {"subject": activity.subject}
                  + "\n" + _url(f"/engagement/activities/{activity.pk}/"))  # fmt: skip
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()
