"""A throw-away Tern instance for integration tests.

    inst = Instance(services={"echo": {"listen": ["tcp"], "workers": 2}})
    inst.start()                    # master -f, waits until all running
    port = inst.port("echo")        # first TCP listener of a service
    rc, out, err = inst.adminctl("status")
    inst.stop()                     # SIGTERM, waits for master to exit

Everything lives in a temp directory; ports are free loopback ports.
Every wait polls with a deadline; nothing sleeps for a fixed time.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BUILD = os.environ.get("TERN_BUILD") or os.path.abspath("build")
SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(BUILD, "bin")
FIXTURE = os.path.join(BUILD, "t", "fixture", "echod")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_for(pred, timeout=10.0, what="condition"):
    """Poll pred() until it returns a true value or the deadline passes."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError("timed out waiting for " + what)
        # A short back-off between polls, bounded by the deadline.
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 0.1)


def pid_alive(pid):
    # A process that exits while /proc is read gives ESRCH
    # (ProcessLookupError), not only ENOENT.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


class Line:
    """A line-oriented client for the fixture service."""

    def __init__(self, port, host="127.0.0.1", timeout=10):
        if isinstance(port, str):
            self.s = socket.socket(socket.AF_UNIX)
            self.s.settimeout(timeout)
            self.s.connect(port)
        else:
            self.s = socket.create_connection((host, port), timeout=timeout)
        self.f = self.s.makefile("rb")
        self.greeting = self.readline()

    def readline(self):
        return self.f.readline().decode("utf-8", "replace").rstrip("\r\n")

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\r\n")
        return self.readline()

    def close(self):
        self.f.close()
        self.s.close()


class Instance:
    def __init__(self, services=None, conf=None, mail_user=None):
        self.dir = tempfile.mkdtemp(prefix="tern-test-")
        os.chmod(self.dir, 0o755)
        self.conf = {
            "state_dir": "state", "spool_dir": "spool", "log_dir": "log",
            "libexec_dir": BIN, "master_drain_timeout": "5s",
            "master_restart_delay_max": "8s",
        }
        # As root, children drop to the mail user; "nobody" exists on
        # every Debian machine and only ever owns this temp directory.
        if mail_user or os.geteuid() == 0:
            self.conf["mail_user"] = mail_user or "nobody"
        self.conf.update(conf or {})
        self.services = services or {"echo": {}}
        self.ports = {}
        self.proc = None
        self.write_conf()
        self.write_services()

    # --- configuration -------------------------------------------------
    def path(self, *p):
        return os.path.join(self.dir, *p)

    def write_conf(self, extra_text=""):
        with open(self.path("tern.conf"), "w") as f:
            f.write("# written by t/lib/tern.py\n")
            for k, v in self.conf.items():
                f.write("%s = %s\n" % (k, v))
            f.write(extra_text)

    def write_services(self):
        with open(self.path("services.conf"), "w") as f:
            for name, spec in self.services.items():
                listen = []
                for item in spec.get("listen", ["tcp"]):
                    if item == "tcp":
                        key = (name, len(listen))
                        if key not in self.ports:
                            self.ports[key] = free_port()
                        listen.append("127.0.0.1:%d" % self.ports[key])
                    else:
                        listen.append(item)
                f.write("[%s]\n" % name)
                f.write("program = %s\n" % spec.get("program", FIXTURE))
                if spec.get("args"):
                    f.write("args = %s\n" % spec["args"])
                f.write("listen = %s\n" % ", ".join(listen))
                f.write("workers = %d\n" % spec.get("workers", 1))
                for k in ("tls", "user", "chroot"):
                    if k in spec:
                        f.write("%s = %s\n" % (k, spec[k]))
                f.write("\n")

    def port(self, service, index=0):
        return self.ports[(service, index)]

    # --- running ---------------------------------------------------------
    def adminctl(self, *args, timeout=30):
        p = subprocess.run([os.path.join(BIN, "adminctl"), "-c", self.dir] +
                           list(args), capture_output=True, text=True,
                           timeout=timeout, env=self.env())
        return p.returncode, p.stdout, p.stderr

    def status(self):
        rc, out, err = self.adminctl("--json", "status")
        if rc != 0:
            return None
        return {s["name"]: s for s in json.loads(out)["services"]}

    def all_running(self):
        st = self.status()
        if not st:
            return False
        return all(s["state"] in ("running", "stopped") for s in st.values())

    def env(self):
        """Sanitizer reports of master, adminctl and every daemon go to
        files in the instance, which cleanup() turns into a failure."""
        env = dict(os.environ)
        san = self.path("sanitizer")
        if not os.path.isdir(san):
            os.mkdir(san)
            os.chmod(san, 0o1777)     # daemons write here as the mail user
        env["ASAN_OPTIONS"] = "log_path=%s/asan:detect_leaks=1" % san
        env["UBSAN_OPTIONS"] = "log_path=%s/ubsan:print_stacktrace=1" % san
        return env

    def start(self, wait=True):
        self.log_out = open(self.path("master.out"), "w")
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "master"), "-f", "-c", self.dir],
            stdout=self.log_out, stderr=subprocess.STDOUT, env=self.env())
        if wait:
            wait_for(self._started, what="master to start its services")
        return self.proc

    def _started(self):
        if self.proc.poll() is not None:
            raise RuntimeError("master exited with %d:\n%s" %
                               (self.proc.returncode, self.master_out()))
        return self.all_running()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def child_pids(self):
        st = self.status() or {}
        pids = []
        for s in st.values():
            pids += [int(p) for p in s["pids"].split(",") if p]
        return pids

    def stop(self, timeout=20):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode

    def master_out(self):
        with open(self.path("master.out")) as f:
            return f.read()

    def log(self, name="master"):
        try:
            with open(self.path("log", name + ".log")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def sanitizer_reports(self):
        out = []
        san = self.path("sanitizer")
        for name in sorted(os.listdir(san) if os.path.isdir(san) else []):
            with open(os.path.join(san, name)) as f:
                out.append(name + ":\n" + f.read())
        return out

    # "with Instance(...) as inst:" runs a test body; an exception becomes
    # a failed test with master's output, and the instance is cleaned up.
    def __enter__(self):
        return self

    def __exit__(self, etype, value, tb):
        import tap
        import traceback
        if etype is not None:
            tap.ok(False, "exception: %r" % value)
            tap.diag("".join(traceback.format_exception(etype, value, tb)))
            if os.path.exists(self.path("master.out")):
                tap.diag(self.master_out())
        self.cleanup()
        return True

    def cleanup(self):
        self.stop()
        import tap
        reports = self.sanitizer_reports()
        tap.ok(not reports, "no sanitizer reports from any process")
        for r in reports:
            tap.diag(r[:4000])
        if os.environ.get("TERN_KEEP"):
            print("# kept " + self.dir)
            return
        shutil.rmtree(self.dir, ignore_errors=True)
