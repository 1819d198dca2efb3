from django import forms
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from . import accounts, journey
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
        data = self.cleaned_data
        accounts.client_register(
            user=user,
            clinic=data["clinic"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            preferred_language=data["preferred_language"],
        )


class CourseTransitionForm(forms.Form):
    """The stage change the staff page and the admin both offer; the journey
    service decides, and its refusal becomes the form's error."""

    # The stage the person saw: a course moved by someone else since then
    # is refused as changed, not moved on from a stage they never saw.
    from_stage = forms.CharField(widget=forms.HiddenInput, required=False)
    to_stage = forms.ChoiceField(label=_("Move to"), choices=Stage.choices)
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, course, **kwargs):
        super().__init__(*args, **kwargs)
        self.course = course
        self.fields["from_stage"].initial = course.stage
        seen = self.data.get("from_stage") if self.is_bound else None
        self.stale = bool(seen) and seen != course.stage
        targets = journey.allowed_targets(course)
        self.fields["to_stage"].choices = [
            (s.value, s.label) for s in Stage if s in targets or self.stale
        ]

    def clean(self):
        if self.stale:
            raise forms.ValidationError(_(journey.MSG_STALE))
        return super().clean()

    def apply(self, *, actor) -> str | None:
        """Move the course; the success message, or None with the error on the form."""
        if not self.is_valid():
            return None
        try:
            journey.course_transition(
                course=self.course,
                to_stage=self.cleaned_data["to_stage"],
                actor=actor,
                reason=self.cleaned_data["reason"],
            )
        except journey.JourneyError as exc:
            self.add_error(None, str(exc))
            return None
        return _("The course moved to %(stage)s.") % {"stage": self.course.get_stage_display()}


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=Language.choices)
    next = forms.CharField(required=False)


class SharingForm(forms.Form):
    """The optional uses of a client's data (both off unless ticked)."""

    research = forms.BooleanField(required=False)
    marketing = forms.BooleanField(required=False)


class ClosureRequestForm(forms.Form):
    reason = forms.CharField(required=False, max_length=5000)
    confirm = forms.BooleanField(
        error_messages={"required": _("Tick “I want to close my account.” to send the request.")}
    )


MSG_WRONG_PASSWORD = gettext_noop("This password is not the one of this account.")
MSG_TOO_MANY_TRIES = gettext_noop("Too many attempts. Wait a few minutes, then try again.")
MSG_WRONG_CODE = gettext_noop(
    "This code is not right. Check that your phone’s clock is set automatically, "
    "and enter the code the app shows now."
)


class InvitationSignInForm(forms.Form):
    """The invited person's password, on the invitation page: with the link
    from their inbox, it is what proves they are who the invitation is for.
    Failed attempts count against the same limit as the sign-in page."""

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, request, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.user = user

    def clean_password(self):
        from allauth.account.adapter import get_adapter

        password = self.cleaned_data["password"]
        try:
            user = get_adapter(self.request).authenticate(
                self.request, email=self.user.email, password=password
            )
        except forms.ValidationError:
            raise forms.ValidationError(gettext(MSG_TOO_MANY_TRIES)) from None
        if user is None or user.pk != self.user.pk:
            raise forms.ValidationError(gettext(MSG_WRONG_PASSWORD))
        self.user = user
        return password


class InvitationCodeForm(forms.Form):
    """The code the new authenticator shows: proof it was set up right
    before it replaces anything."""

    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def __init__(self, *args, request, secret, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.secret = secret

    def clean_code(self):
        from allauth.core import ratelimit
        from allauth.mfa.totp.internal.auth import validate_totp_code

        code = self.cleaned_data["code"].replace(" ", "")
        key = f"mfa-auth-user-{self.request.user.pk}"
        if not ratelimit.consume(self.request, action="login_failed", key=key):
            raise forms.ValidationError(gettext(MSG_TOO_MANY_TRIES))
        if not validate_totp_code(self.secret, code):
            raise forms.ValidationError(gettext(MSG_WRONG_CODE))
        ratelimit.clear(self.request, action="login_failed", key=key)
        return code
