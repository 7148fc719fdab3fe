"""GET /webhooks/deliveries: whether each alert reached each department's webhook."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from casestream.read_models.webhook_deliveries import DeliveryFilter

from .auth import Role, require_roles
from .deps import ServicesDep
from .schemas import DeliveryOut

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


# delivery records span every department: not for department-bound roles
READERS = (Role.legal, Role.supervisor, Role.leader, Role.system)


@router.get(
    "/deliveries",
    response_model=list[DeliveryOut],
    dependencies=[Depends(require_roles(*READERS))],
)
def list_deliveries(
    services: ServicesDep,
    alert_id: str | None = None,
    webhook: Annotated[str | None, Query(description="webhook id from the webhooks file")] = None,
    status: Literal["pending", "delivered", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryOut]:
    """Deliveries newest first, with attempts, last HTTP status and error."""
    rows = services.deliveries.find(
        DeliveryFilter(alert_id=alert_id, webhook_id=webhook, status=status), limit=limit
    )
    return [DeliveryOut.from_row(row) for row in rows]
