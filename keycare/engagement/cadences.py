"""Playbook cadences: for each account, each item of its playbook (who of ours meets whom of
theirs, with which kind of activity, every how many days), when it was last done, when it
is due and by how many days it is overdue, and who is responsible for it.

An item is done by a done activity of its kind at the account with one of their people in
its role there (`their_role`; blank: any key person, i.e. a known buying role). An
executive visit is done by executive contact only (`executive_took_part`: a done activity
with at least one of their people, an executive taking part as owner or participant — a
user with the executive role, or the account's executive sponsor; of any kind) — the
executive contact of the executive sponsor programme (高层互动).

Set-based: `cadence_statuses` reads the playbooks, the last done activities grouped by
account, kind and role, the executives' last activities and the account teams in a fixed
number of queries, whatever the number of accounts. The reminders tick reads it too."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, F, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.models import Account, AccountTeamMember
from keycare.users.choices import Role
from keycare.users.models import User

from .calculations import KEY_ROLES, cadence_due
from .choices import ActivityKind, ActivityStatus
from .models import Activity, PlaybookItem
from .playbooks import active_playbooks, pick_playbook


@dataclass
class CadenceStatus:
    """One playbook item at one account: last done, due on (never done: due today),
    days overdue (0 when due today or later) and the users responsible (the account team
    members in the item's `our_role`; for the key account manager also the account owner)."""

    account_id: int
    item: PlaybookItem
    last_done_at: dt.datetime | None
    due_on: dt.date
    overdue_days: int
    responsible_user_ids: list[int]

    @property
    def is_overdue(self) -> bool:
        return self.overdue_days > 0

    @property
    def never_done(self) -> bool:
        return self.last_done_at is None

    def due_within(self, today: dt.date, days: int) -> bool:
        """Due at the latest `days` after today (overdue ones included)."""
        return self.due_on <= today + dt.timedelta(days=days)


#: A meeting with them counts as met face to face in any of these (a needs discovery, a site
#: visit, an executive visit or a business activity with the same person is a meeting too);
#: a call is also done by meeting them. Any other cadence is done by its own kind only.
FACE_TO_FACE = frozenset({
    ActivityKind.MEETING, ActivityKind.DISCOVERY, ActivityKind.EXECUTIVE_VISIT,
    ActivityKind.SITE_VISIT, ActivityKind.BUSINESS_ACTIVITY,
})  # fmt: skip
SATISFIED_BY = {
    ActivityKind.MEETING: FACE_TO_FACE,
    ActivityKind.CALL: FACE_TO_FACE | {ActivityKind.CALL},
}


def satisfied_by(kind: str) -> frozenset[str]:
    """The activity kinds that do a cadence of this kind."""
    return frozenset(SATISFIED_BY.get(kind, {kind}))


def _last_done_by_role(account_ids: list[int], kinds: set[str]) -> dict[tuple, dt.datetime]:
    """{(account id, kind, their role): the last done_at} over the done activities of these
    kinds, each contact met counted in their role at the activity's account (their main
    account's role, else their membership's). Two grouped queries."""
    through = Activity.contacts.through.objects.filter(
        activity__account_id__in=account_ids,
        activity__status=ActivityStatus.DONE,
        activity__kind__in=sorted(kinds),
    )
    main = (
        through.filter(contact__account_id=F("activity__account_id"))
        .values(account=F("activity__account_id"), kind=F("activity__kind"),
                role=F("contact__buying_role"))
        .annotate(last=Max("activity__done_at"))
        .order_by()
    )  # fmt: skip
    member = (
        through.exclude(contact__account_id=F("activity__account_id"))
        .filter(contact__memberships__account_id=F("activity__account_id"))
        .values(account=F("activity__account_id"), kind=F("activity__kind"),
                role=F("contact__memberships__buying_role"))
        .annotate(last=Max("activity__done_at"))
        .order_by()
    )  # fmt: skip
    last: dict[tuple, dt.datetime] = {}
    for row in [*main, *member]:
        key = (row["account"], row["kind"], row["role"])
        if row["last"] is not None and (key not in last or row["last"] > last[key]):
            last[key] = row["last"]
    return last


def executive_took_part() -> Q:
    """Executive contact (高层互动): a done activity with at least one of the customer's
    people, an executive taking part as owner or participant — a user with the executive
    role, or the activity's account's executive sponsor. Its kind does not matter: an
    "executive visit" no executive went to is no executive contact, nor an email with no
    customer contact."""
    executives = User.objects.filter(groups__name=Role.EXECUTIVE).values("pk")
    participants = Activity.participants.through.objects.filter(activity_id=OuterRef("pk"))
    customer = Activity.contacts.through.objects.filter(activity_id=OuterRef("pk"))
    sponsors = AccountTeamMember.objects.filter(
        account_id=OuterRef("account_id"), role=AccountTeamRole.EXECUTIVE_SPONSOR
    )
    executive = (
        Q(owner__in=executives)
        | Q(Exists(participants.filter(user__in=executives)))
        | Q(Exists(sponsors.filter(user_id=OuterRef("owner_id"))))
        | Q(Exists(participants.filter(
            user__account_memberships__account_id=OuterRef("account_id"),
            user__account_memberships__role=AccountTeamRole.EXECUTIVE_SPONSOR,
        )))
    )  # fmt: skip
    return Q(status=ActivityStatus.DONE) & Q(Exists(customer)) & executive


def last_executive_contact(account_ids: list[int]) -> dict[int, dt.datetime]:
    """{account id: the last executive contact there}. One grouped query."""
    rows = (
        Activity.objects.filter(account_id__in=account_ids)
        .filter(executive_took_part())
        .values("account_id")
        .annotate(last=Max("done_at"))
        .order_by()
    )
    return {r["account_id"]: r["last"] for r in rows if r["last"] is not None}


def _latest(*values: dt.datetime | None) -> dt.datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def cadence_statuses(*, accounts: Iterable[Account], today: dt.date) -> list[CadenceStatus]:
    """Each account's playbook items (its most specific active playbook) with when each was
    last done, when it is due, the days overdue and who is responsible; in the order of
    `accounts`, then of the items. Six queries for any number of accounts (none for none):
    the playbooks and their items, the last done activities by role (two), the executives'
    last activities and the account teams."""
    accounts = list(accounts)
    if not accounts:
        return []
    playbooks = active_playbooks()
    chosen = {
        a.pk: pick_playbook(playbooks, account_type=a.account_type or "", tier=a.tier or "")
        for a in accounts
    }
    ids = sorted({a.pk for a in accounts})
    kinds = {k for p in playbooks for item in p.items.all() for k in satisfied_by(item.kind)}
    last_by_role = _last_done_by_role(ids, kinds)
    last_executive = last_executive_contact(ids)
    team: dict[tuple[int, str], set[int]] = defaultdict(set)
    for account_id, role, user_id in AccountTeamMember.objects.filter(
        account_id__in=ids, user__is_active=True
    ).values_list("account_id", "role", "user_id"):
        team[(account_id, role)].add(user_id)

    statuses = []
    for account in accounts:
        playbook = chosen[account.pk]
        if playbook is None:
            continue
        for item in playbook.items.all():
            roles = (item.their_role,) if item.their_role else KEY_ROLES
            if item.kind == ActivityKind.EXECUTIVE_VISIT:
                # done by executive contact only (whatever the activity's kind)
                last = last_executive.get(account.pk)
            else:
                last = _latest(*(last_by_role.get((account.pk, kind, r))
                                 for kind in satisfied_by(item.kind) for r in roles))  # fmt: skip
            due_on, overdue = cadence_due(
                last_done_on=timezone.localtime(last).date() if last else None,
                every_days=item.every_days,
                today=today,
            )
            responsible = set(team.get((account.pk, item.our_role), ()))
            if item.our_role == AccountTeamRole.KEY_ACCOUNT_MANAGER and account.owner_id:
                responsible.add(account.owner_id)
            statuses.append(CadenceStatus(
                account_id=account.pk, item=item, last_done_at=last, due_on=due_on,
                overdue_days=overdue, responsible_user_ids=sorted(responsible),
            ))  # fmt: skip
    return statuses


def cadence_reason(status: CadenceStatus, today: dt.date) -> str:
    """Why the cadence asks for an activity now, in the reader's language."""
    every = ngettext("every %(n)d day", "every %(n)d days", status.item.every_days) % {
        "n": status.item.every_days
    }
    if status.never_done:
        return _("%(title)s (%(every)s): never done.") % {
            "title": status.item.title_text, "every": every,
        }  # fmt: skip
    values = {
        "title": status.item.title_text,
        "every": every,
        "last": timezone.localtime(status.last_done_at).date().isoformat(),
        "due": status.due_on.isoformat(),
        "n": status.overdue_days,
    }
    if status.is_overdue:
        return (
            ngettext(
                "%(title)s (%(every)s): last done %(last)s, due %(due)s, %(n)d day overdue.",
                "%(title)s (%(every)s): last done %(last)s, due %(due)s, %(n)d days overdue.",
                status.overdue_days,
            )
            % values
        )
    if status.due_on == today:
        return _("%(title)s (%(every)s): last done %(last)s, due today.") % values
    return _("%(title)s (%(every)s): last done %(last)s, due %(due)s.") % values
