"""The ports: what the application needs from the outside world, as typing.Protocol classes."""

from __future__ import annotations

from application.ports.cache import Cache
from application.ports.clock import Clock
from application.ports.crm import CrmGateway, CrmGatewayFactory, CrmRecord, CrmRecordPage, ObjectSchema
from application.ports.health import DependencyProbe
from application.ports.rate_limit import RateLimitDecision, RateLimiter
from application.ports.repositories import AccountRepository, OrgRepository
from application.ports.secret_box import SecretBox
from application.ports.task_queue import TaskQueue
from application.ports.unit_of_work import UnitOfWork

__all__ = [
    "AccountRepository",
    "Cache",
    "Clock",
    "CrmGateway",
    "CrmGatewayFactory",
    "CrmRecord",
    "CrmRecordPage",
    "DependencyProbe",
    "ObjectSchema",
    "OrgRepository",
    "RateLimitDecision",
    "RateLimiter",
    "SecretBox",
    "TaskQueue",
    "UnitOfWork",
]
