"""Staff corrections of the topic, as Rasa NLU training data for review."""
from __future__ import annotations

from collections import defaultdict

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from router.models import NluCorrection


class _Block(str):
    """A string YAML writes as a literal block, as Rasa's examples are."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Block, lambda d, data: d.represent_scalar("tag:yaml.org,2002:str", data, style="|"))


def export(session: Session) -> str:
    """Rasa 3 NLU YAML: each corrected topic with the customers' first messages, deduplicated."""
    by_topic: dict[str, list[str]] = defaultdict(list)
    for row in session.scalars(select(NluCorrection).order_by(NluCorrection.id)):
        text = " ".join(row.text.split())
        if text and text not in by_topic[row.new_topic]:
            by_topic[row.new_topic].append(text)
    nlu = [{"intent": topic, "examples": _Block("".join(f"- {t}\n" for t in texts))}
           for topic, texts in sorted(by_topic.items())]
    header = "# Corrections by staff (router nlu export-corrections). Review before adding to bot/data/nlu/.\n"
    return header + yaml.dump({"version": "3.1", "nlu": nlu}, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
