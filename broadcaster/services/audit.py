"""The audit trail: who did each step and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from broadcaster.store.models import AuditRow


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: object,
    now: datetime,
    **detail: Any,
) -> None:
    """Append one audit event inside the caller's transaction."""
    session.add(
        AuditRow(
            at=now,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            detail=detail,
        )
    )
