"""A clinic's starting catalogue and billing settings (the demo and the
tests start from it; the clinic edits its own in the admin)."""

from datetime import date
from decimal import Decimal

from clinic.models import AppointmentKind, Clinic, Province

from .models import CatalogueItem, ClinicBilling, Component, TaxTreatment

C, T, K = Component, TaxTreatment, AppointmentKind

# code, English, French, component, treatment, price, billed for, order
STANDARD = [
    (
        "intake-call",
        "Intake call",
        "Appel d’accueil",
        C.ADMINISTRATIVE,
        T.EXEMPT_HEALTH,
        "0.00",
        K.INTAKE_CALL,
        10,
    ),
    (
        "medical-assessment",
        "Medical assessment",
        "Évaluation médicale",
        C.MEDICAL,
        T.EXEMPT_HEALTH,
        "350.00",
        K.MEDICAL_ASSESSMENT,
        20,
    ),
    (
        "preparatory-session",
        "Preparatory psychotherapy session",
        "Séance de psychothérapie préparatoire",
        C.PSYCHOTHERAPY,
        T.PSYCHOTHERAPY,
        "180.00",
        K.PREPARATORY_SESSION,
        30,
    ),
    (
        "dosing-medical",
        "Dosing session: medical supervision",
        "Séance de dosage : supervision médicale",
        C.MEDICAL,
        T.EXEMPT_HEALTH,
        "250.00",
        K.DOSING_SESSION,
        40,
    ),
    (
        "dosing-medication",
        "Dosing session: medication",
        "Séance de dosage : médicament",
        C.MEDICATION,
        T.ZERO_RATED_DRUG,
        "90.00",
        K.DOSING_SESSION,
        41,
    ),
    (
        "dosing-psychotherapy",
        "Dosing session: psychotherapy",
        "Séance de dosage : psychothérapie",
        C.PSYCHOTHERAPY,
        T.PSYCHOTHERAPY,
        "360.00",
        K.DOSING_SESSION,
        42,
    ),
    (
        "dosing-room",
        "Dosing session: treatment room and comfort items",
        "Séance de dosage : salle de traitement et articles de confort",
        C.FACILITY,
        T.TAXABLE,
        "40.00",
        K.DOSING_SESSION,
        43,
    ),
    (
        "integration-session",
        "Integration psychotherapy session",
        "Séance de psychothérapie d’intégration",
        C.PSYCHOTHERAPY,
        T.PSYCHOTHERAPY,
        "180.00",
        K.INTEGRATION_SESSION,
        50,
    ),
    (
        "group-meeting",
        "Integration group meeting",
        "Rencontre de groupe d’intégration",
        C.PSYCHOTHERAPY,
        T.PSYCHOTHERAPY,
        "60.00",
        K.GROUP_MEETING,
        60,
    ),
    (
        "insurance-form",
        "Insurance form completed on request",
        "Formulaire d’assurance rempli sur demande",
        C.ADMINISTRATIVE,
        T.TAXABLE,
        "25.00",
        "",
        90,
    ),
]

PREFIXES = {"montreal": "MTL", "vancouver": "VAN"}


def catalogue_install(*, clinic: Clinic, since: date, prefix: str | None = None) -> None:
    """Idempotent: the standard items from `since`, and the clinic's settings."""
    prefix = prefix or PREFIXES.get(clinic.slug) or clinic.slug[:3].upper()
    ClinicBilling.objects.get_or_create(
        clinic=clinic,
        defaults={
            "prefix": prefix,
            "legal_name": f"Clinique {clinic.name}"
            if clinic.province == Province.QC
            else f"{clinic.name} Clinic",
            "gst_number": "123456789 RT0001",
            "qst_number": "1234567890 TQ0001" if clinic.province == Province.QC else "",
            "pst_number": "PST-1234-5678" if clinic.province == Province.BC else "",
        },
    )
    for code, en, fr, component, treatment, price, kind, order in STANDARD:
        CatalogueItem.objects.get_or_create(
            clinic=clinic,
            code=code,
            effective_from=since,
            defaults={
                "name_en": en,
                "name_fr": fr,
                "component": component,
                "tax_treatment": treatment,
                "price": Decimal(price),
                "appointment_kind": kind,
                "estimate_order": order,
            },
        )


# The provinces' rates as published (the first migration installs the same).
STANDARD_RATES = [
    ("QC", "GST", "5.000", date(2008, 1, 1)),
    ("QC", "QST", "9.975", date(2013, 1, 1)),
    ("BC", "GST", "5.000", date(2008, 1, 1)),
    ("BC", "PST", "7.000", date(2013, 4, 1)),
]

COORDINATORS = "coordinator"
# Billing is the coordinators' work. What they may do in the admin (the same
# as tests/permission_matrix_admin.py's table): add and change catalogue
# items (never delete one: an issued invoice may have used its price), change
# their clinic's billing settings, read the tax rates (the provinces'), the
# invoices, their lines and the payments. Billing's pages draft invoices
# (add_invoice: the invoices' admin stays read-only whoever asks), issue,
# void and credit them, record payments and download the breakdown.
BILLING_STAFF_PERMISSIONS = [
    "view_catalogueitem",
    "add_catalogueitem",
    "change_catalogueitem",
    "view_clinicbilling",
    "change_clinicbilling",
    "view_taxrate",
    "view_invoice",
    "view_invoiceline",
    "view_payment",
    # Billing's pages.
    "add_invoice",
    "issue_invoice",
    "record_payment",
    "download_breakdown",
    "build_statements",
]


def tax_rates_install() -> None:
    """Idempotent (a database emptied by a test or a restore gets them back)."""
    from .models import TaxRate

    for province, tax, rate, start in STANDARD_RATES:
        TaxRate.objects.get_or_create(
            province=province, tax=tax, effective_from=start, defaults={"rate": Decimal(rate)}
        )


def coordinators_may_bill():
    """The coordinators' group with billing's permissions (idempotent)."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=COORDINATORS)
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="billing", codename__in=BILLING_STAFF_PERMISSIONS
        )
    )
    return group
