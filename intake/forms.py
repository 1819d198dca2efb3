import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from clinic.models import CONCERNS_UNDER_DEVELOPMENT, Clinic, Concern, Language
from clinic.sms import normalise_phone

BOOKABLE_CONCERNS = [(c.value, c.label) for c in Concern if c not in CONCERNS_UNDER_DEVELOPMENT]
DEVELOPING_CONCERNS = [(c.value, c.label) for c in Concern if c in CONCERNS_UNDER_DEVELOPMENT]


def clean_phone_number(raw: str) -> str:
    phone = normalise_phone(raw)
    if phone is None:
        raise forms.ValidationError(
            _("Enter a phone number we can reach you at, for example 514 555 0123.")
        )
    return phone


class BookingForm(forms.Form):
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
    email = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        help_text=_("We call you at this number for the intake call."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    language = forms.ChoiceField(label=_("Language for the call"), choices=Language.choices)
    concern = forms.ChoiceField(
        label=_("What would you like help with?"),
        choices=[("", "—"), *BOOKABLE_CONCERNS, *DEVELOPING_CONCERNS],
    )
    consent_to_contact = forms.BooleanField(
        label=_(
            "I agree that the clinic contacts me by phone, e-mail and text message about this call."
        ),
        error_messages={"required": _("We need your agreement to contact you about the call.")},
    )
    submission = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.tampered = False
        if self.is_bound:
            try:
                uuid.UUID(str(self.data.get("submission")))
            except ValueError:
                # A damaged hidden field: refuse this send, and carry a fresh token.
                self.data = self.data.copy()
                self.data["submission"] = str(uuid.uuid4())
                self.tampered = True
        if user is not None:
            # A signed-in client books without retyping who they are.
            for name in ("first_name", "last_name", "email"):
                del self.fields[name]

    def clean(self):
        cleaned = super().clean()
        if self.tampered:
            raise forms.ValidationError(
                _("This form has expired. Please check your details and send it again.")
            )
        return cleaned

    def clean_phone(self):

        return clean_phone_number(self.cleaned_data["phone"])

    def clean_concern(self):
        concern = self.cleaned_data["concern"]
        if concern in CONCERNS_UNDER_DEVELOPMENT:
            raise forms.ValidationError(
                _(
                    "This program is still being developed, so calls cannot be booked for it yet. You can register your interest instead."
                )
            )
        return concern


class InterestForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"))
    concern = forms.ChoiceField(label=_("Program"), choices=DEVELOPING_CONCERNS)
    clinic = forms.ModelChoiceField(
        label=_("Clinic"),
        queryset=Clinic.objects.order_by("name"),
        required=False,
        empty_label=_("Either clinic"),
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    consent = forms.BooleanField(
        label=_("I agree that the clinic e-mails me when this program opens."),
        error_messages={"required": _("We need your agreement to e-mail you.")},
    )


OUTCOME_CHOICES = [("held", _("Held")), ("no_show", _("No-show"))]


class CallOutcomeForm(forms.Form):
    """The first record of what happened at the call."""

    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=OUTCOME_CHOICES, widget=forms.RadioSelect
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000
    )


class CallCorrectionForm(CallOutcomeForm):
    """A correction of the recorded outcome or its notes, with the reason.
    `seen_outcome` is the record the clinician had in front of them: a
    correction made meanwhile by someone else makes this one stale."""

    reason = forms.CharField(
        label=_("Why are you correcting it?"),
        help_text=_("Kept with the correction in the call's history."),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={"required": _("Please say why you are correcting the outcome.")},
    )
    seen_outcome = forms.IntegerField(widget=forms.HiddenInput, required=False)
