"""A small IMAP4rev1 server on loopback for the intake tests — enough for :mod:`imaplib`.

Commands: CAPABILITY, NOOP, LOGIN, SELECT/EXAMINE, (UID) SEARCH ALL/UNSEEN/SEEN, (UID) FETCH with
RFC822, BODY[], BODY.PEEK[], FLAGS and UID, (UID) STORE ±FLAGS, CLOSE, LOGOUT. One mailbox (INBOX),
one user. ``with ImapServer(user, password, [raw, …]) as server:`` serves on ``server.port``.
"""

from __future__ import annotations

import re
import socketserver
import threading
from dataclasses import dataclass, field

_TOKEN = re.compile(rb'"((?:[^"\\]|\\.)*)"|\(([^)]*)\)|(\S+)')


@dataclass
class StoredMessage:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)


def _args(line: bytes) -> list[str]:
    out = []
    for quoted, paren, atom in _TOKEN.findall(line):
        if quoted or (not paren and not atom):
            out.append(re.sub(rb"\\(.)", rb"\1", quoted).decode("utf-8", "replace"))
        elif paren:
            out.append("(" + paren.decode() + ")")
        else:
            out.append(atom.decode("utf-8", "replace"))
    return out


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def send(self, line: str | bytes) -> None:
        data = line.encode() if isinstance(line, str) else line
        self.wfile.write(data + b"\r\n")

    def handle(self) -> None:
        self.authed = False
        self.selected = False
        self.send("* OK [CAPABILITY IMAP4rev1] okno test IMAP ready")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            self.server.log.append(line.decode("utf-8", "replace").rstrip())
            parts = _args(line.rstrip(b"\r\n"))
            if len(parts) < 2:
                self.send("* BAD empty command")
                continue
            tag, cmd, args = parts[0], parts[1].upper(), parts[2:]
            uid = False
            if cmd == "UID" and args:
                uid, cmd, args = True, args[0].upper(), args[1:]
            try:
                if not self.dispatch(tag, cmd, args, uid):
                    return
            except (IndexError, ValueError) as exc:
                self.send(f"{tag} BAD {exc or 'syntax error'}")

    def dispatch(self, tag: str, cmd: str, args: list[str], uid: bool) -> bool:
        box = self.server.messages
        if cmd == "CAPABILITY":
            self.send("* CAPABILITY IMAP4rev1")
        elif cmd == "NOOP":
            pass
        elif cmd == "LOGOUT":
            self.send("* BYE logging out")
            self.send(f"{tag} OK LOGOUT completed")
            return False
        elif cmd == "LOGIN":
            if args[0] != self.server.user or args[1] != self.server.password:
                self.send(f"{tag} NO [AUTHENTICATIONFAILED] invalid credentials")
                return True
            self.authed = True
        elif not self.authed:
            self.send(f"{tag} NO not authenticated")
            return True
        elif cmd in ("SELECT", "EXAMINE"):
            if args[0].upper() != "INBOX":
                self.send(f"{tag} NO no such mailbox")
                return True
            self.selected = True
            with self.server.lock:
                unseen = sum(1 for m in box if "\\Seen" not in m.flags)
                self.send(f"* {len(box)} EXISTS")
                self.send("* 0 RECENT")
                self.send(r"* FLAGS (\Seen \Flagged \Answered \Deleted \Draft)")
                self.send(f"* OK [UNSEEN {unseen}] unseen")
                self.send("* OK [UIDVALIDITY 1] UIDs valid")
                self.send(f"* OK [UIDNEXT {len(box) + 1}] next")
            self.send(f"{tag} OK [READ-WRITE] {cmd} completed")
            return True
        elif not self.selected:
            self.send(f"{tag} NO no mailbox selected")
            return True
        elif cmd == "CLOSE":
            self.selected = False
        elif cmd == "SEARCH":
            crit = (args[-1] if args else "ALL").upper()
            with self.server.lock:
                hits = [
                    (m.uid if uid else i)
                    for i, m in enumerate(box, start=1)
                    if crit == "ALL"
                    or (crit == "UNSEEN" and "\\Seen" not in m.flags)
                    or (crit == "SEEN" and "\\Seen" in m.flags)
                ]
            self.send("* SEARCH" + "".join(f" {n}" for n in hits))
        elif cmd == "FETCH":
            self.fetch(self.pick(args[0], uid), args[1].upper(), uid)
        elif cmd == "STORE":
            op, flags = args[1].upper(), set(args[2].strip("()").split())
            for seq, m in self.pick(args[0], uid):
                with self.server.lock:
                    if op.startswith("+FLAGS"):
                        m.flags |= flags
                    elif op.startswith("-FLAGS"):
                        m.flags -= flags
                    else:
                        m.flags = set(flags)
                if not op.endswith(".SILENT"):
                    self.send(f"* {seq} FETCH (UID {m.uid} FLAGS ({' '.join(sorted(m.flags))}))")
        else:
            self.send(f"{tag} BAD unknown command {cmd}")
            return True
        self.send(f"{tag} OK {cmd} completed")
        return True

    def pick(self, spec: str, uid: bool) -> list[tuple[int, StoredMessage]]:
        box = self.server.messages
        numbered = list(enumerate(box, start=1))
        top = box[-1].uid if (uid and box) else len(box)
        wanted: set[int] = set()
        for piece in spec.split(","):
            lo, _, hi = piece.partition(":")
            a = top if lo == "*" else int(lo)
            b = a if not hi else (top if hi == "*" else int(hi))
            wanted.update(range(min(a, b), max(a, b) + 1))
        return [(seq, m) for seq, m in numbered if (m.uid if uid else seq) in wanted]

    def fetch(self, picked: list[tuple[int, StoredMessage]], items: str, uid: bool) -> None:
        for seq, m in picked:
            head = [f"UID {m.uid}"] if uid or "UID" in items else []
            body_key = None
            if "BODY.PEEK[]" in items:
                body_key = "BODY[]"
            elif "BODY[]" in items:
                body_key = "BODY[]"
                m.flags.add("\\Seen")
            elif "RFC822" in items:
                body_key = "RFC822"
                m.flags.add("\\Seen")
            if "FLAGS" in items:
                head.append(f"FLAGS ({' '.join(sorted(m.flags))})")
            if body_key is None:
                self.send(f"* {seq} FETCH ({' '.join(head)})")
                continue
            prefix = f"* {seq} FETCH ({' '.join([*head, body_key])} {{{len(m.raw)}}}"
            self.send(prefix)
            self.wfile.write(m.raw)
            self.send(")")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    user: str
    password: str
    messages: list[StoredMessage]
    lock: threading.Lock
    log: list[str]


class ImapServer:
    """A loopback IMAP server holding ``messages`` (raw bytes) in INBOX, UIDs 1…n."""

    def __init__(self, user: str, password: str, messages: list[bytes]) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.user = user
        self._server.password = password
        self._server.messages = [StoredMessage(i, raw) for i, raw in enumerate(messages, start=1)]
        self._server.lock = threading.Lock()
        self._server.log = []
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def messages(self) -> list[StoredMessage]:
        return self._server.messages

    @property
    def log(self) -> list[str]:
        return self._server.log

    def __enter__(self) -> ImapServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
