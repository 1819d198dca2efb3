from django.conf import settings


def broker_status() -> str:
    """ "ok" or "down", answered within about a second whatever the broker does."""
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
        from pathlib import Path

        return "ok" if Path(folder).is_dir() else "down"
    if url.startswith(("redis://", "rediss://")):
        import redis

        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
            client.ping()
        except redis.RedisError:
            return "down"
        finally:
            client.close()
        return "ok"
    return "unknown"
