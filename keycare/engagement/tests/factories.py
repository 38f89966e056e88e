"""Factories of the engagement records, built through the services (so what they store is
what the application would store). Each helper adds its own classes; none rewrites
another's."""

import datetime as dt

import factory
from django.utils import timezone

from keycare.accounts.tests.factories import AccountFactory
from keycare.engagement.choices import ActivityKind
from keycare.engagement.models import Activity, Pain, ReferenceCustomer
from keycare.users.choices import Role
from keycare.users.tests.factories import UserFactory

# --- activities, pains, reference customers (slice V1) -------------------------------------


def _tomorrow_ten():
    day = timezone.localdate() + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


class ActivityFactory(factory.django.DjangoModelFactory):
    """A planned meeting tomorrow at 10:00, owned by an administrator unless an owner is
    given (the owner must see the account)."""

    class Meta:
        model = Activity

    account = factory.SubFactory(AccountFactory)
    kind = ActivityKind.MEETING
    subject = factory.Sequence(lambda n: f"拜访{n}")
    planned_at = factory.LazyFunction(_tomorrow_ten)

    @classmethod
    def _create(cls, model_class, *args, owner=None, **kwargs):
        from keycare.engagement.services.activities import activity_create

        if owner is None:
            owner = UserFactory(roles=[Role.ADMINISTRATOR])
        return activity_create(actor=None, owner=owner, **kwargs)


class PainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pain

    account = factory.SubFactory(AccountFactory)
    title = factory.Sequence(lambda n: f"停机损失{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from keycare.engagement.services.pains import pain_create

        return pain_create(actor=None, **kwargs)


class ReferenceCustomerFactory(factory.django.DjangoModelFactory):
    """A reference customer that consented and is available."""

    class Meta:
        model = ReferenceCustomer

    account = factory.SubFactory(AccountFactory)
    consent = True
    available = True

    @classmethod
    def _create(cls, model_class, *args, account, **kwargs):
        from keycare.engagement.services.programme import reference_customer_set

        return reference_customer_set(actor=None, account=account, data=kwargs)


# --- business events, gifts, VIP club (slice V3) -------------------------------------------


def _next_week_nine():
    day = timezone.localdate() + dt.timedelta(days=7)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))


class BusinessEventFactory(factory.django.DjangoModelFactory):
    """A planned customer meeting next week, 09:00 to 17:00, organised by an administrator
    unless an organiser is given."""

    class Meta:
        model = "engagement.BusinessEvent"

    name = factory.Sequence(lambda n: f"客户交流会{n}")
    kind = "customer_meeting"
    starts_at = factory.LazyFunction(_next_week_nine)
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(hours=8))

    @classmethod
    def _create(cls, model_class, *args, organiser=None, **kwargs):
        from keycare.engagement.services.events import event_create

        if organiser is None:
            organiser = UserFactory(username="event-organiser", roles=[Role.ADMINISTRATOR])
        return event_create(actor=organiser, data={"organiser": organiser, **kwargs})


class VipMemberFactory(factory.django.DjangoModelFactory):
    """A member for the contact's main account (its tier must give a level, or pass
    `level_override` with `override_reason`)."""

    class Meta:
        model = "engagement.VipMember"

    @classmethod
    def _create(cls, model_class, *args, contact, actor=None, **kwargs):
        from keycare.engagement.services.vip import vip_member_add

        if actor is None:
            actor = UserFactory(username="vip-admin", roles=[Role.ADMINISTRATOR])
        return vip_member_add(actor=actor, contact=contact, **kwargs)


class GiftFactory(factory.django.DjangoModelFactory):
    """A gift recorded today by an administrator unless an actor is given."""

    class Meta:
        model = "engagement.Gift"

    value = "500.00"
    occasion = "春节"
    description = "茶叶礼盒"
    given_on = factory.LazyFunction(timezone.localdate)

    @classmethod
    def _create(cls, model_class, *args, contact, actor=None, **kwargs):
        from keycare.engagement.services.gifts import gift_record

        if actor is None:
            actor = UserFactory(username="gift-admin", roles=[Role.ADMINISTRATOR])
        return gift_record(actor=actor, contact=contact, **kwargs)


# --- playbooks (slice V2) ------------------------------------------------------------------


class PlaybookFactory(factory.django.DjangoModelFactory):
    """A playbook for a type and tier (blank: any) with the items given as dicts (`items`),
    created by the system through the playbook service."""

    class Meta:
        model = "engagement.Playbook"

    account_type = ""
    tier = ""
    name = factory.Sequence(lambda n: f"Playbook {n}")
    name_zh = factory.Sequence(lambda n: f"打法{n}")

    @classmethod
    def _create(cls, model_class, *args, items=(), **kwargs):
        from keycare.engagement.playbooks import playbook_create

        return playbook_create(actor=None, data=kwargs, items=items)


class PlaybookItemFactory(factory.django.DjangoModelFactory):
    """A cadence of a playbook: the key account manager meets a decision maker every 30
    days unless told otherwise."""

    class Meta:
        model = "engagement.PlaybookItem"

    playbook = factory.SubFactory(PlaybookFactory)
    kind = ActivityKind.MEETING
    our_role = "key_account_manager"
    their_role = "decision_maker"
    every_days = 30
    title = factory.Sequence(lambda n: f"Cadence {n}")
    title_zh = factory.Sequence(lambda n: f"节奏{n}")

    @classmethod
    def _create(cls, model_class, *args, playbook, **kwargs):
        from keycare.engagement.playbooks import playbook_item_add

        version = type(playbook).objects.get(pk=playbook.pk).lock_version  # the one read
        return playbook_item_add(actor=None, playbook=playbook, data=kwargs, lock_version=version)


# --- reminders (slice V4) ------------------------------------------------------------------


class ReminderFactory(factory.django.DjangoModelFactory):
    """A reminder of a dormant relationship for a key account manager (a plain row: the
    tick records reminders set-based; this stands for one it recorded, already sent)."""

    class Meta:
        model = "engagement.Reminder"

    user = factory.SubFactory(UserFactory, roles=[Role.KEY_ACCOUNT_MANAGER])
    kind = "dormant_relationship"
    account = factory.SubFactory(AccountFactory)
    key = factory.Sequence(lambda n: f"dormant:test:{n}")
    params = factory.LazyFunction(lambda: {"last_touch": None, "days": 180})
    link = factory.LazyAttribute(lambda r: f"/accounts/{r.account.pk}/" if r.account else "/")
    sent_at = factory.LazyFunction(timezone.now)
