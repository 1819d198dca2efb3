"""Row counts of many models in one query (the fuzz tests take them before
and after every example)."""

from django.db import connection


def rows_per_model(models) -> dict[str, int]:
    """{label: model.objects.count()} for each model, as one UNION ALL of the
    same COUNTs (each through the model's `objects` manager, as before)."""
    models = list(models)
    parts, params = [], []
    for index, model in enumerate(models):
        sql, part_params = model.objects.order_by().values("pk").query.sql_with_params()
        # Django's own compiled SQL, values as parameters: nothing here comes from input.
        parts.append(f"SELECT {index}, COUNT(*) FROM ({sql}) AS rows_{index}")  # noqa: S608
        params.extend(part_params)
    if not parts:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        counts = dict(cursor.fetchall())
    return {model._meta.label: counts[index] for index, model in enumerate(models)}
