"""The API at /api/v1. Every operation requires authentication unless listed in PUBLIC_OPERATIONS."""

from __future__ import annotations

from ninja import NinjaAPI

from pingan.core.api import (
    BearerAuth,
    SessionAuth,
    StrictQueryParser,
    install_error_handlers,
    require_api_user,
)

api = NinjaAPI(
    title="Pingan API",
    version="1",
    description="平安综治平台接口。认证：浏览器会话，或 POST /api/v1/auth/token 取得的 Bearer 令牌。",
    auth=[BearerAuth(), SessionAuth()],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    docs_decorator=require_api_user,
    parser=StrictQueryParser(),
)
install_error_handlers(api)

# (method, path) pairs that answer anonymous callers. Everything else refuses them (architecture test).
PUBLIC_OPERATIONS: set[tuple[str, str]] = {("POST", "/api/v1/auth/token")}


def _register_routers() -> None:
    from pingan.accounts.api import router as accounts_router
    from pingan.aftercare.api import router as aftercare_router
    from pingan.areas.api import router as areas_router
    from pingan.audit.api import router as audit_router
    from pingan.core.api_routes import router as core_router
    from pingan.core.sensitive_api import router as sensitive_router
    from pingan.correction.api import router as correction_router
    from pingan.events.api import router as events_router
    from pingan.people.api import router as people_router
    from pingan.schools.api import router as schools_router

    api.add_router("/auth", accounts_router)
    api.add_router("/", areas_router)
    api.add_router("/audit", audit_router)
    api.add_router("/", core_router)
    api.add_router("/", sensitive_router)
    api.add_router("/", events_router)
    api.add_router("/", people_router)
    api.add_router("/", schools_router)
    api.add_router("/", correction_router)
    api.add_router("/aftercare", aftercare_router)


_register_routers()
