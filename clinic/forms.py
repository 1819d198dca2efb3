from django import forms
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Clinic, Language, Stage


class ClientSignupForm(forms.Form):
    """Extra fields allauth's sign-up asks a future client for."""

    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    clinic = forms.ModelChoiceField(
        label=_("Clinic"),
        queryset=Clinic.objects.order_by("name"),
        empty_label=_("Choose the clinic nearest you"),
        error_messages={"invalid_choice": _("Choose one of the clinics in the list.")},
    )
    preferred_language = forms.ChoiceField(label=_("Preferred language"), choices=Language.choices)

    field_order = [
        "first_name",
        "last_name",
        "email",
        "clinic",
        "preferred_language",
        "password1",
        "password2",
    ]

    def signup(self, request, user) -> None:
        user.first_name = self.cleaned_data["first_name"]
        user.last_name = self.cleaned_data["last_name"]
        user.preferred_language = self.cleaned_data["preferred_language"]
        user.save(update_fields=["first_name", "last_name", "preferred_language"])
        services.client_register(user=user, clinic=self.cleaned_data["clinic"])


class CourseTransitionForm(forms.Form):
    to_stage = forms.ChoiceField(label=_("Move to"), choices=Stage.choices)
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_stage"].choices = [(s.value, s.label) for s in Stage if s in targets]


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=Language.choices)
    next = forms.CharField(required=False)
