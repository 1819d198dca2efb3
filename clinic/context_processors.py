from django.conf import settings


def site(request):
    return {"site_name": settings.CLINIC_SITE_NAME}
