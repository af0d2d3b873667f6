"""The vertical's pages: the start pages (register a complaint, register a visitor)
and the customer page, on the platform's page kit; their templates are in
crm/templates/, which the kit searches after its own."""

from __future__ import annotations

from pathlib import Path

from api.web.kit import add_template_folder

add_template_folder(Path(__file__).resolve().parents[1] / "templates")

from crm.web import reports_sections  # noqa: E402, F401 - its sections join /reports
