"""The heat map's part of `/designer/{key}` (api/web/designer_insight.py serves its
figures and diagrams): what the page sends its script."""

from __future__ import annotations

from typing import Any

from api.web.kit import Page
from engine import definitions, texts


def _version_url(key: str, part: str) -> str:
    """Return the address of a version's `part`, {n} left for the script to fill in."""
    return f"/designer/{key}/versions/{{n}}/{part}"


def heatmap_data(page: Page, key: str) -> dict[str, Any]:
    """Return what the heat map of `/designer/{key}` needs: the versions, the addresses
    of their figures and diagrams, and its words (unfilled: the script fills {n} …)."""
    versions = [v.version for v in definitions.list_versions(page.session, key)]
    return {
        "versions": [{"value": n, "label": page.t("designer_version_n", n=n)} for n in versions],
        "stats_url": _version_url(key, "stats"),
        "bpmn_url": _version_url(key, "bpmn"),
        "texts": {name: texts.template(name, page.language) for name in _HEATMAP_TEXTS},
    }


_HEATMAP_TEXTS = (
    "designer_heat_loading",
    "designer_heat_failed",
    "designer_heat_none",
    "designer_heat_share_0",
    "designer_heat_share_low",
    "designer_heat_share_mid",
    "designer_heat_share_high",
    "designer_heat_volume_low",
    "designer_heat_volume_mid",
    "designer_heat_volume_high",
)
