"""The operations dashboard: one static page and its scripts, served by the read side at `/dashboard`.

The page holds no figures: after sign-in (an access token) it asks the read side's aggregate API
(`statistics_routes`) for everything it shows, with the reader's own token, so disclosure control
applies to it exactly as to any other client. Charts are drawn by Chart.js, shipped in `vendor/`
(deploy/vendor/fetch-chartjs.sh re-fetches it), so the page needs no internet. The page and its assets
need no token: they contain no data.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from shared.domain import NotFound

HERE = Path(__file__).resolve().parent / "dashboard"

# Only these files are served (no directory mount, so nothing else under the package can be read).
ASSETS = {
    "dashboard.js": (HERE / "dashboard.js", "text/javascript"),
    "dashboard.css": (HERE / "dashboard.css", "text/css"),
    "chart.umd.min.js": (HERE / "vendor" / "chart.umd.min.js", "text/javascript"),
    "chart.js-LICENSE.md": (HERE / "vendor" / "chart.js-LICENSE.md", "text/markdown"),
}

# Scripts and styles only from this origin (no inline code), requests only to this origin.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

router = APIRouter(tags=["dashboard"], include_in_schema=False)


@router.get("/dashboard")
async def dashboard_page() -> FileResponse:
    return FileResponse(
        HERE / "index.html", media_type="text/html", headers={"Content-Security-Policy": PAGE_POLICY}
    )


@router.get("/dashboard/assets/{name}")
async def dashboard_asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise NotFound(f"no dashboard asset {name!r}")
    path, media_type = ASSETS[name]
    return FileResponse(path, media_type=media_type, headers={"Content-Security-Policy": PAGE_POLICY})
