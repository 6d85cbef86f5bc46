"""Loads the shared widget styles (BigButton, Body, Title, Field …) once, for any device app."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder

_KV = Path(__file__).with_suffix(".kv")
if str(_KV) not in Builder.files:
    Builder.load_file(str(_KV))
