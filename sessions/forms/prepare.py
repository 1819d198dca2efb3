"""The client's preparation forms. They check types and lengths; the rules
(the name matches the account, the text shown is the one in force) are the
services', which say what is wrong in the person's language."""

from django import forms
from django.utils.translation import gettext_lazy as _

from clinic.models import Language
from clinic.sms import normalise_phone

from ..models import SessionPreferences

SHA256 = r"^[0-9a-f]{64}$"


class ModuleReadForm(forms.Form):
    version = forms.IntegerField(min_value=1, max_value=32767, widget=forms.HiddenInput)


class _ShownDocumentForm(forms.Form):
    """What the page rendered: the fingerprint of the text and its language."""

    sha256 = forms.RegexField(regex=SHA256, widget=forms.HiddenInput)
    language = forms.ChoiceField(choices=Language.choices, widget=forms.HiddenInput)


class ConsentSignForm(_ShownDocumentForm):
    typed_name = forms.CharField(
        label=_("Your full name"),
        max_length=200,
        help_text=_("Type your first and last name as they appear on your account."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("Type your full name to sign.")},
    )
    agree = forms.BooleanField(
        label=_("I have read this document and I agree to it."),
        error_messages={"required": _("Please tick the box to say that you agree.")},
    )


class ConsentDeclineForm(_ShownDocumentForm):
    pass


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = SessionPreferences
        fields = ["eye_shades", "sound", "escort_name", "escort_phone", "notes"]
        widgets = {
            "eye_shades": forms.RadioSelect,
            "sound": forms.RadioSelect,
            "escort_name": forms.TextInput(attrs={"autocomplete": "off"}),
            "escort_phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }
        labels = {
            "eye_shades": _("Would you like eye shades?"),
            "sound": _("Music or silence?"),
            "escort_name": _("Who will take you home?"),
            "escort_phone": _("Their phone number"),
            "notes": _("Anything the team should know"),
        }
        help_texts = {
            "escort_name": _(
                "You cannot drive until the next day: someone you trust takes you home."
            ),
            "notes": _("For example: what helps you feel safe, or what you would rather avoid."),
        }

    def clean_escort_phone(self):
        raw = self.cleaned_data["escort_phone"].strip()
        if not raw:
            return ""
        phone = normalise_phone(raw)
        if phone is None:
            raise forms.ValidationError(
                _("Enter a phone number we can reach them at, for example 514 555 0123.")
            )
        return phone

    def clean(self):
        data = super().clean()
        if data.get("escort_phone") and not (data.get("escort_name") or "").strip():
            self.add_error(
                "escort_name", _("Please give the name of the person who takes you home.")
            )
        return data
