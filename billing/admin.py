"""Billing in the admin: the catalogue, each clinic's billing settings and
the tax rates are edited here by billing staff; invoices and payments are
read-only (an issued document is never edited: it is credited, on its page)."""

from django.contrib import admin

from clinic.admin import ReadOnlyAdmin
from clinic.selectors import staff_clinic_ids

from .models import CatalogueItem, ClinicBilling, Invoice, InvoiceLine, Payment, TaxRate


class OwnClinicsMixin:
    """Billing staff see and edit their own clinics' rows only."""

    clinic_field = "clinic"

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        return rows.filter(**{f"{self.clinic_field}__in": staff_clinic_ids(user=request.user)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "clinic" and not request.user.is_superuser:
            from clinic.models import Clinic

            kwargs["queryset"] = Clinic.objects.filter(pk__in=staff_clinic_ids(user=request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(CatalogueItem)
class CatalogueItemAdmin(OwnClinicsMixin, admin.ModelAdmin):
    list_display = [
        "code",
        "name_en",
        "clinic",
        "component",
        "tax_treatment",
        "price",
        "effective_from",
        "effective_until",
    ]
    list_filter = ["clinic", "component", "tax_treatment"]
    search_fields = ["code", "name_en", "name_fr"]


@admin.register(ClinicBilling)
class ClinicBillingAdmin(OwnClinicsMixin, admin.ModelAdmin):
    list_display = ["legal_name", "clinic", "prefix", "gst_number", "qst_number", "pst_number"]


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    list_display = ["province", "tax", "rate", "effective_from", "effective_until"]
    list_filter = ["province", "tax"]


class LineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    fields = ["service_date", "code", "description_en", "provider_name", "amount", "tax_amount"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(OwnClinicsMixin, ReadOnlyAdmin):
    list_display = ["number", "kind", "clinic", "status", "total", "issued_on"]
    list_filter = ["clinic", "status", "kind"]
    search_fields = ["number"]
    inlines = [LineInline]
    list_select_related = ["clinic"]


@admin.register(Payment)
class PaymentAdmin(OwnClinicsMixin, ReadOnlyAdmin):
    clinic_field = "invoice__clinic"
    list_display = ["receipt_number", "invoice", "method", "amount", "received_on"]
    list_select_related = ["invoice"]
