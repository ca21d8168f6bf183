"""Corrections become training data only without who the customer was (names, contacts, IDs), amounts kept."""
from types import SimpleNamespace

import pytest

from router.casework.corrections import deidentify, known_names

CASE = SimpleNamespace(customer_name="Anna Asiakas", company="Esimerkki Oy")


@pytest.mark.parametrize("said, kept", [
    ("Olen Anna Asiakas, soita 040 123 4567 tai anna.asiakas@example.org",
     "Olen <name>, soita <phone> tai <email>"),
    ("olen anna asiakas ja tarvitsen lainaa", "olen <name> ja tarvitsen lainaa"),
    ("Anna tarvitsee lainaa, anna tietoja rahoituksesta", "<name> tarvitsee lainaa, anna tietoja rahoituksesta"),
    ("Esimerkki Oy (1234567-8) tarvitsee lainaa, tili FI21 1234 5600 0007 85",
     "<name> (<business_id>) tarvitsee lainaa, tili <iban>"),
    ("hetu 010190-123A, numero +358401234567 tai 09 1234 567", "hetu <personal_id>, numero <phone> tai <phone>"),
    ("Jag heter Anna Asiakas, ring +46 70 123 45 67", "Jag heter <name>, ring <phone>"),
    ("tarvitsen 1 500 000 euroa ja 2 työntekijää vuonna 2027",
     "tarvitsen 1 500 000 euroa ja 2 työntekijää vuonna 2027"),
    ("lainaa 12 000 000 € koneeseen", "lainaa 12 000 000 € koneeseen"),
])
def test_identifying_details_become_placeholders(said, kept):
    assert deidentify(said, **known_names(CASE)) == kept
