"""门诊医生站 (the doctor station) — see docs/doctor-station.md."""
