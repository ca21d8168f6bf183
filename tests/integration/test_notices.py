"""The privacy notice and the accessibility statement: public in fi, sv and en, filled from the settings (the
retention periods the purge applies), reworded by an admin (an audited change), linked from every public page."""
import re

from sqlalchemy import select

from router.storage.models import AuditEvent


def paragraphs(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_notices_name_the_retention_periods_in_force(phone_app, sessions):
    client = phone_app.test_client()
    for lang, title, months in (("fi", "Tietosuojaseloste", "24 kuukautta"), ("sv", "Dataskyddsbeskrivning",
                                "24 månader"), ("en", "Privacy notice", "24 months")):
        page = client.get(f"/privacy?lang={lang}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert f'<html lang="{lang}">' in html and f"<h1>{title}</h1>" in html
        assert months in paragraphs(html) and "luukku@example.org" in html
        assert html.count("<li>") == 5  # one line per retention period
    statement = client.get("/accessibility?lang=en").get_data(as_text=True)
    assert "<h1>Accessibility statement</h1>" in statement and "WCAG 2.1" in statement
    # The widget links to the notice, and every public page to both, in its own language.
    assert 'href="/privacy?lang=en">How we handle your data</a>' in client.get("/?lang=en").get_data(as_text=True)
    for path in ("/?lang=sv", "/impact?lang=sv", "/contacts?lang=sv"):
        html = client.get(path).get_data(as_text=True)
        assert 'href="/privacy?lang=sv"' in html and 'href="/accessibility?lang=sv"' in html, path


def test_an_admin_rewords_a_notice_and_the_change_is_audited(signed_in, sessions, staff):
    admin = signed_in("admin")
    page = admin.get("/staff/admin/notices").get_data(as_text=True)
    assert 'id="notice_privacy-fi"' in page and 'id="notice_accessibility-en"' in page
    text = "Rekisterinpitäjä on Esimerkkikaupunki.\n\nSäilytämme:\n- asiat kaksi vuotta\n- <b>chatit</b> kuukauden"
    resp = admin.post_form("/staff/admin/notices", "/staff/admin/notices",
                           {"key": "privacy", "language": "fi", "text": text})
    assert resp.status_code == 302
    html = admin.client.get("/privacy?lang=fi").get_data(as_text=True)
    assert "<p>Rekisterinpitäjä on Esimerkkikaupunki.</p>" in html
    assert "<li>&lt;b&gt;chatit&lt;/b&gt; kuukauden</li>" in html  # the admin's text is text, never markup
    assert admin.post_form("/staff/admin/notices", "/staff/admin/notices",
                           {"key": "faq_hours", "language": "fi", "text": "x"}).status_code == 400
    # Not an admin: no way in.
    assert signed_in("maija").get("/staff/admin/notices").status_code in (302, 403)
    with sessions() as s:
        changes = s.scalars(select(AuditEvent).where(AuditEvent.action == "admin.notices_page")).all()
        assert [e.actor for e in changes] == [staff["admin"]]  # the refused one changed nothing
        assert "Esimerkkikaupunki" not in str(changes[0].detail)
    # An empty text restores the default, filled from the settings.
    admin.post_form("/staff/admin/notices", "/staff/admin/notices", {"key": "privacy", "language": "fi", "text": ""})
    assert "24 kuukautta" in paragraphs(admin.client.get("/privacy?lang=fi").get_data(as_text=True))
