"""``[restock]`` is read by the one settings reader: unknown keys, unknown sinks and wrong
types stop with a message naming shelfwise.toml, the table and the key."""

from __future__ import annotations

import pytest

from assets.restock.deliver import OutboxFolderSink, RestockSettingsError, sink_for
from assets.settings import load_settings


def _settings(tmp_path, toml: str):
    (tmp_path / "shelfwise.toml").write_text(toml, encoding="utf-8")
    return load_settings(tmp_path)


def test_default_sink_is_the_outbox_folder(tmp_path):
    assert isinstance(sink_for(load_settings(tmp_path)), OutboxFolderSink)
    assert isinstance(sink_for(_settings(tmp_path, '[restock]\nsink = "outbox"\n')),
                      OutboxFolderSink)


@pytest.mark.parametrize("toml, message", [
    ('[restock]\nsinc = "outbox"\n', r"shelfwise.toml \[restock\]: unknown key\(s\) sinc; known: sink"),
    ('[restock]\nsink = "sftp"\n', r"\[restock\] sink = 'sftp': unknown sink; known: outbox"),
    ("[restock]\nsink = 3\n", r"shelfwise.toml \[restock\] sink"),
])
def test_bad_restock_settings_name_the_key(tmp_path, toml, message):
    with pytest.raises(RestockSettingsError, match=message):
        sink_for(_settings(tmp_path, toml))
