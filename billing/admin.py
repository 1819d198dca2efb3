"""Billing in the admin, for the coordinators (billing staff) of each clinic,
who see their own clinics' rows only: they add and change catalogue items
(never delete one: prices are dated rows an issued invoice may have used),
change their clinic's billing settings, and read the provinces' tax rates,
the invoices and the payments. Invoices and payments change only through
billing's pages (an issued document is never edited: it is credited)."""

from django.contrib import admin

from clinic.admin import ClinicScopedAdminMixin, ReadOnlyAdmin

from .models import CatalogueItem, ClinicBilling, Invoice, InvoiceLine, Payment, TaxRate


@admin.register(CatalogueItem)
class CatalogueItemAdmin(ClinicScopedAdminMixin, admin.ModelAdmin):
    clinic_lookup = "clinic"
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
class ClinicBillingAdmin(ClinicScopedAdminMixin, admin.ModelAdmin):
    clinic_lookup = "clinic"
    list_display = ["legal_name", "clinic", "prefix", "gst_number", "qst_number", "pst_number"]


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    """The provinces' rates, no clinic's: coordinators read them (their
    group holds only the view permission); a new rate is a superuser's."""

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
class InvoiceAdmin(ClinicScopedAdminMixin, ReadOnlyAdmin):
    clinic_lookup = "clinic"
    list_display = ["number", "kind", "clinic", "status", "total", "issued_on"]
    list_filter = ["clinic", "status", "kind"]
    search_fields = ["number"]
    inlines = [LineInline]
    list_select_related = ["clinic"]


@admin.register(Payment)
class PaymentAdmin(ClinicScopedAdminMixin, ReadOnlyAdmin):
    clinic_lookup = "invoice__clinic"
    list_display = ["receipt_number", "invoice", "method", "amount", "received_on"]
    list_select_related = ["invoice"]
