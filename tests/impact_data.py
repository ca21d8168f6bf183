"""A known data set for the impact page: every figure on it can be worked out by hand from here."""
from datetime import datetime, timedelta

from sqlalchemy import select

from router.storage.models import Call, Case, Conversation, ImpactFigure, Specialist, Story, Survey

OCT = datetime(2026, 10, 5, 9, 0)   # Monday 5 Oct 2026, 12:00 in Helsinki
NOV = datetime(2026, 11, 2, 9, 0)   # Monday 2 Nov 2026, 11:00 in Helsinki
SCORES = [5, 5, 4, 4, 4, 3, 2, 5]   # October's answers: average 4.0


def seed(session) -> None:
    people = {s.key: s for s in session.scalars(select(Specialist))}
    n = 0

    def conversation(channel, when):
        nonlocal n
        n += 1
        conv = Conversation(public_id=f"impact-{n}", channel=channel, created_at=when, last_message_at=when)
        session.add(conv)
        return conv

    # October contacts: 12 chats, 6 texts, 3 emails (fewer than 5: shown as "< 5"), 7 calls (2 routed to plots).
    chats = []
    for channel, count in (("web", 12), ("sms", 6), ("email", 3)):
        for i in range(count):
            conv = conversation(channel, OCT + timedelta(hours=i))
            if channel == "web":
                chats.append(conv)
    for i in range(7):
        session.add(Call(call_sid=f"CAimpact{i}", caller="+358400000999", created_at=OCT + timedelta(hours=i),
                         topic="plots" if i < 2 else None))
    # November contacts: 5 chats.
    for i in range(5):
        conversation("web", NOV + timedelta(hours=i))
    session.flush()

    # October cases: founding 8, funding 6, plots 2. Take-up after 3 h (10 cases) or 60 h, late (4 cases).
    plan = [("founding", "maija")] * 8 + [("funding", "matti")] * 6 + [("plots", "olli")] * 2
    cases = []
    for i, (topic, who) in enumerate(plan):
        created = OCT + timedelta(minutes=10 * i)
        case = Case(ref=f"LK-IMP{i:03d}", handoff_key=f"impact:{i}", channel="web", topic=topic, language="fi",
                    specialist=people[who], first_specialist_id=people[who].id, created_at=created,
                    due_at=created + timedelta(days=2), status="open", company=f"Yritys {i % 12} Oy",
                    # The first 12 came from the October chats (founding 8, funding 4); the rest were made by staff.
                    conversation_id=chats[i].id if i < len(chats) else None)
        if i < 10:
            case.status, case.taken_up_at, case.taken_up_in_time = "taken_up", created + timedelta(hours=3), True
        elif i < 14:
            case.status, case.taken_up_at, case.taken_up_in_time = "taken_up", created + timedelta(hours=60), False
        cases.append(case)
    session.add_all(cases)
    session.flush()
    # Outcomes (resolved in October): 5 companies founded, 2 funding decisions.
    for case in cases[:5]:
        case.status, case.resolved_at, case.outcome = "resolved", OCT + timedelta(days=3), "company_founded"
    for case in cases[8:10]:
        case.status, case.resolved_at, case.outcome = "resolved", OCT + timedelta(days=4), "funding_granted"
    # October surveys: 10 sent, 8 answered.
    for i, case in enumerate(cases[:10]):
        score = SCORES[i] if i < len(SCORES) else None
        session.add(Survey(case_id=case.id, channel="email", recipient=f"a{i}@example.org", specialist_id=case.specialist_id,
                           topic=case.topic, scheduled_at=OCT + timedelta(days=3), sent_at=OCT + timedelta(days=3),
                           answered_at=OCT + timedelta(days=4) if score else None, score=score,
                           comment="Erinomaista palvelua" if i == 0 else ("Nimi Henkilö soitti" if i == 1 else None),
                           published=i == 0))
    session.add(ImpactFigure(year=2026, budget_eur=1_200_000, spend_eur=960_000, note="Esimerkkiluvut"))
    session.add(Story(title="Kahvila aukesi", body="Kuvitteellinen kahvila aloitti toimintansa neuvonnan avulla.",
                      language="fi", published=True))
    session.add(Story(title="Luonnos", body="Ei julkaistu", language="fi", published=False))
    session.commit()
