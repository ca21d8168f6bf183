"""Files a specialist sends a customer: which are accepted, and the signed, expiring link a chat or SMS carries."""
from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import PurePath
from typing import Optional, Sequence

from router.sanitize import one_line

# What a customer can open anywhere; each checked by its first bytes, so a renamed program is refused.
OOXML = b"PK\x03\x04"
KINDS: dict[str, tuple[str, Optional[bytes]]] = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".txt": ("text/plain", None),
    ".csv": ("text/csv", None),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", OOXML),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", OOXML),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", OOXML),
    ".odt": ("application/vnd.oasis.opendocument.text", OOXML),
    ".ods": ("application/vnd.oasis.opendocument.spreadsheet", OOXML),
}
MAX_FILES = 5


class FileRefused(ValueError):
    """A file that may not go to a customer; the message says which and why (in English, for the API)."""

    def __init__(self, message: str, key: str, **values: object) -> None:
        super().__init__(message)
        self.key, self.values = key, values


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


def clean_name(filename: str) -> str:
    """The name a customer sees: the last path part, one line, no control characters, at most 120 characters."""
    name = PurePath(filename.replace("\\", "/")).name
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C")
    return one_line(name, 120).strip(" .") or "file"


def accept(uploads: Sequence[Upload], max_bytes: int, max_total: int) -> list[Upload]:
    """The files with their content types, or FileRefused naming the first one that may not go."""
    if len(uploads) > MAX_FILES:
        raise FileRefused(f"at most {MAX_FILES} files in one message", "files_count", count=MAX_FILES)
    out = []
    for upload in uploads:
        name = clean_name(upload.filename)
        kind = KINDS.get(PurePath(name).suffix.lower())
        if kind is None:
            raise FileRefused(f"{name}: send PDF, images (PNG, JPEG), text, CSV or office documents",
                              "files_type", name=name)
        if not upload.data:
            raise FileRefused(f"{name} is empty", "files_empty", name=name)
        if len(upload.data) > max_bytes:
            raise FileRefused(f"{name} is over {max_bytes / 1e6:g} MB", "files_size", name=name,
                              size=f"{max_bytes / 1e6:g}")
        content_type, magic = kind
        if magic is not None and not upload.data.startswith(magic):
            raise FileRefused(f"{name} is not what its name says", "files_content", name=name)
        if magic is None and b"\x00" in upload.data[:4096]:
            raise FileRefused(f"{name} is not text", "files_content", name=name)
        out.append(Upload(name, upload.data, content_type))
    if sum(len(u.data) for u in out) > max_total:
        raise FileRefused(f"the files are over {max_total / 1e6:g} MB together", "files_total",
                          size=f"{max_total / 1e6:g}")
    return out


def _signature(secret: str, attachment_id: int, expires: int) -> str:
    return hmac.new(secret.encode(), f"file:{attachment_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def token(secret: str, attachment_id: int, now: datetime, days: float) -> str:
    """A download token for one file, good for `days` from `now` (naive UTC)."""
    expires = int((now.replace(tzinfo=timezone.utc) + timedelta(days=days)).timestamp())
    return f"{attachment_id}.{expires}.{_signature(secret, attachment_id, expires)}"


class LinkExpired(Exception):
    """A genuine link whose time is up."""


def opened(secret: str, text: str, now: datetime) -> Optional[int]:
    """The file a token names, None if it is not one of ours, LinkExpired if it was but its time is up."""
    parts = text.split(".")
    if len(parts) != 3 or not all(p.isascii() and p.isalnum() for p in parts) or not parts[0].isdigit() \
            or not parts[1].isdigit() or len(parts[0]) > 12 or len(parts[1]) > 12:
        return None
    attachment_id, expires = int(parts[0]), int(parts[1])
    if not hmac.compare_digest(parts[2], _signature(secret, attachment_id, expires)):
        return None
    if now.replace(tzinfo=timezone.utc).timestamp() > expires:
        raise LinkExpired
    return attachment_id
