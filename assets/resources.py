"""Dagster resources shared by every domain."""

from __future__ import annotations

import dagster as dg

from assets.settings import Settings, load_settings


class SettingsResource(dg.ConfigurableResource):
    """The shelfwise home folder; ``.settings`` reads shelfwise.toml from it."""

    home: str

    @property
    def settings(self) -> Settings:
        return load_settings(self.home)
