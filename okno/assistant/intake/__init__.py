"""Intake of appeals by e-mail (a MIME message, an IMAP mailbox) and by SMS.

* :mod:`okno.assistant.intake.email` — one MIME message into a new appeal, a comment on an existing
  appeal (a reply carrying its registration number), or nothing (auto-replies, bounces);
* :mod:`okno.assistant.intake.imap` — poll an IMAP4rev1 mailbox and feed its unseen messages there;
* :mod:`okno.assistant.intake.sms` — readings go to billing, other texts become appeals.
"""
