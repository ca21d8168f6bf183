"""Inbound email: MIME parsed with the standard library's modern policy, into what the channel needs."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import MIMEPart
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser
from typing import Optional

from router import sanitize

MAX_TEXT = 100_000  # characters of a mail's text kept; a specialist reads the rest in the raw source if needed
# Charsets Finnish mail really arrives in, tried in order when the declared one fails.
FALLBACK_CHARSETS = ("utf-8", "windows-1252", "iso-8859-1")
# Far more MIME parts than anyone sends. The standard parser spends about 0.25 ms on each part, so a crafted mail
# of 50,000 tiny parts (5 MB) held the mailbox poll for 12 s. Such a mail is kept whole for a person instead.
MAX_PARTS = 10_000


class TooManyParts(ValueError):
    """A mail with more than MAX_PARTS MIME parts: not parsed (the mailbox keeps it for the service desk)."""


@dataclass(frozen=True)
class AttachmentInfo:
    filename: str
    content_type: str
    size: int
    data: bytes


@dataclass
class ParsedMail:
    """The parts of an email the channel decides on."""

    message_id: Optional[str]
    sender: str
    sender_name: str
    subject: str
    text: str
    in_reply_to: list[str] = field(default_factory=list)
    attachments: list[AttachmentInfo] = field(default_factory=list)
    auto_submitted: str = ""
    precedence: str = ""
    list_id: str = ""
    x_loop: str = ""
    is_bounce: bool = False
    # Every address the mail was delivered to (To, Cc, Delivered-To, X-Original-To): a reply token lives there.
    recipients: list[str] = field(default_factory=list)
    # The receiving server's DMARC verdict from Authentication-Results ("pass", "fail", …), "" when absent.
    dmarc: str = ""


class _TextFromHtml(HTMLParser):
    """HTML to readable text: block elements become line breaks, scripts and styles vanish."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs) -> None:  # noqa: ANN001
        if tag in ("script", "style", "head"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextFromHtml()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    return re.sub(r"\n\s*\n+", "\n\n", re.sub(r"[ \t]+", " ", text)).strip()


def _payload(part: MIMEPart) -> bytes:
    """A part's decoded bytes (b"" for a multipart or an empty part)."""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _decode(part: MIMEPart) -> str:
    try:
        return str(part.get_content())
    except (LookupError, UnicodeDecodeError, AssertionError):
        raw = _payload(part)
        declared = part.get_content_charset()
        for charset in ((declared,) if declared else ()) + FALLBACK_CHARSETS:
            try:
                return raw.decode(charset)
            except (LookupError, UnicodeDecodeError):
                continue
        return raw.decode("utf-8", errors="replace")


def _ids(value: str) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value or "")


def _digest_id(raw: bytes, header) -> str:
    """A mail without a Message-ID is known by a digest of its headers and body, so it is handled once even when
    the mailbox's UIDs change (a new UIDVALIDITY): the same mail gives the same id."""
    parts = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)
    body = parts[1] if len(parts) > 1 else b""
    digest = hashlib.sha256()
    for name in ("From", "To", "Cc", "Date", "Subject"):
        digest.update(header(name).encode("utf-8", "replace") + b"\0")
    digest.update(body.replace(b"\r\n", b"\n"))
    return f"<sha256.{digest.hexdigest()[:40]}@luukku.invalid>"


def parse(raw: bytes) -> ParsedMail:
    """Parse raw RFC 5322 bytes; never raises on odd MIME, missing headers or broken charsets.

    Raises TooManyParts, before parsing, for a mail of more than MAX_PARTS parts.
    """
    # Each part begins on a boundary line, and those begin with "--": their count bounds the parts from above.
    if raw.count(b"\n--") > MAX_PARTS:
        raise TooManyParts(f"more than {MAX_PARTS} MIME parts")
    msg = message_from_bytes(raw, policy=policy.default)

    def header(name: str) -> str:
        try:
            return str(msg.get(name, "") or "").strip()
        except (ValueError, TypeError, IndexError):  # a garbled header is read as absent
            return ""

    sender_name, sender = parseaddr(header("From"))
    body = None
    try:
        body = msg.get_body(preferencelist=("plain", "html"))
    except (KeyError, ValueError):
        body = None
    text = ""
    if body is not None:
        text = _decode(body)
        if body.get_content_type() == "text/html":
            text = html_to_text(text)
    elif not msg.is_multipart():
        text = _decode(msg)
    attachments = []
    for part in msg.walk():
        if part.is_multipart() or part is body:
            continue
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        if disposition == "attachment" or (filename and disposition != "inline"):
            data = _payload(part)
            attachments.append(AttachmentInfo(sanitize.one_line(filename or "attachment", 255) or "attachment",
                                              sanitize.one_line(part.get_content_type(), 127), len(data), data))
    content_type = msg.get_content_type()
    report_type = msg.get_param("report-type", header="content-type") or ""
    return_path = header("Return-Path")
    is_bounce = (content_type == "multipart/report" and str(report_type).lower() == "delivery-status") or \
        return_path == "<>" or sender.lower().split("@")[0] in {"mailer-daemon", "postmaster"}
    dmarc = re.search(r"\bdmarc\s*=\s*([a-z]+)", header("Authentication-Results").lower())
    to = recipients(", ".join(header(name) for name in ("To", "Cc", "Delivered-To", "X-Original-To")))
    # Everything leaves here clean: no NUL or lone surrogate reaches the database, no line break a header.
    return ParsedMail(
        message_id=(_ids(sanitize.one_line(header("Message-ID"), 500)) or [_digest_id(raw, header)])[0],
        sender=sanitize.one_line(sender, 254).lower(), sender_name=sanitize.one_line(sender_name, 200),
        subject=sanitize.one_line(header("Subject"), 300), text=sanitize.clean(text, MAX_TEXT).strip(),
        in_reply_to=[sanitize.one_line(i, 500) for i in _ids(header("In-Reply-To")) + _ids(header("References"))],
        attachments=attachments, auto_submitted=header("Auto-Submitted").lower(),
        precedence=header("Precedence").lower(), list_id=header("List-Id"), x_loop=header("X-Loop").lower(),
        is_bounce=is_bounce, recipients=[sanitize.one_line(r, 254) for r in to], dmarc=dmarc.group(1) if dmarc else "")


def recipients(raw_header: str) -> list[str]:
    return [addr.lower() for _, addr in getaddresses([raw_header]) if addr]
