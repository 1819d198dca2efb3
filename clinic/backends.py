"""The authentication backends, reading a signed-in person's staff or client
profile with the person, and whether they have an authenticator: every page
asks which profile they have (the staff gate, the portal) and the staff gate
asks about two-factor, and this is one query instead of four.

That query runs on every signed-in request, and building it with the ORM
(three models' columns, two joins, a subquery) cost more than the rest of
the request (1.7 ms of CPU against 1.8 ms for the whole anonymous one-query
page, issue 15). It is built once per process and database, then only run:
the same SQL, the same rows, the same objects (the ORM's own converters and
populators turn the row into the person and their profiles), read afresh
from the database on every request, so a deactivation, a new password or an
authenticator removed counts from the next request, as before."""

import threading

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import backends, get_user_model
from django.db import connections, router
from django.db.models import Exists, OuterRef
from django.db.models.query import get_related_populators


def _person_query():
    from allauth.mfa.models import Authenticator

    return (
        get_user_model()
        ._default_manager.select_related("staff_profile", "client_profile")
        .annotate(
            # Read by the staff gate (clinic.middleware.mfa_enabled): the
            # state as the request began, as allauth's own check would see it.
            has_authenticator=Exists(Authenticator.objects.filter(user_id=OuterRef("pk")))
        )
    )


class _CompiledPersonQuery:
    """`_person_query().get(pk=...)`, compiled once per database alias and
    vendor. What the ORM does for each row (ModelIterable) is done here with
    the parts it computes from the compiled query, kept."""

    # A primary key no row has: its place in the compiled parameters is
    # where each request's key goes.
    _MARK = -7_000_000_000_000_001

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, str], tuple] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str):
        queryset = _person_query().using(alias).filter(pk=self._MARK)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        params = tuple(params)
        if params.count(self._MARK) != 1:  # pragma: no cover - the query above has one
            raise RuntimeError("The person query's parameters are not as expected.")
        at = params.index(self._MARK)
        select, klass_info = compiler.select, compiler.klass_info
        fields = [s[0] for s in select[0 : compiler.col_count]]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        init_list = [f[0].target.attname for f in select[start:end]]
        return (
            sql,
            params,
            at,
            compiler,
            compiler.get_converters(fields),
            klass_info["model"],
            (start, end),
            init_list,
            get_related_populators(klass_info, select, alias),
            dict(compiler.annotation_col_map),
        )

    def get(self, pk):
        model = get_user_model()
        alias = router.db_for_read(model)
        key = (alias, connections[alias].vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.setdefault(key, self._compile(alias))
        sql, params, at, compiler, converters, model_cls, bounds, init_list, populators, notes = (
            compiled
        )
        start, end = bounds
        # The key as the ORM would send it (an int for an integer key).
        value = model._meta.pk.get_db_prep_value(pk, connections[alias], prepared=False)
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, (*params[:at], value, *params[at + 1 :]))
            row = cursor.fetchone()
        if row is None:
            return None
        if converters:
            row = next(iter(compiler.apply_converters([row], converters)))
        person = model_cls.from_db(alias, init_list, row[start:end])
        for populator in populators:
            populator.populate(row, person)
        for name, position in notes.items():
            setattr(person, name, row[position])
        return person


_person = _CompiledPersonQuery()


class _ProfilesWithUser:
    def get_user(self, user_id):
        user = _person.get(user_id)
        if user is None:
            return None
        return user if self.user_can_authenticate(user) else None


class ModelBackend(_ProfilesWithUser, backends.ModelBackend):
    pass


class AuthenticationBackend(_ProfilesWithUser, AllauthBackend):
    pass
