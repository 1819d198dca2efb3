"""The app's URLs plus three floor pages, served only when benchmarking
(BENCH_FLOOR=1): the same server's cost of a bare response and of a template
with one query, to compare the real pages with."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

from clinic.models import Clinic
from config.urls import urlpatterns as app_urlpatterns


@login_not_required
def bare(request):
    return HttpResponse("ok")


@login_not_required
def one_query(request):
    return render(
        request, "bench/one_query.html", {"clinic": Clinic.objects.order_by("pk").first()}
    )


def signed_in_one_query(request):
    """The same template and query behind everything a staff page passes
    through: the session, the person, two-factor and the staff time limits."""
    return render(
        request, "bench/one_query.html", {"clinic": Clinic.objects.order_by("pk").first()}
    )


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/one-query/", one_query),
    path("staff/bench-one-query/", signed_in_one_query),
    *app_urlpatterns,
]
