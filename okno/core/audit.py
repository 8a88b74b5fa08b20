"""The generic change log: before/after snapshots of registered models, attributed to the actor.

Models register with :func:`register`; their saves and deletes (from actions, admin or shell) are
recorded with the acting user from :mod:`okno.core.context`. Bulk loaders (``okno seed``) bypass
model signals and record one summary entry themselves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.signals import post_delete, post_save, pre_save

from okno.core import context

_registered: dict[type[models.Model], frozenset[str]] = {}
_SKIP = frozenset({"version", "search_text"})


def snapshot(instance: models.Model, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude or field.name in _SKIP:
            continue
        value = field.value_from_object(instance)
        if isinstance(field, models.FileField):
            value = value.name if value else ""
        data[field.attname if field.is_relation else field.name] = value
    # Round-trip through JSON so dates, decimals and UUIDs are stored as the API shows them.
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def actor_fields() -> dict[str, Any]:
    actor = context.current_actor()
    name = ""
    if actor is not None:
        name = getattr(actor, "username", "") or str(actor)
    return {
        "actor": actor if actor is not None and getattr(actor, "pk", None) else None,
        "actor_name": name or "anonymous",
        "request_id": context.current_request_id(),
    }


def log_change(instance: models.Model, action: str, before: dict | None, after: dict | None) -> None:
    from okno.core.models import ChangeLog

    if action == ChangeLog.Action.UPDATE and before == after:
        return
    ChangeLog.objects.create(
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        before=before,
        after=after,
        **actor_fields(),
    )


def _pre_save(sender: type[models.Model], instance: models.Model, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance._state.adding or instance.pk is None:
        instance._audit_before = None  # type: ignore[attr-defined]
        return
    exclude = _registered[sender]
    old = sender._default_manager.filter(pk=instance.pk).first()
    instance._audit_before = snapshot(old, exclude) if old is not None else None  # type: ignore[attr-defined]


def _post_save(
    sender: type[models.Model], instance: models.Model, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if raw:
        return
    after = snapshot(instance, _registered[sender])
    before = getattr(instance, "_audit_before", None)
    log_change(instance, "create" if created else "update", None if created else before, after)


def _post_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    log_change(instance, "delete", snapshot(instance, _registered[sender]), None)


def register(model: type[models.Model], exclude: tuple[str, ...] = ()) -> type[models.Model]:
    """Record every save and delete of ``model``. Usable as a class decorator."""
    _registered[model] = frozenset(exclude)
    uid = f"okno-audit-{model._meta.label_lower}"
    pre_save.connect(_pre_save, sender=model, dispatch_uid=uid + "-pre")
    post_save.connect(_post_save, sender=model, dispatch_uid=uid + "-post")
    post_delete.connect(_post_delete, sender=model, dispatch_uid=uid + "-del")
    return model


def log_access(*, actor: Any, customer_id: int, context_name: str, remote_addr: str | None = None) -> None:
    """Record that ``actor`` was shown customer ``customer_id``'s personal data."""
    from okno.core.models import AccessLog

    AccessLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=getattr(actor, "username", "") or "anonymous",
        request_id=context.current_request_id(),
        customer_id=customer_id,
        context=context_name[:100],
        remote_addr=remote_addr or None,
    )


def log_access_many(
    *, actor: Any, customer_ids: Iterable[int], context_name: str, remote_addr: str | None = None
) -> None:
    """One access-log row per customer shown in a list (search results, exports)."""
    from okno.core.models import AccessLog

    ids = list(dict.fromkeys(i for i in customer_ids if i))
    if not ids:
        return
    common = {
        "actor": actor if getattr(actor, "pk", None) else None,
        "actor_name": getattr(actor, "username", "") or "anonymous",
        "request_id": context.current_request_id(),
        "context": context_name[:100],
        "remote_addr": remote_addr or None,
    }
    AccessLog.objects.bulk_create([AccessLog(customer_id=i, **common) for i in ids])
