"""Shared helpers for the interop suite: the emulator process, names, clocks,
service-error assertions and hand-made (raw) signed HTTP requests.

Raw requests follow the v2 signing rules of the wire protocol
(src/tablestore/PROTOCOL.md §1.2): HMAC-SHA1 over
"/Action\\nPOST\\n\\n" + sorted "name:value\\n" lines of every x-ots-* header.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import http.client
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from tablestore import CapacityUnit, OTSClient, OTSServiceError, ReservedThroughput, TableMeta, TableOptions
from tablestore.metadata import (
    CreateTimeseriesTableRequest,
    TimeseriesMetaOptions,
    TimeseriesTableMeta,
    TimeseriesTableOptions,
)
from tablestore.protobuf import table_store_pb2
from tablestore.retry import NoRetryPolicy

REPO = Path(__file__).resolve().parents[2]
EMULATOR_BIN = Path(os.environ.get("TABLESTORE_SINK_BIN", REPO / "target/debug/tablestore-sink"))

INSTANCE = "interop"
ACCESS_KEY_ID = "interop-ak"
ACCESS_KEY_SECRET = "interop-secret"

STARTUP_TIMEOUT_S = 10.0
SHUTDOWN_TIMEOUT_S = 15.0
SOCKET_TIMEOUT_S = 5.0

# For behaviour tests whose exact wording is asserted by a separate (xfail) wording test.
ANY_MESSAGE = re.compile(r".*", re.S)
REQUEST_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
RESPONSE_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,6}Z")


# ----------------------------------------------------------------------------
# Names and clocks


def unique_name(prefix: str = "t") -> str:
    """A table name no other test uses (letters, digits and '_' only)."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def now_ms() -> int:
    return int(time.time() * 1000)


def now_us() -> int:
    return time.time_ns() // 1000


# ----------------------------------------------------------------------------
# Tables


def create_table(ots: OTSClient, name: str, pk_schema=(("pk", "STRING"),), *,
                 time_to_live=-1, max_version=1, max_time_deviation=86400) -> None:
    ots.create_table(
        TableMeta(name, list(pk_schema)),
        TableOptions(time_to_live, max_version, max_time_deviation),
        ReservedThroughput(CapacityUnit(0, 0)),
    )


def create_timeseries_table(ots: OTSClient, name: str, *, ttl=-1, meta_ttl=-1,
                            allow_update_attributes=True) -> None:
    ots.create_timeseries_table(CreateTimeseriesTableRequest(TimeseriesTableMeta(
        name,
        TimeseriesTableOptions(ttl),
        TimeseriesMetaOptions(meta_ttl, allow_update_attributes),
    )))


# ----------------------------------------------------------------------------
# The emulator process


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class Emulator:
    """One running `tablestore-sink emulator` process."""

    data_dir: Path
    port: int
    log_path: Path
    process: subprocess.Popen

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stderr(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self, **overrides) -> OTSClient:
        """An SDK client for this emulator; keyword overrides replace credentials/options."""
        kwargs = dict(
            access_key_id=ACCESS_KEY_ID,
            access_key_secret=ACCESS_KEY_SECRET,
            instance_name=INSTANCE,
            retry_policy=NoRetryPolicy(),
            socket_timeout=SOCKET_TIMEOUT_S,
        )
        kwargs.update(overrides)
        return OTSClient(self.endpoint, **kwargs)

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.is_running():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"emulator did not exit within {SHUTDOWN_TIMEOUT_S} s of SIGTERM:\n{self.stderr()}")

    def kill(self) -> int:
        """SIGKILL (kill -9) and wait; returns the exit code (-9)."""
        self.process.kill()
        return self.process.wait(timeout=SHUTDOWN_TIMEOUT_S)


def start_emulator(data_dir: Path, *extra_args: str) -> Emulator:
    """Starts the emulator on a free port and waits until it accepts connections."""
    if not EMULATOR_BIN.is_file():
        pytest.fail(f"emulator binary not found at {EMULATOR_BIN} (set TABLESTORE_SINK_BIN)")
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = data_dir.parent / f"{data_dir.name}.{port}.stderr.log"
    cmd = [
        str(EMULATOR_BIN), "emulator",
        "--listen", f"127.0.0.1:{port}",
        "--data-dir", str(data_dir),
        "--instance", INSTANCE,
        "--access-key-id", ACCESS_KEY_ID,
        "--access-key-secret", ACCESS_KEY_SECRET,
        *extra_args,
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    emulator = Emulator(data_dir, port, log_path, process)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not _accepts(port):
        if not emulator.is_running():
            pytest.fail(f"emulator exited with {process.returncode} during startup:\n{emulator.stderr()}")
        if time.monotonic() > deadline:
            emulator.kill()
            pytest.fail(f"emulator did not accept on port {port} within {STARTUP_TIMEOUT_S} s:\n{emulator.stderr()}")
        time.sleep(0.05)
    return emulator


# ----------------------------------------------------------------------------
# Service errors
#
# Each error case is asserted exactly: code, HTTP status and message. The
# message is the real service's wording where the public error-code reference
# or the official SDKs' functional tests give it, else the emulator's. Where
# only the wording differs from the service, a behaviour test (ANY_MESSAGE)
# keeps guarding code, status and side effects, and a separate wording test
# carries the emulator_bug mark.


@contextlib.contextmanager
def service_error(code: str, http_status: int, message: str | re.Pattern):
    """Asserts the block raises OTSServiceError with exactly this code, status and message.

    `message` is compared with == when a str, with fullmatch when a compiled pattern.
    """
    with pytest.raises(OTSServiceError) as info:
        yield info
    err = info.value
    assert (err.code, err.http_status) == (code, http_status), str(err)
    if isinstance(message, re.Pattern):
        assert message.fullmatch(err.message), err.message
    else:
        assert err.message == message
    assert REQUEST_ID.fullmatch(err.request_id), err.request_id


# ----------------------------------------------------------------------------
# Raw HTTP requests


def b64_md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def hmac_sha1_b64(key: bytes, text: str) -> str:
    return base64.b64encode(hmac.new(key, text.encode(), hashlib.sha1).digest()).decode()


def _canonical_ots_headers(headers: dict[str, str], exclude: tuple[str, ...] = ()) -> list[str]:
    return sorted(
        f"{k.lower()}:{v.strip()}"
        for k, v in headers.items()
        if k.lower().startswith("x-ots-") and k.lower() not in exclude
    )


def sign_request_v2(secret: str, action: str, headers: dict[str, str]) -> str:
    lines = _canonical_ots_headers(headers, exclude=("x-ots-signature",))
    string_to_sign = f"/{action}\nPOST\n\n" + "".join(line + "\n" for line in lines)
    return hmac_sha1_b64(secret.encode(), string_to_sign)


def sign_response(secret: str, action: str, headers: dict[str, str]) -> str:
    string_to_sign = "\n".join(_canonical_ots_headers(headers)) + f"\n/{action}"
    return hmac_sha1_b64(secret.encode(), string_to_sign)


def ots_date(when: dt.datetime | None = None) -> str:
    when = when or dt.datetime.now(dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def signed_headers(
    action: str,
    body: bytes,
    *,
    access_key_id: str = ACCESS_KEY_ID,
    secret: str = ACCESS_KEY_SECRET,
    instance: str = INSTANCE,
    date: str | None = None,
    content_md5: str | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The SDK's request headers (plus `extra`), v2-signed over whatever values are given."""
    headers = {
        "x-ots-date": date or ots_date(),
        "x-ots-apiversion": "2015-12-31",
        "x-ots-accesskeyid": access_key_id,
        "x-ots-instancename": instance,
        "x-ots-contentmd5": content_md5 if content_md5 is not None else b64_md5(body),
        **(extra or {}),
    }
    headers["x-ots-signature"] = sign_request_v2(secret, action, headers)
    return headers


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # names lowercased
    body: bytes

    def error(self) -> tuple[str, str]:
        err = table_store_pb2.Error()
        err.ParseFromString(self.body)
        return err.code, err.message


def raw_call(
    endpoint: str,
    action: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> RawResponse:
    """Sends one HTTP request; signs it correctly unless headers are given."""
    host_port = endpoint.removeprefix("http://")
    headers = signed_headers(action, body) if headers is None else headers
    conn = http.client.HTTPConnection(host_port, timeout=SOCKET_TIMEOUT_S)
    try:
        conn.request(method, f"/{action}", body=body, headers=headers)
        resp = conn.getresponse()
        return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def emulator_bug(what: str):
    """Marks a test that fails because the emulator deviates from the service."""
    return pytest.mark.xfail(reason=f"emulator bug: {what}", strict=True)
