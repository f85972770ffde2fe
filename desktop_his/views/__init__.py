"""Workstation views (one module per view; thin). The main window hosts the entries of ``registry``."""
