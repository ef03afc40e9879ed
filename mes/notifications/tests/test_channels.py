"""The channels, told with Camille, her son Louis and Bob: the in-app centre and e-mail by
default, SMS when chosen, letters for people with neither, security never off, never a health
detail outside the service, and each event delivered once per channel."""

from __future__ import annotations

from django.core import mail
from django.core.files.storage import default_storage
from django.urls import reverse

from mes.notifications import sms
from mes.notifications.channels.dispatch import dispatch_pending
from mes.notifications.channels.letters import print_letters
from mes.notifications.channels.many import Event, notify_many
from mes.notifications.channels.person import notify_through_channels
from mes.notifications.channels.preferences import preferences_set
from mes.notifications.channels.rules import links_to
from mes.notifications.models import Category, Delivery, Notification, PostalAddress

LABEL = "Le Dr Martin vous a ajouté le document « Compte rendu de coloscopie »"


def test_in_app_and_e_mail_by_default_without_health_detail(camille):
    n = notify_through_channels(
        profile=camille, code=Notification.Code.NEW_DOCUMENT, label=LABEL, key="evt-1"
    )
    assert n.label == LABEL  # the centre, inside the service, says what it is
    assert dispatch_pending() == 1
    email = mail.outbox[-1]
    assert email.to == ["camille@example.org"]
    assert "coloscopie" not in email.body + email.subject and "Martin" not in email.body
    assert camille.ins not in email.body
    # The same event again: nothing more, neither in the centre nor on the channels.
    again = notify_through_channels(
        profile=camille, code=Notification.Code.NEW_DOCUMENT, label=LABEL, key="evt-1"
    )
    assert again == n and Notification.objects.filter(key="evt-1").count() == 1
    assert Delivery.objects.count() == 1


def test_sms_when_chosen_and_e_mail_off(camille):
    camille.user.phone = "+33612345678"
    camille.user.save()
    preferences_set(
        citizen=camille, choices={Category.DOCUMENTS.value: {"email": False, "sms": True}}
    )
    sms.outbox.clear()
    notify_through_channels(profile=camille, code=Notification.Code.NEW_DOCUMENT, label=LABEL)
    dispatch_pending()
    assert sms.outbox == [
        (
            "+33612345678",
            "Mon espace santé : une nouvelle notification concerne votre profil. "
            "http://127.0.0.1:8000/",
        )
    ]
    assert not mail.outbox


def test_messages_written_in_a_links_to_block_lead_there(camille, louis, bob):
    """`mes demo --port` serves the portal elsewhere than MES_PORTAL_URL: the messages written
    meanwhile, one by one or in a batch, link to it; those written after, to the deployment's."""
    with links_to("http://127.0.0.1:8123/"):
        notify_through_channels(profile=camille, code=Notification.Code.NEW_DOCUMENT, label=LABEL)
        notify_many([Event(profile=bob, code=Notification.Code.NEW_DOCUMENT, label=LABEL, key="b")])
    during = list(Delivery.objects.order_by("pk").values_list("body", flat=True))
    notify_through_channels(profile=louis, code=Notification.Code.NEW_DOCUMENT, label=LABEL)
    after = Delivery.objects.order_by("pk").last()
    assert len(during) == 2
    assert all("Connectez-vous pour la consulter : http://127.0.0.1:8123/" in b for b in during)
    assert after is not None and "un profil que vous gérez" in after.body
    assert "http://127.0.0.1:8000/" in after.body and "8123" not in after.body


def test_security_alerts_cannot_be_turned_off(camille):
    preferences_set(citizen=camille, choices={})  # everything off
    notify_through_channels(
        profile=camille, code=Notification.Code.BREAK_GLASS, label="Accès en urgence"
    )
    assert Delivery.objects.get().channel == "email"


def test_a_child_s_notification_goes_to_the_parent(camille, louis):
    notify_through_channels(
        profile=louis, code=Notification.Code.PREVENTION_DUE, label="Examen à planifier"
    )
    d = Delivery.objects.get()
    assert d.recipient == camille and "un profil que vous gérez" in d.body


def test_letters_for_people_without_e_mail_or_phone(bob):
    bob.email = ""
    bob.save()
    PostalAddress.objects.create(citizen=bob, lines="12 rue des Lilas\n75011 Paris")
    notify_through_channels(
        profile=bob, code=Notification.Code.VACCINATION_DUE, label="Rappel dTP à 45 ans"
    )
    # An appointment reminder is never a letter (it would come too late).
    notify_through_channels(
        profile=bob, code=Notification.Code.APPOINTMENT_REMINDER, label="Rendez-vous demain"
    )
    batch = print_letters()
    assert batch is not None and batch.count == 1
    with default_storage.open(batch.file_name) as f:
        pdf = f.read()
    assert pdf.startswith(b"%PDF") and b"dTP" not in pdf
    default_storage.delete(batch.file_name)
    assert print_letters() is None


def test_a_batch_is_told_like_one_by_one_and_once(camille, louis, bob):
    """notify_many (the reminder sweep's bulk path) follows the same rules as
    notify_through_channels: preferences, the parent for a child, letters, security forced."""
    camille.user.phone = "+33612345678"
    camille.user.save()
    preferences_set(
        citizen=camille, choices={Category.APPOINTMENTS.value: {"email": False, "sms": True}}
    )
    bob.email = ""
    bob.save()
    PostalAddress.objects.create(citizen=bob, lines="12 rue des Lilas\n75011 Paris")
    events = [
        Event(profile=camille, code=Notification.Code.VACCINATION_DUE, label=LABEL, key="b-1"),
        Event(profile=louis, code=Notification.Code.PREVENTION_DUE, label=LABEL, key="b-2"),
        Event(profile=bob, code=Notification.Code.SCREENING_DUE, label=LABEL, key="b-3"),
        Event(profile=camille, code=Notification.Code.BREAK_GLASS, label="Accès", key="b-4"),
    ]
    notes = notify_many(events)
    assert [n.profile_id for n in notes] == [camille.pk, louis.pk, bob.pk, camille.pk]
    assert Notification.objects.filter(label=LABEL).count() == 3
    got = set(Delivery.objects.values_list("key", "recipient_id", "channel"))
    assert got == {
        (f"b-1:{camille.pk}:sms", camille.pk, "sms"),  # e-mail off, SMS chosen
        (f"b-2:{camille.pk}:sms", camille.pk, "sms"),  # the child's goes to the parent
        (f"b-3:{bob.pk}:courrier", bob.pk, "courrier"),  # neither e-mail nor phone
        (f"b-4:{camille.pk}:email", camille.pk, "email"),  # security cannot be turned off
    }
    for d in Delivery.objects.all():
        assert LABEL not in d.body and "coloscopie" not in d.body + d.subject
    notify_many(events)  # the same events again (a re-run): nothing more on the channels
    assert Delivery.objects.count() == 4


def test_the_preferences_page(client, camille):
    client.force_login(camille.user)
    url = reverse("portal:notification_preferences")
    page = client.get(url).content.decode()
    assert "ne peut pas être désactivée" in page and "Dépistages organisés des cancers" in page
    r = client.post(url, {"NOTIF_MESSAGE-sms": "1"})
    assert r.status_code == 302
    from mes.notifications.models import ChannelPreference

    pref = ChannelPreference.objects.get(citizen=camille, category="NOTIF_MESSAGE")
    assert pref.sms and not pref.email
    assert not ChannelPreference.objects.filter(category="NOTIF_SECURITE").exists()


def test_the_preferences_page_needs_a_citizen(client, dr_durand):
    url = reverse("portal:notification_preferences")
    assert client.get(url).status_code == 302  # anonymous: to the login page
    client.force_login(dr_durand.user)
    assert client.get(url).status_code == 404
