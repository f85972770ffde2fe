"""住院处 — the inpatient admission desk (docs/inpatient.md): admit, the running account, deposits by every
channel, 信用就医 deposits after the written consent, discharge settlement (多退少补) and its statement."""
