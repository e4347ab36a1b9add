"""`newsdesk serve` as a child process of a test harness, and the small
helpers the harnesses share.

The server listens on a fixed loopback port so that it can be killed and
started again at the same address. The kernel kills it when the harness
dies, even by SIGKILL, so no server outlives its test.
"""

import ctypes
import http.client
import signal
import socket
import subprocess
import time

READY_TIMEOUT_S = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent():
    """Runs in a child before exec: the kernel SIGKILLs it if the harness dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def run_cli(binary, env, folder, *args, stdin=None):
    """Runs a `newsdesk` command; its stdout, or RuntimeError naming the command."""
    done = subprocess.run([binary, *args], env=env, cwd=folder, input=stdin, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError(f"newsdesk {' '.join(args)}: {done.stderr.strip()[-500:]}")
    return done.stdout


def http_status(port, path, timeout=2):
    """The status of a GET, or None when nothing answered."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


class Server:
    """`newsdesk serve` on a fixed loopback port, restartable after SIGKILL.
    Its output goes to `log_path`, each start marked."""

    def __init__(self, binary, env, port, folder, log_name="server.log", label="start"):
        self.binary = binary
        self.env = dict(env, NEWSDESK_BIND=f"127.0.0.1:{port}")
        self.port = port
        self.folder = folder
        self.log_path = folder / log_name
        self.log = open(self.log_path, "ab")
        self.label = label
        self.process = None
        self.starts = 0

    def start(self):
        self.starts += 1
        self.log.write(f"--- {self.label} {self.starts}\n".encode())
        self.log.flush()
        self.process = subprocess.Popen([self.binary, "serve"], env=self.env, cwd=self.folder,
                                        stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                        preexec_fn=die_with_parent)

    def wait_ready(self, timeout=READY_TIMEOUT_S):
        """Waits for /readyz to answer 200; False at the timeout or when the process exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if http_status(self.port, "/readyz") == 200:
                return True
            time.sleep(0.05)
        return False

    def sigkill(self):
        """Sends SIGKILL without waiting for the process to go."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)

    def kill(self):
        """SIGKILL: no draining, no goodbye to the database."""
        self.sigkill()
        if self.process:
            self.process.wait()

    def interrupt(self, sig, timeout=15):
        """Sends `sig` and waits for the process to go; SIGKILL after the timeout."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def stop(self, timeout=30):
        """SIGTERM (drains in-flight requests), SIGKILL after the timeout. Safe to call twice."""
        self.interrupt(signal.SIGTERM, timeout)

    def log_tail(self, lines=20):
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
