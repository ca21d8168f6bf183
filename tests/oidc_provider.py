"""A small OpenID Connect provider for the sign-in tests: discovery, authorize (auto-approves one user), token, JWKS."""
from __future__ import annotations

import base64
import secrets
import threading
import time
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from waitress.server import create_server

from .helpers import free_port


class OidcProvider:
    """Signs in whoever `email` names; issues RS256 ID tokens that the router must verify against the JWKS."""

    def __init__(self, client_id: str = "luukku", client_secret: str = "oidc-test-secret") -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.client_id, self.client_secret = client_id, client_secret
        self.email = "aino.admin@example.org"
        self.subject = "user-1"
        self.email_verified: object = True  # None: the claim is left out
        self.amr: list[str] | None = ["pwd", "mfa"]
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})
        self.codes: dict[str, dict] = {}
        self.app = self._make_app()

    def _make_app(self) -> Flask:
        app = Flask("oidc-provider")

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(issuer=self.issuer, authorization_endpoint=f"{self.issuer}/authorize",
                           token_endpoint=f"{self.issuer}/token", jwks_uri=f"{self.issuer}/jwks",
                           response_types_supported=["code"], subject_types_supported=["public"],
                           id_token_signing_alg_values_supported=["RS256"],
                           token_endpoint_auth_methods_supported=["client_secret_basic"])

        @app.get("/jwks")
        def jwks():
            return jsonify(keys=[self.key.as_dict(private=False)])

        @app.get("/authorize")
        def authorize():
            args = request.args
            if args.get("client_id") != self.client_id or args.get("response_type") != "code":
                return "bad request", 400
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"nonce": args.get("nonce"), "redirect_uri": args["redirect_uri"]}
            return redirect(f"{args['redirect_uri']}?{urlencode({'code': code, 'state': args.get('state', '')})}")

        @app.post("/token")
        def token():
            expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
            if request.headers.get("Authorization") != f"Basic {expected}":
                return jsonify(error="invalid_client"), 401
            grant = self.codes.pop(request.form.get("code", ""), None)
            if grant is None or grant["redirect_uri"] != request.form.get("redirect_uri"):
                return jsonify(error="invalid_grant"), 400
            now = int(time.time())
            claims = {"iss": self.issuer, "sub": self.subject, "aud": self.client_id, "iat": now, "exp": now + 300,
                      "nonce": grant["nonce"], "email": self.email}
            if self.email_verified is not None:
                claims["email_verified"] = self.email_verified
            if self.amr is not None:
                claims["amr"] = self.amr
            id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.key)
            return jsonify(access_token=secrets.token_urlsafe(16), token_type="Bearer", expires_in=300,
                           id_token=id_token)

        return app

    def __enter__(self) -> "OidcProvider":
        self.server = create_server(self.app, host="127.0.0.1", port=self.port, threads=2)
        threading.Thread(target=self.server.run, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.close()

    def settings(self) -> dict:
        return {"oidc_issuer": self.issuer, "oidc_client_id": self.client_id, "oidc_client_secret": self.client_secret}
