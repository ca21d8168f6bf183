"""A local stand-in of the trade register's open data (YTJ, PRH's opendata-ytj-api v3): `GET
/opendata-ytj-api/v3/companies?businessId=…` answers in the registry's documented shape (`companies`, each with
`businessId`, `names`, `companyForms`, `mainBusinessLine`, `addresses` with `postOffices`, descriptions by
`languageCode`), an unknown ID with no companies, and `down` makes it answer 503."""
from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from .helpers import serve, stop


def company(business_id: str, name: str, *, former: str = "") -> dict:
    """A register entry as the v3 API gives it (fictional company)."""
    names = [{"name": name, "type": "1", "registrationDate": "2019-05-02", "version": 1, "source": "1"}]
    if former:
        names.append({"name": former, "type": "1", "registrationDate": "2015-01-01", "endDate": "2019-05-01",
                      "version": 2, "source": "1"})
    return {
        "businessId": {"value": business_id, "registrationDate": "2015-01-01", "source": "3"},
        "names": names,
        "mainBusinessLine": {"type": "10720", "typeCodeSet": "TOIMI4", "registrationDate": "2015-01-01",
                             "descriptions": [{"languageCode": "1", "description": "Näkkileivän ja keksien valmistus"},
                                              {"languageCode": "2", "description": "Tillverkning av knäckebröd"},
                                              {"languageCode": "3", "description": "Manufacture of rusks and biscuits"}]},
        "companyForms": [{"type": "16", "registrationDate": "2015-01-01", "version": 1, "source": "1",
                          "descriptions": [{"languageCode": "1", "description": "Osakeyhtiö"},
                                           {"languageCode": "2", "description": "Aktiebolag"},
                                           {"languageCode": "3", "description": "Limited company"}]}],
        "addresses": [{"type": 1, "street": "Esimerkkikatu", "buildingNumber": "5", "postCode": "00100",
                       "country": "FI", "registrationDate": "2019-05-02", "source": "0",
                       "postOffices": [{"languageCode": "1", "city": "HELSINKI", "municipalityCode": "091"},
                                       {"languageCode": "2", "city": "HELSINGFORS", "municipalityCode": "091"}]}],
        "tradeRegisterStatus": "1", "status": "2", "registrationDate": "2015-01-01",
        "lastModified": "2026-11-01T10:00:00",
    }


class RegistryStandIn:
    def __init__(self, companies: dict[str, dict]) -> None:
        self.companies = companies
        self.down = False
        self.asked: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                parts = urlsplit(self.path)
                wanted = parse_qs(parts.query).get("businessId", [""])[0]
                registry.asked.append(wanted)
                if registry.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                if parts.path != "/opendata-ytj-api/v3/companies":
                    self.send_response(404)
                    self.end_headers()
                    return
                found = [registry.companies[wanted]] if wanted in registry.companies else []
                body = json.dumps({"totalResults": len(found), "companies": found}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server, origin = serve(Handler)
        self.url = f"{origin}/opendata-ytj-api/v3"

    def close(self) -> None:
        stop(self.server)
