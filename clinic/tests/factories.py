import factory
from allauth.account.models import EmailAddress

from clinic import accounts
from clinic.models import Clinic, Province, Room, StaffRole, User


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"clinic-{n}")
    name = factory.Sequence(lambda n: f"Clinic {n}")
    province = Province.QC
    time_zone = "America/Toronto"
    street_address = "1234 rue Sherbrooke Ouest"
    city = "Montréal"
    postal_code = "H3G 1H6"
    phone = "+1 514 555 0100"
    email = factory.LazyAttribute(lambda o: f"{o.slug}@clinic.example")
    minimum_client_age = 18


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    clinic = factory.SubFactory(ClinicFactory)
    name = factory.Sequence(lambda n: f"Room {n}")
    is_dosing_room = True


class UserFactory(factory.django.DjangoModelFactory):
    """A user whose e-mail address is verified (allauth's EmailAddress)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    preferred_language = "en"
    password = factory.PostGenerationMethodCall("set_password", "a-long-test-passphrase")

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create:
            self.save()
            EmailAddress.objects.create(
                user=self, email=self.email, verified=extracted is not False, primary=True
            )


def client_create(*, clinic: Clinic, **user_fields):
    """A client as sign-up makes one: profile plus a course in connect."""
    user = UserFactory(**user_fields)
    return accounts.client_register(user=user, clinic=clinic)


def staff_create(*, role: str = StaffRole.THERAPIST, clinics: list[Clinic], **user_fields):
    user = UserFactory(**user_fields)
    accounts.staff_profile_create(
        user=user, role=role, clinics=clinics, profession=StaffRole(role).label
    )
    return user
