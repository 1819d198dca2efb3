"""The authentication backends moved to clinic.backends (they read the
profiles with the person). A session remembers the backend that signed its
person in, and Django ends a session whose backend is no longer listed: this
points the open sessions at the new paths, so nobody is signed out by it."""

from django.db import migrations

RENAMED = {
    "django.contrib.auth.backends.ModelBackend": "clinic.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend": "clinic.backends.AuthenticationBackend",
}
BACKEND_KEY = "_auth_user_backend"


def _rename(apps, renamed):
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    Session = apps.get_model("sessions", "Session")
    store = SessionStore()
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        data = store.decode(session.session_data)
        if data.get(BACKEND_KEY) in renamed:
            data[BACKEND_KEY] = renamed[data[BACKEND_KEY]]
            Session.objects.filter(pk=session.pk).update(session_data=store.encode(data))


def forwards(apps, schema_editor):
    _rename(apps, RENAMED)


def backwards(apps, schema_editor):
    _rename(apps, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0012_page_indexes"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
