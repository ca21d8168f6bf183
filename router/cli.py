"""The `router` command: run the web app or the worker, migrate, load the directory, classify."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from router import config as config_mod
from router import logs
from router.inbound import tracker_store
from router.staff import audit
from router.storage.db import make_engine, make_sessionmaker, unit_of_work


def _sessions():
    settings = config_mod.load()
    return settings, make_sessionmaker(make_engine(settings.database_url))


@click.group()
def main() -> None:
    """Luukku router."""


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", type=int, default=None)
@click.option("--threads", type=int, default=32, help="Customers who can wait for Rasa at once.")
def web(host: str, port: int | None, threads: int) -> None:
    """Serve the public web app, and the internal API on INTERNAL_HOST:INTERNAL_PORT with its own threads."""
    import threading

    from waitress.server import create_server

    from router.app import create_app, create_internal_app

    app = create_app()
    settings = app.extensions["luukku"]["settings"]
    # Separate socket maps: the action server's calls never wait behind customers' requests (or the reverse).
    internal = create_server(create_internal_app(), map={}, host=settings.internal_host,
                             port=settings.internal_port, threads=4)
    threading.Thread(target=internal.run, name="internal-api", daemon=True).start()
    public = create_server(app, map={}, host=host, port=port or settings.port, threads=threads)
    click.echo(f"public on {host}:{port or settings.port}, internal API on "
               f"{settings.internal_host}:{settings.internal_port}", err=True)
    public.run()


@main.command()
@click.option("--once", is_flag=True, help="Run each job once and exit.")
def worker(once: bool) -> None:
    """Deliver the outbox and run the timers."""
    from router.worker import Worker

    settings, sessions = _sessions()
    config_mod.require_safe(settings, "the worker")
    logs.setup(settings.log_level, settings.log_format, "worker")
    Worker(settings, sessions).run(once=once)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations."""
    from router.storage.migrate import upgrade

    upgrade(config_mod.load().database_url)
    click.echo("database is up to date")


@main.group()
def directory() -> None:
    """The directory of topics and specialists."""


@directory.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def directory_load(path: Path) -> None:
    """Load topics and specialists from a YAML file."""
    from router.casework import directory as directory_mod

    _, sessions = _sessions()
    with unit_of_work(sessions) as session:
        try:
            topics, people = directory_mod.load(session, path)
        except directory_mod.DirectoryError as exc:
            raise click.ClickException(str(exc)) from exc
        audit.record(session, "directory_load", detail={"topics": topics, "specialists": people})
    click.echo(f"loaded {topics} topics and {people} specialists")


@directory.command("count")
def directory_count() -> None:
    """Print how many active specialists there are; exit 1 when none."""
    from router.casework import directory as directory_mod

    _, sessions = _sessions()
    with unit_of_work(sessions) as session:
        count = len(directory_mod.candidates(session))
    click.echo(f"{count} active specialists")
    if count == 0:
        sys.exit(1)


@main.command()
def classify() -> None:
    """Read JSON lines {"text": ...} on stdin; write topic, confidence, language and source per line."""
    from router.casework import directory as directory_mod
    from router.inbound.classification import classify as run
    from router.inbound.rasa_client import RasaClient

    settings, sessions = _sessions()
    rasa = RasaClient(settings.rasa_url, settings.rasa_timeout, token=settings.rasa_token)
    topics = ["founding", "funding", "recruitment", "internationalisation", "plots"]
    try:
        with unit_of_work(sessions) as session:
            topics = [t.key for t in directory_mod.topic_labels(session)] or topics
    except SQLAlchemyError:
        click.echo("router classify: no directory in the database; using the five standard topics", err=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            text = item["text"]
            if not isinstance(text, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            click.echo(json.dumps({"error": "each line must be a JSON object with a string 'text'"}))
            continue
        click.echo(json.dumps(run(text, rasa, topics).as_dict(), ensure_ascii=False))


@main.group()
def users() -> None:
    """Staff accounts."""


@users.command("add")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["specialist", "lead", "admin"]), default="specialist")
@click.option("--specialist", "specialist_key", help="The directory key this user is (for specialists).")
@click.option("--language", type=click.Choice(["fi", "sv", "en"]), default="fi", show_default=True,
              help="The language of the staff pages and notification emails")
@click.option("--team", default="", help="For leads: the directory team whose cases they see.")
@click.password_option()
def users_add(email: str, name: str, role: str, specialist_key: str | None, language: str, team: str,
              password: str) -> None:
    """Create a staff user (the password is asked for, or --password)."""
    from router.staff import users as users_mod

    if role == "specialist" and not specialist_key:
        click.echo("note: a specialist without --specialist sees no cases until linked to the directory", err=True)
    _, sessions = _sessions()
    with unit_of_work(sessions) as session:
        try:
            made = users_mod.create(session, email=email, name=name, password=password, role=role,
                                    specialist_key=specialist_key, language=language, team=team)
        except users_mod.UserError as exc:
            raise click.ClickException(str(exc)) from exc
        session.flush()
        audit.record(session, "user_add", detail={"user": made.id, "role": role})
    click.echo(f"created {role} {email}")


@users.command("token")
@click.argument("email")
def users_token(email: str) -> None:
    """Issue a new API token for a user (printed once; the previous one stops working)."""
    from sqlalchemy import func, select

    from router.staff import users as users_mod
    from router.storage.models import User

    _, sessions = _sessions()
    with unit_of_work(sessions) as session:
        user = session.scalar(select(User).where(func.lower(User.email) == email.lower()))
        if user is None:
            raise click.ClickException(f"no user {email}")
        token = users_mod.issue_token(session, user)
        audit.record(session, "user_token", detail={"user": user.id})
    click.echo(token)


@users.command("totp")
@click.argument("email")
def users_totp(email: str) -> None:
    """Turn on the second factor (TOTP) for a user; prints the otpauth:// URI for their authenticator app once."""
    from router.staff import users as users_mod

    _, sessions = _sessions()
    with unit_of_work(sessions) as session:
        user = users_mod.by_email(session, email)
        if user is None:
            raise click.ClickException(f"no active user {email}")
        uri = users_mod.enable_totp(user)
        audit.record(session, "user_totp", detail={"user": user.id})
    click.echo(uri)


@users.command("oidc-link")
@click.argument("email")
@click.option("--hours", type=float, default=72.0, show_default=True, help="How long the link stays good.")
def users_oidc_link(email: str, hours: float) -> None:
    """A one-time link that binds the user's next sign-in with the city's provider to this account; prints it."""
    from datetime import datetime, timezone

    from router.staff import users as users_mod

    settings, sessions = _sessions()
    with unit_of_work(sessions) as session:
        user = users_mod.by_email(session, email)
        if user is None:
            raise click.ClickException(f"no active user {email}")
        token = users_mod.oidc_link(user, datetime.now(timezone.utc).replace(tzinfo=None), hours)
        audit.record(session, "user_oidc_link", detail={"user": user.id})
    click.echo(f"{settings.public_base_url.rstrip('/')}/staff/login/oidc/link/{token}")


@main.group("push")
def push_group() -> None:
    """Web Push to staff browsers."""


@push_group.command("keys")
def push_keys() -> None:
    """Print a new VAPID key for VAPID_PRIVATE_KEY (keep it secret; browsers subscribe with its public half)."""
    from router.delivery import push

    click.echo(f"VAPID_PRIVATE_KEY={push.new_private_key()}")


@main.group()
def nlu() -> None:
    """Training data from staff corrections."""


@nlu.command("export-corrections")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
def export_corrections(out: Path | None) -> None:
    """Write topic corrections as Rasa NLU examples (YAML) for review before the next training round."""
    from router.casework.corrections import export

    _, sessions = _sessions()
    with unit_of_work(sessions) as session:
        text = export(session)
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text, nl=False)


@main.group("impact")
def impact_group() -> None:
    """The impact page's rollups."""


@impact_group.command("rebuild")
def impact_rebuild() -> None:
    """Recompute every month's figures (the worker keeps the last two months fresh by itself)."""
    from router.impact import rollups as impact

    settings, sessions = _sessions()
    with unit_of_work(sessions) as session:
        rows = impact.rebuild(session, settings.timezone)
    click.echo(f"wrote {rows} rollup rows")


@main.group()
def privacy() -> None:
    """A person's data: what is held about them (export) and erasure."""


def _subject(phone: str | None, email: str | None):
    from router.privacy.person import NoSubject, Subject

    try:
        return Subject.of(phone, email)
    except NoSubject as exc:
        raise click.UsageError(str(exc)) from exc


@privacy.command("export")
@click.option("--phone", help="The person's phone number (040 123 4567 or +358401234567).")
@click.option("--email", help="The person's email address.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("var/privacy"),
              show_default=True, help="Folder for the JSON file and the readable text report.")
def privacy_export(phone: str | None, email: str | None, out: Path) -> None:
    """Write everything held about one person as JSON and as a readable text report."""
    from router.privacy import person as privacy_mod
    from router.storage.models import utcnow

    subject = _subject(phone, email)
    _, sessions = _sessions()
    now = utcnow()
    with unit_of_work(sessions) as session:
        data = privacy_mod.export(session, subject, now)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"privacy-export-{now:%Y%m%d-%H%M%S}"
    stem.with_suffix(".json").write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    stem.with_suffix(".txt").write_text(privacy_mod.report(data), encoding="utf-8")
    found = privacy_mod.counts(data)
    click.echo(", ".join(f"{k} {v}" for k, v in found.items()))
    click.echo(f"wrote {stem.with_suffix('.json')} and {stem.with_suffix('.txt')}")


@privacy.command("erase")
@click.option("--phone", help="The person's phone number.")
@click.option("--email", help="The person's email address.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def privacy_erase(phone: str | None, email: str | None, yes: bool) -> None:
    """Remove one person's words and identifiers everywhere (Rasa's tracker store too); counts stay."""
    from router.privacy import person as privacy_mod
    from router.storage.models import utcnow

    subject = _subject(phone, email)
    settings, sessions = _sessions()
    try:
        with unit_of_work(sessions) as session:
            held = privacy_mod.find(session, subject)
            click.echo(f"found: cases {len(held.cases)}, conversations {len(held.conversations)}, calls "
                       f"{len(held.calls)}, surveys {len(held.surveys)}, messages sent {len(held.outbox)}")
            if held.conversations:  # asked before the question: a store that cannot be reached stops it all
                tracker_store.reach(settings.rasa_tracker_url)
            if not yes and not click.confirm("Erase this person's data? This cannot be undone", default=False):
                raise click.Abort()
            done = privacy_mod.erase(session, settings, subject, utcnow())
    except tracker_store.Unreachable as exc:
        raise click.ClickException(f"{exc}: nothing was erased. Point RASA_TRACKER_URL at the store Rasa uses "
                                   "(make run: var/rasa.db)") from exc
    click.echo("erased: " + ", ".join(f"{k} {v}" for k, v in done.items()))


@main.group("retention")
def retention_group() -> None:
    """Personal data past its retention time (RETAIN_* settings); the worker purges daily by itself."""


@retention_group.command("run")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Purge as if it were this day (UTC midnight); default now.")
@click.option("--dry-run", is_flag=True, help="Only count what is due; change nothing.")
def retention_run(as_of, dry_run: bool) -> None:
    """Remove what is past its time now, and print how many of each kind."""
    from router.privacy import retention
    from router.storage.models import utcnow

    settings, sessions = _sessions()
    try:
        with unit_of_work(sessions) as session:
            counts = retention.run(session, settings, as_of or utcnow(), dry_run=dry_run)
    except tracker_store.Unreachable as exc:
        raise click.ClickException(f"{exc}: nothing more was purged. Point RASA_TRACKER_URL at the store Rasa uses "
                                   "(make run: var/rasa.db)") from exc
    for kind, n in counts.items():
        click.echo(f"{kind:<20} {n:>7}{'  (due; --dry-run changed nothing)' if dry_run and n else ''}")


@main.group("activities")
def activities_group() -> None:
    """Proactive encounters and events (company visits, meetings, letters, calls, events)."""


@activities_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def activities_import(path: Path) -> None:
    """Import the city CRM's CSV (kind,date,company,business_id,topic,participants,note,specialist[,id]).

    Importing the same file again adds nothing; rows with mistakes are listed by line and the others kept.
    """
    from router.impact import rollups
    from router.plan import activity
    from router.storage.models import utcnow

    settings, sessions = _sessions()
    months: set = set()
    with unit_of_work(sessions) as session:
        try:
            added, known, errors = activity.import_csv(session, path.read_text(encoding="utf-8-sig"), utcnow(),
                                                       months=months)
        except activity.ActivityError as exc:
            raise click.ClickException(str(exc)) from exc
        if added:
            audit.record(session, "activities_import", detail={"added": added})
            # The CRM's history lands in past months: their figures are recomputed now, not at the next rebuild.
            rollups.refresh(session, sorted(months), settings.timezone, utcnow())
    for error in errors:
        click.echo(error, err=True)
    click.echo(f"added {added}, already there {known}, refused {len(errors)}")
    if errors:
        sys.exit(1)


@main.group("targets")
def targets_group() -> None:
    """The board's targets (encounters, companies_located, jobs, contacts, promise_kept_share, satisfaction)."""


@targets_group.command("set")
@click.argument("measure")
@click.argument("year", type=int)
@click.argument("value", type=float)
@click.option("--month", type=click.IntRange(1, 12), default=None, help="A month's target instead of the year's.")
def targets_set(measure: str, year: int, value: float, month: int | None) -> None:
    """Set MEASURE's target for YEAR (or one month of it) to VALUE; a share is 0–1 (0.9 = 90 %)."""
    from router.plan import target

    _, sessions = _sessions()
    with unit_of_work(sessions) as session:
        try:
            row = target.set_target(session, measure, year, value, month or 0)
        except target.TargetError as exc:
            raise click.ClickException(str(exc)) from exc
        audit.record(session, "target_set", detail={"measure": measure, "year": year, "month": month or 0})
        click.echo(f"{row.measure} {row.year}{f'-{row.month:02d}' if row.month else ''}: {row.value:g}")


@targets_group.command("list")
@click.option("--year", type=int, default=None)
def targets_list(year: int | None) -> None:
    """Each target with its actual to date, the pace needed and the same period last year."""
    from router.plan import target
    from router.storage.models import utcnow

    settings, sessions = _sessions()
    now = utcnow()
    year = year or now.year
    with unit_of_work(sessions) as session:
        for t in target.progress(session, f"{year}-01", f"{year}-12", now, settings):
            click.echo(f"{t['measure']:<20} {t['year']}{'-%02d' % t['month'] if t['month'] else '   '} "
                       f"target {t['target']:g}  actual {t['actual'] if t['actual'] is not None else '-'}  "
                       f"pace {t['pace'] if t['pace'] is not None else '-'}  "
                       f"previous {t['previous'] if t['previous'] is not None else '-'}")


@main.group("report")
def report_group() -> None:
    """Reports for the agency's management and board."""


@report_group.command("board")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--language", type=click.Choice(["fi", "sv", "en"]), default="fi", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["md", "html", "text"]), default="md", show_default=True,
              help="Markdown for an agenda, HTML to print (A4) or send, plain text")
def report_board(month: str, language: str, fmt: str) -> None:
    """Print the board's report for a month, exact (contacts, promise, feedback, the year before, twelve months,
    budget, activities, pipeline, campaigns, targets)."""
    from router.impact import rollups
    from router.plan import report
    from router.storage.models import utcnow

    if not rollups.valid_month(month):
        raise click.UsageError("--month is YYYY-MM")
    settings, sessions = _sessions()
    now = utcnow()
    with unit_of_work(sessions) as session:
        # The month's rollups are brought up to date first: a report never shows figures the worker has not
        # yet refreshed (or a month it no longer refreshes).
        rollups.refresh(session, [month], settings.timezone, now)
        data = report.build(session, settings, month, now)
        audit.record(session, "board_report", detail={"month": month})
    click.echo({"md": report.markdown, "html": report.html, "text": report.text}[fmt](data, language))
