"""Administration services: staff accounts, departments and doctors, schedules and slots, the price list,
hospital-wide settings. Every change ``require``s its admin action, validates (Chinese message at the field,
nothing saved on error), is audited in the same transaction and announced on the live feed."""
