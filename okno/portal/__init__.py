"""The public site (internet reception) and the customer's personal cabinet: presentation only.

Every form here registers through the owning app's actions (``okno.appeals.actions.register_appeal``,
``okno.billing.readings.submit_reading`` …), exactly as the operator's pages, the API and the IVR do.
"""
