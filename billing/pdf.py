"""PDFs with WeasyPrint that fetch nothing from outside.

The only URLs a document may load are the app's own static files (its fonts
and logo, under billing/static/billing/); every other URL is refused, so a
document renders the same, offline, on every machine, and a value a person
typed can never make the server fetch an address. Documents are tagged
PDF/UA with their title and language (the `<title>` and `<html lang>`)."""

import hashlib
import logging
import mimetypes
from pathlib import Path

from django.core.cache import caches
from django.template.loader import render_to_string
from django.utils import translation

# WeasyPrint tells each step of each render at INFO, from its import on:
# only its warnings are news.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

from weasyprint import HTML  # noqa: E402
from weasyprint.urls import URLFetcher, URLFetcherResponse  # noqa: E402

STATIC_ROOT = (Path(__file__).resolve().parent / "static" / "billing").resolve()
BASE_URL = STATIC_ROOT.as_uri() + "/"
PDF_VARIANT = "pdf/ua-1"
CACHE_SECONDS = 24 * 3600


class StaticOnlyFetcher(URLFetcher):
    """Serves files under STATIC_ROOT (file: URLs only), refuses the rest."""

    def __init__(self, **kwargs) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False, **kwargs)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        path = self.local_path(url)
        if path is None:
            self.refused.append(url)
            raise ValueError(f"refused: {url[:200]}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            url, body=path.read_bytes(), headers={"Content-Type": content_type}
        )

    @staticmethod
    def local_path(url: str) -> Path | None:
        if not url.startswith("file:///"):
            return None
        from urllib.parse import unquote, urlsplit

        parts = urlsplit(url)
        if parts.netloc or parts.query:
            return None
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(STATIC_ROOT) or not path.is_file():
            return None
        return path


def html_to_pdf(html: str) -> bytes:
    return HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher()).write_pdf(
        pdf_variant=PDF_VARIANT
    )


def render(template: str, context: dict, *, language: str) -> tuple[str, bytes]:
    """(html, pdf) of a template in a language."""
    with translation.override(language):
        html = render_to_string(template, {**context, "language": language, "base": BASE_URL})
    return html, html_to_pdf(html)


def cached(key: str, build) -> bytes:
    """A PDF kept until what it shows changes (the key names its version)."""
    cache = caches["default"]
    cache_key = "billing-pdf:" + hashlib.sha256(key.encode()).hexdigest()
    pdf = cache.get(cache_key)
    if pdf is None:
        pdf = build()
        cache.set(cache_key, pdf, CACHE_SECONDS)
    return pdf
