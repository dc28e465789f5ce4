"""Helpers of the scrape tests: start and stop servers on 127.0.0.1, run
promscope with a bounded time, collect failures. Python 3 stdlib only."""
import os
import select
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def clean_env(**extra):
    """The environment for promscope: no proxies (libcurl would send loopback
    traffic to them), no secrets of the caller, C locale."""
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
           and not k.startswith("PROMSCOPE_")}
    env["no_proxy"] = "127.0.0.1,localhost"
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env["LC_ALL"] = "C"
    env.update(extra)
    return env


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, deadline_s=20.0):
    """Wait until 127.0.0.1:port accepts connections (bounded)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %s before listening" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nothing listens on 127.0.0.1:%d after %.0f s" % (port, deadline_s))


def stop(proc, grace=5.0):
    if proc is None or proc.poll() is not None:
        return
    try:
        if proc.stdin:
            proc.stdin.close()
    except OSError:
        pass
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=grace)


class FaultServer:
    """tests/fault_server.py in a subprocess; stopped by closing its stdin."""

    def __init__(self, token_file=None, tls_cert=None, tls_key=None, lifetime=240):
        args = [sys.executable, os.path.join(HERE, "fault_server.py"), "--lifetime", str(lifetime)]
        if token_file:
            args += ["--token-file", token_file]
        if tls_cert:
            args += ["--tls-cert", tls_cert, "--tls-key", tls_key]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.port = self.tls_port = None
        want = 2 if tls_cert else 1
        got, buf = 0, b""
        end = time.monotonic() + 60
        while got < want and time.monotonic() < end:
            r, _, _ = select.select([self.proc.stdout], [], [], 1.0)
            if not r:
                if self.proc.poll() is not None:
                    break
                continue
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                key, _, val = line.decode().partition(" ")
                if key == "PORT":
                    self.port = int(val)
                    got += 1
                elif key == "TLSPORT":
                    self.tls_port = int(val)
                    got += 1
        if got < want:
            stop(self.proc)
            raise RuntimeError("fault server did not start")
        self.url = "http://127.0.0.1:%d" % self.port
        self.tls_url = "https://127.0.0.1:%d" % self.tls_port if self.tls_port else None

    def close(self):
        stop(self.proc)


class Checker:
    def __init__(self, promscope):
        self.promscope = promscope
        self.failures = []
        self.count = 0

    def run(self, args, env=None, timeout=120, stdin=None):
        t0 = time.monotonic()
        try:
            r = subprocess.run([self.promscope] + list(args), capture_output=True, timeout=timeout,
                               env=env if env is not None else clean_env(),
                               stdin=subprocess.DEVNULL if stdin is None else stdin)
        except subprocess.TimeoutExpired:
            self.fail("promscope %s: did not finish within %d s" % (" ".join(args), timeout))
            return None
        r.elapsed = time.monotonic() - t0
        r.err = r.stderr.decode("utf-8", "replace")
        r.out = r.stdout.decode("utf-8", "replace")
        return r

    def fail(self, msg):
        self.failures.append(msg)
        print("FAIL: " + msg, flush=True)

    def check(self, name, cond, detail=""):
        self.count += 1
        if cond:
            print("ok   " + name, flush=True)
        else:
            self.fail(name + (": " + detail if detail else ""))

    def expect(self, name, args, code, err_has=(), out_has=(), err_not=(), out_not=(), env=None,
               timeout=120, max_seconds=None):
        """Run promscope; check exit code and substrings of stderr/stdout."""
        r = self.run(args, env=env, timeout=timeout)
        if r is None:
            return None
        problems = []
        if r.returncode != code:
            problems.append("exit %d, want %d" % (r.returncode, code))
        for s in err_has:
            if s not in r.err:
                problems.append("stderr lacks %r" % s)
        for s in out_has:
            if s not in r.out:
                problems.append("stdout lacks %r" % s)
        for s in err_not:
            if s in r.err:
                problems.append("stderr has %r" % s)
        for s in out_not:
            if s in r.out:
                problems.append("stdout has %r" % s)
        if max_seconds is not None and r.elapsed > max_seconds:
            problems.append("took %.1f s, want <= %.1f s" % (r.elapsed, max_seconds))
        detail = "; ".join(problems)
        if problems:
            detail += "\n  stderr: %s\n  stdout: %s" % (r.err[:600], r.out[:300])
        self.check(name, not problems, detail)
        return r

    def finish(self):
        print("%d checks, %d failed" % (self.count, len(self.failures)))
        for f in self.failures:
            print("  " + f.split("\n")[0])
        return 1 if self.failures else 0
