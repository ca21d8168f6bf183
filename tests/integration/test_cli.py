"""The `router` command: users, tokens, directory, corrections export."""
import os
import subprocess

import yaml
from sqlalchemy import select

from router.storage.models import NluCorrection, User

from ..conftest import ROOT


def router(database_url, *args, stdin=None):
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run([str(ROOT / "bin" / "router"), *args], input=stdin, env=env, capture_output=True,
                          text=True, timeout=60)


def test_users_add_and_token(database_url, sessions):
    out = router(database_url, "users", "add", "paula.palvelu@example.org", "--name", "Paula Palvelu", "--role", "lead",
                 "--password", "long enough password")
    assert out.returncode == 0, out.stderr
    again = router(database_url, "users", "add", "paula.palvelu@example.org", "--name", "P", "--password", "long enough password")
    assert again.returncode != 0 and "already has an account" in again.stderr
    short = router(database_url, "users", "add", "x@example.org", "--name", "X", "--password", "short")
    assert short.returncode != 0 and "10 characters" in short.stderr
    token = router(database_url, "users", "token", "paula.palvelu@example.org").stdout.strip()
    assert token.startswith("lk_")
    with sessions() as s:  # account changes on the command line are in the audit trail, by id, never by name
        from router.storage.models import AuditEvent

        changes = [(e.action, e.actor) for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert changes == [("user_add", "cli"), ("user_token", "cli")]
    with sessions() as s:
        user = s.scalar(select(User))
        assert (user.role, user.password_hash.startswith("scrypt:")) == ("lead", True)
        assert token not in (user.api_token_hash or "")  # only a hash is stored


def test_export_corrections_writes_rasa_nlu_yaml(database_url, sessions, make_case, signed_in):
    ref = make_case(topic="founding", text="tarvitsen lainaa kahvilan remonttiin")
    signed_in("maija").post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/reassign", {"topic": "funding"})
    with sessions() as s:
        assert len(s.scalars(select(NluCorrection)).all()) == 1
    out = router(database_url, "nlu", "export-corrections")
    assert out.returncode == 0, out.stderr
    data = yaml.safe_load(out.stdout)
    assert data == {"version": "3.1", "nlu": [{"intent": "funding",
                                               "examples": "- tarvitsen lainaa kahvilan remonttiin\n"}]}


def test_corrections_keep_no_one_s_name_or_contact(database_url, sessions, make_case, signed_in):
    said = "Olen Testi Asiakas, soita 040 123 4567 tai testi.asiakas@example.org: tarvitsen lainaa"
    ref = make_case(topic="founding", text=said, name="Testi Asiakas")
    signed_in("maija").post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/reassign", {"topic": "funding"})
    with sessions() as s:
        kept = s.scalar(select(NluCorrection.text))
    assert kept == "Olen <name>, soita <phone> tai <email>: tarvitsen lainaa"  # stored like this, never in full
    out = router(database_url, "nlu", "export-corrections")
    assert out.returncode == 0, out.stderr
    assert yaml.safe_load(out.stdout)["nlu"][0]["examples"] == f"- {kept}\n"


def test_directory_load_refuses_a_broken_file(database_url, tmp_path):
    broken = tmp_path / "d.yml"
    broken.write_text("topics: {founding: {fi: x}}\nspecialists: []\n")
    out = router(database_url, "directory", "load", str(broken))
    assert out.returncode != 0 and "general" in out.stderr


def test_the_worker_stops_within_seconds_of_sigterm_every_time(database_url, sessions):
    """The signal handler only sets a flag: no lock work inside it, so it can never hang the loop."""
    import signal
    import time

    env = {**os.environ, "DATABASE_URL": database_url, "WORKER_INTERVAL": "0.2"}
    for _ in range(5):
        proc = subprocess.Popen([str(ROOT / "bin" / "router"), "worker"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        # Wait for "started" (its handlers are installed by then; the import alone can take 2 s on a busy
        # machine), then let it run its ticks.
        startup = ""
        while "started" not in startup:
            line = proc.stderr.readline()
            assert line, f"the worker exited before starting: {startup}"
            startup += line
        time.sleep(0.5)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
        assert time.monotonic() - started < 5 and proc.returncode == 0
        assert "stopped" in err
