"""Fixtures: a real `aerie server` on a free loopback port, and an official
Python client connected to it.

The binary is taken from $AERIE_BIN, else the newer of target/release/aerie and
target/debug/aerie in this repository. Its stderr goes to a temporary file that
is printed when the server does not start.
"""

import os
import pathlib
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
READY_PREFIX = "aerie ready: service "
READY_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0


def locate_aerie_bin() -> pathlib.Path:
    explicit = os.environ.get("AERIE_BIN")
    if explicit:
        path = pathlib.Path(explicit)
        if not path.is_file():
            pytest.fail(f"$AERIE_BIN={explicit} does not exist")
        return path
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO_ROOT / "target"))
    candidates = [p for p in (target / "release" / "aerie", target / "debug" / "aerie") if p.is_file()]
    if not candidates:
        pytest.fail(
            "no aerie binary: run `cargo build --release -p aerie-server` or set $AERIE_BIN "
            f"(looked in {target}/release and {target}/debug)"
        )
    return max(candidates, key=lambda p: p.stat().st_mtime)


class AerieServer:
    """One `aerie server --port 0 --http-port 0` child process."""

    def __init__(
        self,
        binary: pathlib.Path,
        config_text: "str | None" = None,
        extra_args=(),
        workdir=None,
    ):
        self.workdir = workdir or tempfile.mkdtemp(prefix="aerie-pytest-")
        self.stderr_path = os.path.join(self.workdir, "stderr.log")
        self._stderr = open(self.stderr_path, "wb")
        args = [str(binary), "server", "--port", "0", "--http-port", "0"]
        if config_text is not None:
            # A config file of the test's own (the cluster tests give each node one).
            config_path = os.path.join(self.workdir, "aerie.conf")
            with open(config_path, "w") as f:
                f.write(config_text)
            args += ["--config", config_path]
        self.proc = subprocess.Popen(
            [*args, *extra_args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=self.workdir,
        )
        self.host, self.port = self._wait_ready()

    def _wait_ready(self):
        # A reader thread keeps draining stdout for the life of the server, so the
        # pipe never fills up; the first ready line is handed over through a queue.
        lines: "queue.Queue[str | None]" = queue.Queue()

        def pump():
            assert self.proc.stdout is not None
            for raw in self.proc.stdout:
                lines.put(raw.decode("utf-8", "replace"))
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._fail(f"no ready line within {READY_TIMEOUT_S}s")
            try:
                line = lines.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                if self.proc.poll() is not None:
                    self._fail(f"server exited with {self.proc.returncode} before it was ready")
                continue
            if line is None:
                self._fail("server closed stdout without a ready line")
            if line.startswith(READY_PREFIX):
                host, _, port = line[len(READY_PREFIX):].strip().rpartition(":")
                if host in ("0.0.0.0", ""):
                    host = "127.0.0.1"
                return host, int(port)

    def stderr_tail(self, limit: int = 8192) -> str:
        self._stderr.flush()
        with open(self.stderr_path, "rb") as f:
            data = f.read()
        return data[-limit:].decode("utf-8", "replace")

    def _fail(self, reason: str):
        tail = self.stderr_tail()
        self.stop(keep_logs=True)
        pytest.fail(f"aerie server did not start: {reason}\n--- stderr ({self.stderr_path}) ---\n{tail}")

    def stop(self, keep_logs: bool = False):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT_S)
        if not self._stderr.closed:
            self._stderr.close()
        if not keep_logs and not os.environ.get("AERIE_KEEP_TEST_DIRS"):
            shutil.rmtree(self.workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def aerie_server():
    server = AerieServer(locate_aerie_bin())
    try:
        yield server
    except BaseException:
        server.stop(keep_logs=True)
        raise
    else:
        server.stop()


@pytest.fixture(scope="module")
def client(aerie_server):
    import aerospike

    # The everyday configuration, unmodified apart from host and port.
    c = aerospike.client({"hosts": [(aerie_server.host, aerie_server.port)]}).connect()
    try:
        yield c
    finally:
        c.close()
