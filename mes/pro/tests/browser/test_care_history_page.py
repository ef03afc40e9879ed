"""The Web PS « Histoire de santé » page in a real browser, checked with axe-core."""

from __future__ import annotations

from playwright.sync_api import expect

from mes.reimbursements.tests.conftest import history as history

from .conftest import check_a11y, pro_login


def test_the_medecin_traitant_reads_the_care_history(
    page, live_server, camille, dr_martin, history
):
    pro_login(page, dr_martin)
    page.goto(f"/pro/patients/{camille.pk}/histoire-de-sante/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Histoire de santé")
    expect(page.get_by_role("link", name="Histoire de santé")).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_text("METFORMINE 1000 MG CPR")).to_be_visible()
    check_a11y(page, "pro-histoire-de-sante")
