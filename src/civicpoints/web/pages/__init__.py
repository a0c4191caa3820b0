"""The web app's pages: one module per audience, as thin as the API's routers.

`install(app)` adds the page routes and makes errors pages for browsers (problem+json stays
for `/api/`).
"""

from fastapi import FastAPI

from civicpoints.web.pages import account, admin_rewards, admin_staff, errors, resident

ROUTERS = (account.router, resident.router, admin_rewards.router, admin_staff.router)


def install(app: FastAPI) -> None:
    """Add the pages and their error handling to the app."""
    for router in ROUTERS:
        app.include_router(router)
    errors.install(app)
