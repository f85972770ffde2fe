"""Dialogs: messages (error/warning/info/confirm/crash), login, lock, password change …"""
