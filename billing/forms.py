import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import CENT, MAX_AMOUNT, PaymentMethod


class PaymentForm(forms.Form):
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    amount = forms.DecimalField(
        label=_("Amount (CAD)"),
        min_value=CENT,
        max_value=MAX_AMOUNT,
        max_digits=9,
        decimal_places=2,
        # "745,99" in French, "745.99" in English.
        localize=True,
        error_messages={"max_decimal_places": _("Enter an amount with at most two decimals.")},
    )
    received_on = forms.DateField(
        label=_("Received on"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    reference = forms.CharField(label=_("Reference"), max_length=80, required=False)
    # One key per form shown: the same key twice is the same payment.
    submission = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission", uuid.uuid4())
            self.initial.setdefault("received_on", timezone.localdate())

    def refuse(self, message: str) -> None:
        self.add_error(None, message)


class CreditForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class EstimateForm(forms.Form):
    sessions = forms.IntegerField(label=_("Dosing sessions"), min_value=1, max_value=50)
