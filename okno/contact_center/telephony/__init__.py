"""Asterisk adapters of the contact centre.

* :mod:`~okno.contact_center.telephony.agi` — a FastAGI server: Asterisk hands each incoming call to it
  (``AGI(agi://okno:4573/main)``) and it plays the IVR of :mod:`okno.contact_center.engine` turn by turn,
  then hands the call to Asterisk's own ``Queue`` application.
* :mod:`~okno.contact_center.telephony.ami` — an AMI client: it logs in, reads app_queue's events and
  mirrors them (:mod:`~okno.contact_center.telephony.mirror`) into ``Call``/``CallEvent`` rows and the
  agents' states, so the wallboard and the statistics see the calls Asterisk routed.

``okno cc agi-server`` and ``okno cc ami`` run them; see ``docs/contact-centre/telephony.md``.
"""
