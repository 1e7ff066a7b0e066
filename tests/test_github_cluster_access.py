"""`deploy/github-oidc-kubeconfig.sh` (cloud=github): a real kubectl, through the kubeconfig
the script writes, asks GitHub's token endpoint for an OIDC token and sends it to the API
server; the credential carries the token's expiry, so a long `helm upgrade --wait` fetches a
new one instead of failing on a 401 half-way (GitHub's tokens live minutes).

The token endpoint and the API server are local stand-ins (the API server over TLS with a
throw-away CA, as a real one is); the script, curl, jq and kubectl are the real ones.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest
from support import tool

SCRIPT = "deploy/github-oidc-kubeconfig.sh"


def _segment(claims: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()


def _jwt(claims: dict[str, object]) -> str:
    return f"{_segment({'alg': 'RS256', 'kid': 'k'})}.{_segment(claims)}.c2ln"


class _StandIns(http.server.BaseHTTPRequestHandler):
    """GET /token: GitHub's ID-token endpoint; anything else: the API server's /version."""

    token = ""
    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        if self.path.startswith("/token"):
            body = {"value": self.token, "count": 1}
        else:
            self.seen.append(self.headers.get("Authorization"))
            body = {"major": "1", "minor": "33", "gitVersion": "v1.33.0"}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        """Quiet."""


def _serve(server: http.server.HTTPServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def token_endpoint() -> Iterator[str]:
    yield from (
        f"http://127.0.0.1:{port}/token"
        for port in _serve(http.server.HTTPServer(("127.0.0.1", 0), _StandIns))
    )


@pytest.fixture
def api_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """An HTTPS stand-in API server and its CA bundle, base64 (as KUBE_CA_DATA holds it)."""
    openssl = tool("openssl")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", str(key),
         "-out", str(cert), "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = http.server.HTTPServer(("127.0.0.1", 0), _StandIns)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    for port in _serve(server):
        yield f"https://127.0.0.1:{port}", base64.b64encode(cert.read_bytes()).decode()


def _job_env(home: Path, token_url: str) -> dict[str, str]:
    """What a GitHub Actions job with `id-token: write` has."""
    return {
        **os.environ,
        "HOME": str(home),
        "ACTIONS_ID_TOKEN_REQUEST_URL": token_url,
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runner-token",
    }


@pytest.mark.parametrize("padding", [0, 1, 2], ids=["no-padding", "one-pad", "two-pads"])
def test_the_credential_expires_with_the_token(
    default_project: Path, token_endpoint: str, tmp_path: Path, padding: int
) -> None:
    for name in ("curl", "jq"):
        tool(name)
    expires = int(time.time()) + 300
    # Claims whose base64url form needs 0, 1 or 2 padding characters (jq decodes them all).
    claims: dict[str, object] = {"sub": "repo:acme/svc:environment:production", "exp": expires}
    while len(_segment(claims)) % 4 != [0, 3, 2][padding]:
        claims["jti"] = str(claims.get("jti", "")) + "x"
    _StandIns.token = _jwt(claims)
    result = subprocess.run(
        ["sh", str(default_project / SCRIPT), "--token", "https://api.example"],
        env=_job_env(tmp_path, token_endpoint), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    credential = json.loads(result.stdout)
    assert credential["status"]["token"] == _StandIns.token
    stamp = datetime.strptime(credential["status"]["expirationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
    assert stamp.replace(tzinfo=UTC).timestamp() == expires - 30  # renewed before GitHub's end


def test_kubectl_sends_the_jobs_oidc_token_to_the_api_server(
    default_project: Path, token_endpoint: str, api_server: tuple[str, str], tmp_path: Path
) -> None:
    kubectl = tool("kubectl")
    for name in ("curl", "jq"):
        tool(name)
    server, ca_data = api_server
    env = _job_env(tmp_path / "home", token_endpoint)
    written = subprocess.run(
        ["sh", str(default_project / SCRIPT), server, ca_data], env=env, capture_output=True, text=True
    )
    assert written.returncode == 0, written.stderr
    _StandIns.token = _jwt({"sub": "repo:acme/svc:environment:staging", "exp": int(time.time()) + 300})
    _StandIns.seen = []
    version = subprocess.run(
        [kubectl, "get", "--raw", "/version"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert version.returncode == 0, version.stderr
    assert json.loads(version.stdout)["gitVersion"] == "v1.33.0"
    assert _StandIns.seen == [f"Bearer {_StandIns.token}"]
    assert oct((tmp_path / "home" / ".kube" / "config").stat().st_mode & 0o777) == "0o600"
