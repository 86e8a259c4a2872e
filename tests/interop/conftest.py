"""Fixtures for the interop suite: one session-wide emulator process driven
through the official Python SDK, a factory for extra emulators (fault
injection, restarts on the same data dir), and table factories that give
every test its own uniquely named tables and drop them afterwards (the
emulator enforces the 64-table instance quota).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tablestore import OTSServiceError

from support import Emulator, create_table, create_timeseries_table, start_emulator, unique_name


def pytest_configure(config):
    # The SDK's FlatBuffers encoder uses a deprecated flatbuffers call per vector.
    config.addinivalue_line("filterwarnings", "ignore:numElems is deprecated:DeprecationWarning")


@pytest.fixture(scope="session")
def emulator(tmp_path_factory) -> Emulator:
    """The shared emulator; stopped with SIGTERM at the end, which must exit 0."""
    emu = start_emulator(tmp_path_factory.mktemp("emulator") / "data")
    yield emu
    code = emu.stop()
    assert code == 0, f"emulator exited with {code} on SIGTERM:\n{emu.stderr()}"


@pytest.fixture(scope="session")
def client(emulator):
    return emulator.client()


@pytest.fixture
def spawn_emulator(tmp_path):
    """Starts extra emulators: spawn_emulator(*args, data_dir=None).

    Each gets a fresh data dir unless one is given (to restart on the same
    data). Emulators still running at teardown are stopped with SIGTERM and
    must exit 0.
    """
    started: list[Emulator] = []

    def spawn(*args: str, data_dir: Path | None = None) -> Emulator:
        emu = start_emulator(data_dir or tmp_path / f"data{len(started)}", *args)
        started.append(emu)
        return emu

    yield spawn
    for emu in started:
        if emu.is_running():
            code = emu.stop()
            assert code == 0, f"emulator exited with {code} on SIGTERM:\n{emu.stderr()}"


def _drop(drop, name):
    try:
        drop(name)
    except OTSServiceError as e:
        if e.code != "OTSObjectNotExist":
            raise


@pytest.fixture
def new_table(client):
    """new_table(pk_schema, **options) -> name of a fresh wide-column table."""
    created = []

    def create(pk_schema=(("pk", "STRING"),), **options):
        name = unique_name("t")
        create_table(client, name, pk_schema, **options)
        created.append(name)
        return name

    yield create
    for name in created:
        _drop(client.delete_table, name)


@pytest.fixture
def new_ts_table(client):
    """new_ts_table(**options) -> name of a fresh TimeSeries table."""
    created = []

    def create(**options):
        name = unique_name("ts")
        create_timeseries_table(client, name, **options)
        created.append(name)
        return name

    yield create
    for name in created:
        _drop(client.delete_timeseries_table, name)
