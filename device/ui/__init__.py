"""Kivy parts shared by the kiosk and terminal apps. The only place in device/ that imports Kivy."""
