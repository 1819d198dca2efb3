from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    # The client's own invoices, payments, estimate and breakdowns.
    path("portal/billing/", views.portal, name="portal"),
    path("portal/billing/estimate/", views.portal_estimate, name="estimate"),
    path("portal/billing/estimate/pdf/", views.portal_estimate_pdf, name="estimate_pdf"),
    path("portal/billing/<uuid:invoice_uuid>/", views.portal_invoice, name="portal_invoice"),
    path(
        "portal/billing/<uuid:invoice_uuid>/breakdown/",
        views.portal_breakdown,
        name="portal_breakdown",
    ),
    # Year-end statements: asked for here, built by the worker.
    path("portal/billing/statements/", views.portal_statements, name="portal_statements"),
    path(
        "portal/billing/statements/jobs/<uuid:job_uuid>/",
        views.portal_statement_status,
        name="portal_statement_status",
    ),
    path(
        "portal/billing/statements/<uuid:statement_uuid>/",
        views.portal_statement_pdf,
        name="portal_statement_pdf",
    ),
    # Billing staff (coordinators): their clinics' invoices.
    path("staff/billing/", views.staff_invoices, name="staff_invoices"),
    path("staff/billing/to-invoice/", views.staff_billable, name="staff_billable"),
    path("staff/billing/clients/<uuid:client_uuid>/draft/", views.staff_draft, name="staff_draft"),
    path("staff/billing/<uuid:invoice_uuid>/", views.staff_invoice, name="staff_invoice"),
    path(
        "staff/billing/<uuid:invoice_uuid>/breakdown/",
        views.staff_breakdown,
        name="staff_breakdown",
    ),
    path("staff/billing/statements/", views.staff_statements, name="staff_statements"),
    path(
        "staff/billing/statements/jobs/<uuid:job_uuid>/",
        views.staff_statement_job,
        name="staff_statement_job",
    ),
    path(
        "staff/billing/statements/jobs/<uuid:job_uuid>/status/",
        views.staff_statement_status,
        name="staff_statement_status",
    ),
    path(
        "staff/billing/statements/<uuid:statement_uuid>/",
        views.staff_statement_pdf,
        name="staff_statement_pdf",
    ),
]
