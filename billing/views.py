"""Billing's pages: the client's invoices, payments, estimate and cost
breakdowns in the portal; the staff list, drafting, issuing, voiding,
crediting and payments for billing staff (a permission the coordinators'
group holds, at their own clinics). Thin: parse, call, render."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.access_log import access_log_record, access_log_record_many
from clinic.models import AccessLogEntry, Language
from clinic.permissions import client_required, staff_required
from clinic.selectors import client_profile

from . import pdf, selectors, services, statements
from .forms import CreditForm, EstimateForm, PaymentForm
from .models import Invoice


def _language(request, default: str) -> str:
    asked = request.GET.get("lang", "")
    if asked in Language.values:
        return asked
    return default if default in Language.values else Language.FR


def breakdown_pdf(invoice: Invoice, language: str) -> bytes:
    """The insurer's document, rendered once per version of the invoice."""

    def build() -> bytes:
        context = {
            "b": selectors.breakdown(invoice=invoice, language=language),
            "settings": selectors.clinic_billing_settings(invoice.clinic),
        }
        return pdf.render("billing/pdf/breakdown.html", context, language=language)[1]

    return pdf.cached(f"breakdown:{invoice.uuid}:{invoice.version}:{language}", build)


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # A document with a person's name, birth date and care: never kept by a
    # browser or a proxy.
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- The client's portal ------------------------------------------------------------------


@client_required
@require_GET
def portal(request):
    page = selectors.client_billing(user=request.user)
    if page is None:
        raise Http404
    return render(request, "billing/portal.html", {"page": page})


@client_required
@require_GET
def portal_invoice(request, invoice_uuid):
    invoice = selectors.client_document(user=request.user, invoice_uuid=invoice_uuid)
    if invoice is None:
        raise Http404
    return render(
        request,
        "billing/portal_invoice.html",
        {"invoice": invoice, "balance": selectors.balance_from_prefetched(invoice)},
    )


@client_required
@require_GET
def portal_breakdown(request, invoice_uuid):
    invoice = selectors.client_document(user=request.user, invoice_uuid=invoice_uuid)
    if invoice is None:
        raise Http404
    language = _language(request, request.user.preferred_language)
    return _pdf_response(
        breakdown_pdf(invoice, language), f"breakdown-{invoice.number}-{language}.pdf"
    )


def _estimate(request):
    overview = selectors.client_billing(user=request.user)
    if overview is None:
        raise Http404
    form = EstimateForm(request.GET or None)
    sessions = form.cleaned_data["sessions"] if form.is_valid() else 6
    language = _language(request, request.LANGUAGE_CODE[:2])
    return selectors.estimate(clinic=overview.client.clinic, sessions=sessions, language=language)


@client_required
@require_GET
def portal_estimate(request):
    estimate = _estimate(request)
    return render(
        request,
        "billing/estimate.html",
        {"estimate": estimate, "choices": range(1, estimate.most_sessions + 1)},
    )


@client_required
@require_GET
def portal_estimate_pdf(request):
    estimate = _estimate(request)
    language = _language(request, request.LANGUAGE_CODE[:2])
    settings = selectors.clinic_billing_settings(estimate.clinic)
    _html, content = pdf.render(
        "billing/pdf/estimate.html",
        {"estimate": estimate, "settings": settings},
        language=language,
    )
    return _pdf_response(content, f"estimate-{estimate.sessions}-{language}.pdf")


# --- Billing staff ------------------------------------------------------------------------


@staff_required
@require_GET
def staff_invoices(request):
    if not selectors.may(request.user, selectors.VIEW):
        raise PermissionDenied
    status = request.GET.get("status", "")
    page = selectors.staff_invoice_page(
        user=request.user, page=request.GET.get("page"), status=status
    )
    # Who was invoiced for what is a client's health information.
    access_log_record_many(
        actor=request.user,
        items=[(invoice.client, invoice) for invoice in page.object_list],
        request=request,
    )
    return render(
        request,
        "billing/staff_list.html",
        {"page": page, "status": status, "statuses": Invoice.Status.choices},
    )


@staff_required
@require_GET
def staff_billable(request):
    if not selectors.may(request.user, selectors.DRAFT):
        raise PermissionDenied
    appointments = selectors.billable_appointments(user=request.user)
    access_log_record_many(
        actor=request.user, items=[(a.client, a) for a in appointments], request=request
    )
    return render(request, "billing/staff_billable.html", {"appointments": appointments})


@staff_required
@require_POST
def staff_draft(request, client_uuid):
    found = selectors.billable_of_client(user=request.user, client_uuid=client_uuid)
    if found is None:
        raise Http404
    client, appointments = found
    if not selectors.may(request.user, selectors.DRAFT, client.clinic_id):
        raise PermissionDenied
    try:
        invoice = services.invoice_draft(
            client=client, appointments=appointments, actor=request.user
        )
    except services.BillingError as exc:
        messages.error(request, str(exc))
        return redirect("billing:staff_billable")
    access_log_record(
        actor=request.user,
        client=client,
        obj=invoice,
        action=AccessLogEntry.Action.CHANGE,
        request=request,
    )
    messages.success(request, _("The draft invoice is ready: check it, then issue it."))
    return redirect("billing:staff_invoice", invoice_uuid=invoice.uuid)


ACTIONS = {
    "issue": selectors.ISSUE,
    "void": selectors.ISSUE,
    "credit": selectors.ISSUE,
    "pay": selectors.PAY,
}


@staff_required
@require_http_methods(["GET", "POST"])
def staff_invoice(request, invoice_uuid):
    invoice = selectors.staff_document(user=request.user, invoice_uuid=invoice_uuid)
    if invoice is None:
        raise Http404
    if not selectors.may(request.user, selectors.VIEW, invoice.clinic_id):
        raise PermissionDenied
    payment_form = PaymentForm(prefix="pay")
    credit_form = CreditForm(prefix="credit")
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in ACTIONS:
            return HttpResponse(status=400)
        if not selectors.may(request.user, ACTIONS[action], invoice.clinic_id):
            raise PermissionDenied
        done, payment_form, credit_form = _act(request, invoice, action)
        if done is None:  # refused, nothing changed: the message says why
            return redirect("billing:staff_invoice", invoice_uuid=invoice.uuid)
        if done:
            access_log_record(
                actor=request.user,
                client=invoice.client,
                obj=invoice,
                action=AccessLogEntry.Action.CHANGE,
                request=request,
            )
            return redirect("billing:staff_invoice", invoice_uuid=invoice.uuid)
        invoice = selectors.staff_document(user=request.user, invoice_uuid=invoice_uuid)
    access_log_record(actor=request.user, client=invoice.client, obj=invoice, request=request)
    return render(
        request,
        "billing/staff_invoice.html",
        {
            "invoice": invoice,
            "balance": selectors.balance_from_prefetched(invoice),
            "payment_form": payment_form,
            "credit_form": credit_form,
            "may_issue": selectors.may(request.user, selectors.ISSUE, invoice.clinic_id),
            "may_pay": selectors.may(request.user, selectors.PAY, invoice.clinic_id),
            "may_download": selectors.may(request.user, selectors.BREAKDOWN, invoice.clinic_id),
            "statement_years": (
                statements.statement_years(invoice.clinic)
                if selectors.may(request.user, selectors.STATEMENTS, invoice.clinic_id)
                else []
            ),
        },
    )


def _act(request, invoice, action):
    payment_form = PaymentForm(prefix="pay")
    credit_form = CreditForm(prefix="credit")
    try:
        if action == "issue":
            services.invoice_issue(invoice=invoice, actor=request.user)
            messages.success(request, _("The invoice is issued."))
        elif action == "void":
            services.invoice_void(invoice=invoice, actor=request.user)
            messages.success(request, _("The invoice is void."))
        elif action == "credit":
            credit_form = CreditForm(request.POST, prefix="credit")
            if not credit_form.is_valid():
                return False, payment_form, credit_form
            services.credit_note_issue(
                invoice=invoice, actor=request.user, reason=credit_form.cleaned_data["reason"]
            )
            messages.success(request, _("The credit note is issued."))
        else:
            payment_form = PaymentForm(request.POST, prefix="pay")
            if not payment_form.is_valid():
                return False, payment_form, credit_form
            data = payment_form.cleaned_data
            _payment, created = services.payment_record(
                invoice=invoice,
                method=data["method"],
                amount=data["amount"],
                received_on=data["received_on"],
                reference=data["reference"],
                submission=data["submission"],
                actor=request.user,
            )
            if created:
                messages.success(request, _("The payment is recorded."))
            else:
                messages.info(request, _("This payment was already recorded: nothing was added."))
    except services.BillingError as exc:
        if action == "pay":
            payment_form.refuse(str(exc))
        elif action == "credit":
            credit_form.add_error(None, str(exc))
        else:
            messages.error(request, str(exc))
            return None, payment_form, credit_form
        return False, payment_form, credit_form
    return True, payment_form, credit_form


@staff_required
@require_GET
def staff_breakdown(request, invoice_uuid):
    invoice = selectors.staff_document(user=request.user, invoice_uuid=invoice_uuid)
    if invoice is None or invoice.status == Invoice.Status.DRAFT:
        raise Http404
    if not selectors.may(request.user, selectors.BREAKDOWN, invoice.clinic_id):
        raise PermissionDenied
    language = _language(request, invoice.client.user.preferred_language)
    content = breakdown_pdf(invoice, language)
    access_log_record(
        actor=request.user,
        client=invoice.client,
        obj=invoice,
        action=AccessLogEntry.Action.DOWNLOAD,
        request=request,
    )
    return _pdf_response(content, f"breakdown-{invoice.number}-{language}.pdf")


# --- Year-end statements ------------------------------------------------------------------
# The request writes a job row; the worker builds the PDFs (billing.statements).


def _statement_response(statement, language: str) -> HttpResponse:
    return _pdf_response(statement.pdf(language), f"statement-{statement.year}-{language}.pdf")


@client_required
@require_http_methods(["GET", "POST"])
def portal_statements(request):
    client = client_profile(user=request.user)
    if client is None:
        raise Http404
    error = ""
    if request.method == "POST":
        try:
            year = statements.year_parse(client.clinic, request.POST.get("year"))
            job, created = statements.statement_job_request(
                clinic=client.clinic, client=client, year=year, actor=request.user
            )
        except statements.StatementError as exc:
            error = str(exc)
        else:
            if created:
                messages.success(request, _("Your statement is being prepared."))
            else:
                messages.info(request, _("Your statement is already being prepared."))
            return redirect("billing:portal_statements")
    page = selectors.client_statements(client=client)
    return render(
        request,
        "billing/portal_statements.html",
        {"page": page, "years": statements.statement_years(client.clinic), "error": error},
        status=400 if error else 200,
    )


@client_required
@require_GET
def portal_statement_status(request, job_uuid):
    client = client_profile(user=request.user)
    job = selectors.client_statement_job(client=client, job_uuid=job_uuid)
    if job is None:
        raise Http404
    return render(
        request,
        "billing/_statement_job.html",
        {"job": job, "status_url": request.path, "portal": True},
    )


@client_required
@require_GET
def portal_statement_pdf(request, statement_uuid):
    client = client_profile(user=request.user)
    statement = selectors.client_statement(client=client, statement_uuid=statement_uuid)
    if statement is None:
        raise Http404
    return _statement_response(statement, _language(request, request.user.preferred_language))


@staff_required
@require_http_methods(["GET", "POST"])
def staff_statements(request):
    if not selectors.may(request.user, selectors.STATEMENTS):
        raise PermissionDenied
    clinics = selectors.statement_clinics(user=request.user)
    error = ""
    if request.method == "POST":
        try:
            clinic, client = selectors.statement_target(
                user=request.user,
                clinic_id=request.POST.get("clinic"),
                client_uuid=request.POST.get("client"),
            )
            year = statements.year_parse(clinic, request.POST.get("year"))
            job, created = statements.statement_job_request(
                clinic=clinic, client=client, year=year, actor=request.user
            )
        except selectors.NotFound:
            raise Http404 from None
        except statements.StatementError as exc:
            error = str(exc)
        else:
            if not created:
                messages.info(request, _("These statements are already being prepared."))
            return redirect("billing:staff_statement_job", job_uuid=job.uuid)
    years = statements.statement_years(clinics[0]) if clinics else []
    jobs = selectors.staff_statement_jobs(user=request.user, page=request.GET.get("page"))
    # A job for one client names them: that they are the clinic's client is
    # their health information.
    access_log_record_many(
        actor=request.user,
        items=[(job.client, job) for job in jobs.object_list if job.client_id],
        request=request,
    )
    return render(
        request,
        "billing/staff_statements.html",
        {"clinics": clinics, "years": years, "jobs": jobs, "error": error},
        status=400 if error else 200,
    )


def _staff_job(request, job_uuid):
    job = selectors.staff_statement_job(user=request.user, job_uuid=job_uuid)
    if job is None:
        raise Http404
    if not selectors.may(request.user, selectors.STATEMENTS, job.clinic_id):
        raise PermissionDenied
    return job


@staff_required
@require_GET
def staff_statement_job(request, job_uuid):
    job = _staff_job(request, job_uuid)
    page = selectors.job_statements(job=job, page=request.GET.get("page"))
    # Who paid the clinic, and how much, is a client's health information.
    access_log_record_many(
        actor=request.user, items=[(s.client, s) for s in page.object_list], request=request
    )
    return render(request, "billing/staff_statement_job.html", {"job": job, "page": page})


@staff_required
@require_GET
def staff_statement_status(request, job_uuid):
    job = _staff_job(request, job_uuid)
    return render(
        request,
        "billing/_statement_job.html",
        {"job": job, "status_url": request.path, "portal": False},
    )


@staff_required
@require_GET
def staff_statement_pdf(request, statement_uuid):
    statement = selectors.staff_statement(user=request.user, statement_uuid=statement_uuid)
    if statement is None:
        raise Http404
    if not selectors.may(request.user, selectors.STATEMENTS, statement.clinic_id):
        raise PermissionDenied
    language = _language(request, statement.client.user.preferred_language)
    response = _statement_response(statement, language)
    access_log_record(
        actor=request.user,
        client=statement.client,
        obj=statement,
        action=AccessLogEntry.Action.DOWNLOAD,
        request=request,
    )
    return response
