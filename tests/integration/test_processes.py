"""`make run`'s supervisor restarts what dies and stops everything promptly; the Rasa client fails over."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from router.inbound.rasa_client import RasaClient, RasaUnavailable

from ..conftest import ROOT
from ..helpers import free_port


def test_the_supervisor_restarts_a_dead_process_with_a_backoff_and_stops_all_on_sigterm(tmp_path):
    marker = tmp_path / "starts"
    flaky = f"sh -c 'echo x >> {marker}; exit 3'"
    steady = "sleep 600"
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "supervise.py"), str(tmp_path),
                             f"flaky={flaky}", f"steady={steady}"], stdout=subprocess.PIPE, text=True)
    time.sleep(4.5)
    proc.send_signal(signal.SIGTERM)
    started = time.monotonic()
    out, _ = proc.communicate(timeout=20)
    assert time.monotonic() - started < 5  # `sleep` took SIGTERM at once; nothing hangs
    # Started, died, restarted after 1 s, then 2 s: a backoff, not a busy loop, and the steady one never restarted.
    assert 2 <= len(marker.read_text().split()) <= 4
    assert "flaky exited with 3; restarting in 1 s" in out and "restarting in 2 s" in out
    assert out.count("steady started") == 1 and "stopped" in out


class _Replica(BaseHTTPRequestHandler):
    """Just enough of Rasa's REST channel: echoes the text, says which replica answered."""

    name = "?"

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        answer = json.dumps([{"text": f"{self.name}: {body['message']}"}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_GET(self):  # noqa: N802 - Rasa's "/" says hello once it can answer
        hello = b"Hello from Rasa: 3.6.21"
        self.send_response(200 if self.path.split("?")[0] == "/" else 404)
        self.send_header("Content-Length", str(len(hello)))
        self.end_headers()
        self.wfile.write(hello)

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def replica():
    handler = type("B", (_Replica,), {"name": "b"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_refused_replica_fails_over_to_the_next_one(replica):
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: connection refused, so nothing was processed
    client = RasaClient(f"{dead},{replica}", timeout=2)
    answers = {client.send(f"conv-{i}", "hei", {})[0]["text"] for i in range(6)}
    assert answers == {"b: hei"}  # every conversation answered, whichever replica it hashes to
    with pytest.raises(RasaUnavailable):
        RasaClient(dead, timeout=2).send("conv", "hei", {})


def test_the_environments_proxy_settings_still_reach_rasa_though_read_once(replica, monkeypatch):
    # The replica stands in for a forward proxy: it answers a request for any address sent through it.
    monkeypatch.setenv("HTTP_PROXY", replica)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    through_proxy = RasaClient("http://rasa.invalid:5005", timeout=2)
    monkeypatch.delenv("HTTP_PROXY")  # read when the client was made, not on each call
    assert through_proxy.send("conv", "hei", {})[0]["text"] == "b: hei"
    monkeypatch.setenv("HTTP_PROXY", replica)
    monkeypatch.setenv("NO_PROXY", "rasa.invalid")
    with pytest.raises(RasaUnavailable):  # excluded by NO_PROXY: straight to an address that does not resolve
        RasaClient("http://rasa.invalid:5005", timeout=2).send("conv", "hei", {})


def test_a_replica_that_took_the_message_but_answers_late_is_not_bypassed(replica):
    # A read timeout means the replica may be working on the message: sending it to another replica as well would
    # have the bot process it twice. It waits for the worker instead.
    got = []

    class Slow(_Replica):
        def do_POST(self):  # noqa: N802
            got.append(self.rfile.read(int(self.headers["Content-Length"])))
            time.sleep(1.0)
            try:
                super().do_POST()
            except OSError:  # the client stopped waiting long ago
                pass

    slow = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    slow.handle_error = lambda *_: None  # its late answer finds the connection closed: expected here
    threading.Thread(target=slow.serve_forever, daemon=True).start()
    try:
        client = RasaClient(f"http://127.0.0.1:{slow.server_address[1]},{replica}", timeout=0.3)
        first = next(f"conv-{i}" for i in range(50) if client._order(f"conv-{i}")[0].endswith(
            str(slow.server_address[1])))
        with pytest.raises(RasaUnavailable):
            client.send(first, "hei", {})
        assert len(got) == 1 and json.loads(got[0])["sender"] == first
    finally:
        slow.shutdown()
        slow.server_close()


def test_a_restarting_replica_that_accepts_before_it_answers_is_passed_over_until_it_answers(replica):
    # Rasa with several Sanic workers listens some seconds before its workers have loaded the model: connections
    # are accepted and nothing answers. A replica that refused a request is passed over (no turn waits out its
    # read timeout there) until a probe finds it answering again.
    import socket

    from router.inbound import rasa_client

    port = free_port()
    client = RasaClient(f"http://127.0.0.1:{port},{replica}", timeout=3)
    mine = [f"conv-{i}" for i in range(50) if client._order(f"conv-{i}")[0].endswith(f":{port}")][:4]
    assert client.send(mine[0], "hei", {})[0]["text"] == "b: hei"  # refused: failed over, and passed over
    loading = socket.socket()
    loading.bind(("127.0.0.1", port))
    loading.listen(16)  # the kernel accepts connections; nobody reads them
    try:
        time.sleep(rasa_client.PROBE_EVERY + 0.1)  # a probe is due: it connects, and gets no answer in time
        started = time.monotonic()
        assert [client.send(c, "hei", {})[0]["text"] for c in mine] == ["b: hei"] * 4
        assert time.monotonic() - started < rasa_client.PROBE_TIMEOUT + 1  # nobody waited for the read timeout
    finally:
        loading.close()
    handler = type("A", (_Replica,), {"name": "a"})
    back = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=back.serve_forever, daemon=True).start()
    try:
        time.sleep(rasa_client.PROBE_EVERY + 0.1)
        assert client.send(mine[1], "hei", {})[0]["text"] == "a: hei"  # the probe found it answering: back in use
    finally:
        back.shutdown()
        back.server_close()
