"""Billing: what the clinic charges, the invoices it issues and the payments
it receives.

Money is `Decimal` in CAD, two places, never a float. An issued document is
never edited: every line copies its price, description, provider and tax
treatment at the moment it is made, so a later price change leaves it as it
was; a refund is a credit note that points to the invoice it credits."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.models import Appointment, AppointmentKind, ClientProfile, Clinic, Province

# The largest single amount the clinic ever charges or receives: anything
# above it is a typing mistake (an extra zero), refused with a message.
MAX_AMOUNT = Decimal("100000.00")
CENT = Decimal("0.01")


class Component(models.TextChoices):
    PSYCHOTHERAPY = "psychotherapy", _("Psychotherapy")
    MEDICAL = "medical", _("Medical")
    MEDICATION = "medication", _("Medication")
    FACILITY = "facility", _("Facility")
    ADMINISTRATIVE = "administrative", _("Administrative")


class TaxTreatment(models.TextChoices):
    # Services of physicians and nurses (Excise Tax Act, Sch. V, Part II).
    EXEMPT_HEALTH = "exempt_health", _("Exempt health service")
    # Psychotherapy and counselling therapy: exempt from GST/HST and QST since
    # 2024-06-20 when rendered by a practitioner of the profession (in Quebec,
    # the holder of a psychotherapist's permit); taxable otherwise.
    PSYCHOTHERAPY = "psychotherapy", _("Psychotherapy (exempt when the provider holds a permit)")
    # Prescription drugs dispensed on a prescription (Sch. VI, Part I).
    ZERO_RATED_DRUG = "zero_rated_drug", _("Zero-rated prescription drug")
    TAXABLE = "taxable", _("Taxable")


class Tax(models.TextChoices):
    GST = "GST", _("GST")
    HST = "HST", _("HST")
    QST = "QST", _("QST")
    PST = "PST", _("PST")


class TaxRate(models.Model):
    """A sales tax in force in a province from a date: the rates a taxable
    line pays are those in force on the day the service was given."""

    province = models.CharField(_("province"), max_length=2, choices=Province.choices)
    tax = models.CharField(_("tax"), max_length=3, choices=Tax.choices)
    rate = models.DecimalField(
        _("rate (%)"),
        max_digits=6,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("30"))],
    )
    effective_from = models.DateField(_("in force from"))
    effective_until = models.DateField(_("in force until (excluded)"), null=True, blank=True)

    class Meta:
        verbose_name = _("tax rate")
        verbose_name_plural = _("tax rates")
        ordering = ["province", "tax", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["province", "tax", "effective_from"], name="tax_rate_once_per_start"
            ),
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True)
                | Q(effective_until__gt=models.F("effective_from")),
                name="tax_rate_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.province} {self.tax} {self.rate}% ({self.effective_from})"


class ClinicBilling(models.Model):
    """What a clinic prints on its invoices: the numbering prefix, its legal
    name and the tax registration numbers shown when it charges tax."""

    clinic = models.OneToOneField(
        Clinic, on_delete=models.CASCADE, related_name="billing", verbose_name=_("clinic")
    )
    prefix = models.CharField(
        _("invoice number prefix"),
        max_length=6,
        unique=True,
        help_text=_("Capital letters, e.g. MTL: invoices are numbered MTL-2026-000123."),
    )
    legal_name = models.CharField(_("legal name"), max_length=160)
    gst_number = models.CharField(_("GST/HST registration number"), max_length=30, blank=True)
    qst_number = models.CharField(_("QST registration number"), max_length=30, blank=True)
    pst_number = models.CharField(_("PST registration number"), max_length=30, blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment due within (days)"), default=30
    )

    class Meta:
        verbose_name = _("clinic billing settings")
        verbose_name_plural = _("clinic billing settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(prefix__regex=r"^[A-Z]{2,6}$"), name="billing_prefix_capitals"
            )
        ]

    def __str__(self) -> str:
        return self.legal_name


class CatalogueItem(models.Model):
    """One priced service of a clinic, in force from a date. A price change is
    a new row from a later date; the old row stays for the documents that
    copied it. An appointment kind may be billed as several items (a dosing
    session is a medical, a medication and a psychotherapy part)."""

    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="catalogue", verbose_name=_("clinic")
    )
    code = models.SlugField(_("code"), max_length=40)
    name_en = models.CharField(_("name in English"), max_length=160)
    name_fr = models.CharField(_("name in French"), max_length=160)
    component = models.CharField(_("component"), max_length=20, choices=Component.choices)
    tax_treatment = models.CharField(
        _("tax treatment"), max_length=20, choices=TaxTreatment.choices
    )
    price = models.DecimalField(
        _("price (CAD)"),
        max_digits=9,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_AMOUNT)],
    )
    appointment_kind = models.CharField(
        _("billed for each"),
        max_length=30,
        choices=AppointmentKind.choices,
        blank=True,
        help_text=_("The appointment kind this item is billed for, once per held appointment."),
    )
    estimate_order = models.PositiveSmallIntegerField(_("order in estimates"), default=100)
    effective_from = models.DateField(_("in force from"))
    effective_until = models.DateField(_("in force until (excluded)"), null=True, blank=True)

    class Meta:
        verbose_name = _("catalogue item")
        verbose_name_plural = _("catalogue items")
        ordering = ["clinic", "estimate_order", "code", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "code", "effective_from"], name="catalogue_code_once_per_start"
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0) & Q(price__lte=MAX_AMOUNT),
                name="catalogue_price_in_range",
            ),
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True)
                | Q(effective_until__gt=models.F("effective_from")),
                name="catalogue_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.price} ({self.effective_from})"

    def name(self, language: str) -> str:
        return self.name_fr if language == "fr" else self.name_en


class Counter(models.Model):
    """The last number given in one clinic's series for one year. Numbers are
    taken under a row lock inside the issuing transaction, so they are
    sequential and a rolled-back issue gives its number back: no gaps."""

    class Series(models.TextChoices):
        INVOICE = "invoice", _("invoices and credit notes")
        RECEIPT = "receipt", _("receipts")

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    series = models.CharField(max_length=10, choices=Series.choices)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("number series")
        verbose_name_plural = _("number series")
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "series", "year"], name="counter_once_per_clinic_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.year}: {self.last}"


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ISSUED = "issued", _("issued")
        PAID = "paid", _("paid")
        VOID = "void", _("void")

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("invoice")
        CREDIT_NOTE = "credit_note", _("credit note")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("clinic")
    )
    client = models.ForeignKey(
        ClientProfile, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("client")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    credits = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("credits invoice"),
    )
    reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.DRAFT
    )
    number = models.CharField(_("number"), max_length=20, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    subtotal = models.DecimalField(_("subtotal"), max_digits=11, decimal_places=2, default=0)
    tax_total = models.DecimalField(_("taxes"), max_digits=11, decimal_places=2, default=0)
    total = models.DecimalField(_("total"), max_digits=11, decimal_places=2, default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    # Goes up at each change of status or payment: the cached PDFs carry it.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-created_at"]
        permissions = [
            ("issue_invoice", _("Can issue, void and credit invoices")),
            ("record_payment", _("Can record payments")),
            ("download_breakdown", _("Can download cost breakdowns of clients")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "number"],
                condition=~Q(number=""),
                name="invoice_number_once_per_clinic",
            ),
            # A number exactly when the document left the draft.
            models.CheckConstraint(
                condition=Q(status="draft", number="")
                | (~Q(status="draft") & ~Q(number=""))
                # A draft voided before issue never had a number.
                | Q(status="void", number=""),
                name="invoice_numbered_once_issued",
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", credits__isnull=True)
                | Q(kind="credit_note", credits__isnull=False),
                name="credit_note_credits_an_invoice",
            ),
        ]
        indexes = [
            models.Index(
                fields=["clinic", "status", "created_at"], name="invoice_clinic_status_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.number or str(_("draft"))

    @property
    def is_credit_note(self) -> bool:
        return self.kind == self.Kind.CREDIT_NOTE


class InvoiceLine(models.Model):
    """One line, copied whole at the time it was made: price, names in both
    languages, the provider and their registration, the tax treatment and
    the taxes, each rounded to the cent (half up)."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="lines", verbose_name=_("invoice")
    )
    position = models.PositiveSmallIntegerField(default=0)
    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    item = models.ForeignKey(
        CatalogueItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    code = models.CharField(_("code"), max_length=40)
    description_en = models.CharField(_("description in English"), max_length=200)
    description_fr = models.CharField(_("description in French"), max_length=200)
    component = models.CharField(_("component"), max_length=20, choices=Component.choices)
    tax_treatment = models.CharField(
        _("tax treatment"), max_length=20, choices=TaxTreatment.choices
    )
    service_date = models.DateField(_("date of service"))
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    provider_name = models.CharField(_("provider"), max_length=160, blank=True)
    provider_profession = models.CharField(_("profession"), max_length=120, blank=True)
    provider_registration = models.CharField(_("registration number"), max_length=60, blank=True)
    quantity = models.IntegerField(_("quantity"), default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=9, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=11, decimal_places=2)
    # {"GST": "5.00", "QST": "9.98"}: each tax of the line, rounded to the cent.
    taxes = models.JSONField(_("taxes"), default=dict, blank=True)
    tax_amount = models.DecimalField(_("tax"), max_digits=11, decimal_places=2, default=0)
    exempt = models.BooleanField(_("exempt"), default=False)

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.code} {self.amount}"

    def description(self, language: str) -> str:
        return self.description_fr if language == "fr" else self.description_en

    @property
    def total(self) -> Decimal:
        return self.amount + self.tax_amount


class BilledAppointment(models.Model):
    """An appointment on a live invoice: one row per appointment, so the same
    appointment is never invoiced twice, even by two people at once. Voiding
    the invoice removes the row and frees the appointment."""

    appointment = models.OneToOneField(
        Appointment, on_delete=models.PROTECT, related_name="billed", verbose_name=_("appointment")
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="billed", verbose_name=_("invoice")
    )

    class Meta:
        verbose_name = _("billed appointment")
        verbose_name_plural = _("billed appointments")

    def __str__(self) -> str:
        return f"{self.appointment_id} -> {self.invoice_id}"


class PaymentMethod(models.TextChoices):
    CARD = "card", _("Credit card")
    DEBIT = "debit", _("Debit card")
    TRANSFER = "transfer", _("Interac e-Transfer")
    CHEQUE = "cheque", _("Cheque")
    CASH = "cash", _("Cash")


class Payment(models.Model):
    """Money received against an issued invoice; never more than its balance.
    The form's one-time `submission` key makes a double submit a no-op."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="payments", verbose_name=_("invoice")
    )
    method = models.CharField(_("method"), max_length=10, choices=PaymentMethod.choices)
    amount = models.DecimalField(
        _("amount (CAD)"),
        max_digits=9,
        decimal_places=2,
        validators=[MinValueValidator(CENT), MaxValueValidator(MAX_AMOUNT)],
    )
    received_on = models.DateField(_("received on"))
    reference = models.CharField(_("reference"), max_length=80, blank=True)
    receipt_number = models.CharField(_("receipt number"), max_length=24, unique=True)
    submission = models.UUIDField(unique=True, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["received_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(amount__lte=MAX_AMOUNT),
                name="payment_amount_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_number} {self.amount}"


class StatementJob(models.Model):
    """A request for year-end statements: one client's, or every client's of
    a clinic (client empty). The request only writes this row; the worker
    (billing.tasks.statements_build, on beat) claims it and counts its
    progress here, so the page shows done/total while it runs. Asking again
    for the same year and client while one is pending or running gives that
    job (the partial unique constraints), never a second one."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        RUNNING = "running", _("in progress")
        DONE = "done", _("ready")
        FAILED = "failed", _("failed")

    ACTIVE = (Status.PENDING, Status.RUNNING)
    # The statement a one-client job built, set by the selectors for the page.
    statement: "Statement | None" = None

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="+", verbose_name=_("clinic")
    )
    client = models.ForeignKey(
        ClientProfile,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("client"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    total = models.PositiveIntegerField(_("statements to build"), default=0)
    done = models.PositiveIntegerField(_("statements built"), default=0)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("asked at"), default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("year-end statement job")
        verbose_name_plural = _("year-end statement jobs")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("build_statements", _("Can build and download clients' year-end statements")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "client", "year"],
                condition=Q(status__in=["pending", "running"], client__isnull=False),
                name="statement_job_once_per_client_year",
            ),
            models.UniqueConstraint(
                fields=["clinic", "year"],
                condition=Q(status__in=["pending", "running"], client__isnull=True),
                name="statement_job_once_per_clinic_year",
            ),
            models.CheckConstraint(
                condition=Q(done__lte=models.F("total")), name="statement_job_done_within_total"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="statement_job_status_idx")]

    def __str__(self) -> str:
        return f"{self.year} {self.client_id or 'all'} {self.status}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(self.done * 100 / self.total) if self.total else 0

    @property
    def active(self) -> bool:
        return self.status in self.ACTIVE


class Statement(models.Model):
    """One client's year-end statement, both languages, kept in the database
    (never under a public URL) and served only through billing's views. A
    later build for the same client and year replaces it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="+", verbose_name=_("clinic")
    )
    client = models.ForeignKey(
        ClientProfile, on_delete=models.CASCADE, related_name="+", verbose_name=_("client")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    job = models.ForeignKey(
        StatementJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="statements"
    )
    total_paid = models.DecimalField(_("paid in the year"), max_digits=11, decimal_places=2)
    pdf_en = models.BinaryField(editable=False)
    pdf_fr = models.BinaryField(editable=False)
    built_at = models.DateTimeField(_("built at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("year-end statement")
        verbose_name_plural = _("year-end statements")
        ordering = ["-year", "client_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "year"], name="statement_once_per_client_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.client_id}"

    def pdf(self, language: str) -> bytes:
        return bytes(self.pdf_fr if language == "fr" else self.pdf_en)
