"""ExportCustomers: every account with its customer, so anyone can score xsell against their own labels."""

from __future__ import annotations

from dataclasses import dataclass

from application.resolution.ports import ResolutionUnitOfWork

__all__ = ["CustomerExportRow", "ExportCustomers"]


@dataclass(frozen=True, slots=True)
class CustomerExportRow:
    org_id: str
    account_external_id: str
    customer_id: str
    customer_name: str
    confidence: float
    method: str
    decided_by: str


class ExportCustomers:
    def __init__(self, uow: ResolutionUnitOfWork) -> None:
        self._uow = uow

    async def execute(self) -> list[CustomerExportRow]:
        async with self._uow as uow:
            customers = await uow.customers.all()
        rows = [
            CustomerExportRow(
                key.org_id, key.external_id, c.id, c.name, m.confidence, m.method.value, m.decided_by
            )
            for c in customers
            for key, m in c.members.items()
        ]
        rows.sort(key=lambda r: (r.org_id, r.account_external_id))
        return rows
