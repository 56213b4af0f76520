"""The console's page modules, one per area; each exposes a FastAPI `router`."""

from __future__ import annotations

from broadcaster.web import api
from broadcaster.web.pages import (
    account,
    admin,
    approval,
    asrun,
    bulletins,
    district,
    emergency,
    overview,
    reports,
    schedule,
)

# Every page module, in menu order; a new area is added here (tests walk this list).
PAGE_MODULES = (
    account,
    overview,
    bulletins,
    approval,
    schedule,
    emergency,
    asrun,
    reports,
    admin,
    district,
    api,
)
