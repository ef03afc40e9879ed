"""The Web PS's error pages and its header on a phone, in Chromium (issue 8)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from mes.portal.tests.browser.conftest import PHONE, expect_error_page, layout_problems

from .conftest import check_a11y, pro_login


def test_web_ps_error_pages_in_french_in_its_own_look(page, live_server, dr_durand):
    for path in ("/pro/nulle-part/", "/pro/deconnexion/"):
        expect_error_page(page, path)
    page.goto("/pro/nulle-part/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    expect(page.get_by_role("banner")).to_contain_text("Espace professionnel")
    check_a11y(page, "pro-erreur-404-anonyme")
    pro_login(page, dr_durand)
    page.goto("/pro/deconnexion/")  # POST only
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Action impossible depuis cette adresse"
    )
    check_a11y(page, "pro-erreur-405")
    page.get_by_role("link", name="Retour à l'espace professionnel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rechercher un patient")


def test_web_ps_header_on_a_phone(page, live_server, dr_durand):
    pro_login(page, dr_durand)
    page.set_viewport_size(PHONE)
    page.goto("/pro/")
    banner = page.get_by_role("banner")
    expect(banner.get_by_role("button", name="Se déconnecter")).to_be_in_viewport()
    expect(banner).to_contain_text("Dr Paul Durand")
    header = banner.bounding_box()
    assert header is not None and header["height"] < 200, header
    assert layout_problems(page) == []
    check_a11y(page, "pro-accueil-telephone")
    expect(page).to_have_url(re.compile(r"/pro/$"))
