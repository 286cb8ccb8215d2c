"""Sensors: react to the world (new inbox files, approved suggestions)."""

from __future__ import annotations

SENSORS: list = []
