"""Loading the directory from YAML."""
import pytest
from sqlalchemy import select

from router.casework import directory
from router.storage.models import Specialist

from ..conftest import EXAMPLE_DIRECTORY


def test_the_example_directory_loads_and_reloads(sessions):
    with sessions() as s:
        assert directory.load(s, EXAMPLE_DIRECTORY) == (6, 7)
        s.commit()
        assert len(s.scalars(select(Specialist)).all()) == 7


def test_someone_removed_from_the_file_becomes_inactive(sessions, tmp_path):
    text = EXAMPLE_DIRECTORY.read_text(encoding="utf-8")
    start = text.index("  - key: olli")
    end = text.index("  - key: palvelu")
    smaller = tmp_path / "d.yml"
    smaller.write_text(text[:start] + text[end:], encoding="utf-8")
    with sessions() as s:
        directory.load(s, smaller)
        s.commit()
        assert s.scalar(select(Specialist.active).where(Specialist.key == "olli")) is False
        assert "olli" not in {c.key for _, c in directory.candidates(s)}


@pytest.mark.parametrize("broken, message", [
    ("topics: {founding: {fi: x}}\nspecialists: []", "general"),
    ("topics: {general: {fi: x}}\nspecialists: [{key: a, name: A, title: t, email: a@example.org, topics: [nope], languages: [fi]}]",
     "unknown topics"),
    ("topics: {general: {fi: x}}\nspecialists: [{key: a, name: A, title: t, email: a@example.org, topics: [general], languages: [fi], deputy: b}]",
     "deputy"),
    ("topics: {general: {fi: x}}\nspecialists: [{key: a, name: A, title: t, email: a@example.org, topics: [general], languages: [fi], absences: [[2026-12-10, 2026-12-01]]}]",
     "absence"),
])
def test_a_broken_directory_is_refused_with_a_reason(broken, message):
    with pytest.raises(directory.DirectoryError, match=message):
        directory.parse(broken)
