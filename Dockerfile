# The production image: gunicorn for web, the same image runs the Celery
# worker and beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CLINIC_VAR_DIR=/app/var

RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 clinic

WORKDIR /app
COPY pyproject.toml README.md ./
COPY requirements/ requirements/
RUN pip install --no-cache-dir -c requirements/constraints.txt .

COPY . .
RUN python manage.py compilemessages --locale fr --ignore '.venv/*' \
 && DJANGO_PRODUCTION=1 SECRET_KEY=build-only ALLOWED_HOSTS=build python manage.py collectstatic --noinput \
 && mkdir -p /app/var && chown -R clinic:clinic /app/var

USER clinic
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
