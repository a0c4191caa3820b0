"""The web app's pages: one module per audience, as thin as the API's routers.

`install(app)` adds the page routes and makes errors pages for browsers (problem+json stays
for `/api/`).
"""

from fastapi import FastAPI

from civicpoints.web.pages import (
    account,
    activities,
    admin,
    admin_records,
    admin_rewards,
    admin_risk,
    admin_settings,
    admin_staff,
    appeals,
    attendance,
    cases,
    certificates,
    dashboard,
    donations,
    education,
    errors,
    hazards,
    history,
    insights,
    insights_outcomes,
    merchant,
    mydata,
    notices,
    offline,
    printout,
    rechecks,
    record_search,
    reports,
    resident,
    review_record,
    reviews,
    rewards,
    simulator,
    staff,
    surveys,
    teams,
    venue_screen,
    verification,
    vouchers,
)

ROUTERS = (
    account.router,
    resident.router,
    activities.router,
    attendance.router,
    history.router,
    notices.router,
    admin.router,
    admin_records.router,
    dashboard.router,
    insights.router,
    insights_outcomes.router,
    simulator.router,
    reports.router,
    staff.router,
    venue_screen.router,
    offline.router,
    reviews.router,
    review_record.router,
    record_search.router,
    appeals.router,
    rechecks.router,
    cases.router,
    admin_risk.router,
    admin_settings.router,
    rewards.router,
    vouchers.router,
    merchant.router,
    mydata.router,
    printout.router,
    certificates.router,
    admin_rewards.router,
    admin_staff.router,
    verification.router,
    hazards.router,
    donations.router,
    education.router,
    surveys.router,
    teams.router,
)


def install(app: FastAPI) -> None:
    """Add the pages and their error handling to the app."""
    for router in ROUTERS:
        app.include_router(router)
    errors.install(app)
