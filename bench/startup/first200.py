"""One cold start for bench/startup.sh: execs the host (pinned to CPU 0) in DIR with CONFIG and
reports the milliseconds from the exec to the "listening" log line, to the first 200 on /healthz
and to the first 200 on /readyz (storage and every plugin ready), polling every millisecond from
this process (pin it to another CPU). Then the host's RSS at that moment and, when WAIT_FOR is
given, once a log line containing it has appeared (e.g. the rag plugin's first sync). Stops the
host with SIGTERM. Prints one line: listen_ms health_ms ready_ms rss_kb settled_rss_kb.

Usage: python3 first200.py PLUGHOST DIR CONFIG LOG [WAIT_FOR]
"""
import http.client
import os
import re
import signal
import subprocess
import sys
import time

binary, cwd, config, log_path = sys.argv[1:5]
wait_for = sys.argv[5] if len(sys.argv) > 5 else None
LIMIT = 120.0  # seconds; a start slower than this is a failure


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+)", f.read(), re.M).group(1))


def log_text():
    with open(log_path, errors="replace") as f:
        return f.read()


def status(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return 0
    finally:
        conn.close()


def until(what, probe):
    while True:
        value = probe()
        if value:
            return value
        if time.perf_counter() - t0 > LIMIT:
            host.kill()
            sys.exit(f"first200: no {what} within {LIMIT:.0f} s; log:\n{log_text()[-2000:]}")
        if host.poll() is not None:
            sys.exit(f"first200: host exited {host.returncode} before {what}; log:\n"
                     f"{log_text()[-2000:]}")
        time.sleep(0.001)


with open(log_path, "wb") as log:
    t0 = time.perf_counter()
    host = subprocess.Popen(["taskset", "-c", "0", binary, "run", "--config", config], cwd=cwd,
                            stdout=log, stderr=subprocess.STDOUT)
try:
    pattern = re.compile(r'"msg":"listening".*?"port":(\d+)')
    port = int(until("listening line", lambda: (m := pattern.search(log_text())) and m.group(1)))
    t_listen = time.perf_counter()
    until("200 on /healthz", lambda: status(port, "/healthz") == 200)
    t_health = time.perf_counter()
    until("200 on /readyz", lambda: status(port, "/readyz") == 200)
    t_ready = time.perf_counter()
    rss = rss_kb(host.pid)
    settled = rss
    if wait_for:
        until(f"log line '{wait_for}'", lambda: wait_for in log_text())
        settled = rss_kb(host.pid)
    ms = [(t - t0) * 1000 for t in (t_listen, t_health, t_ready)]
    print(f"{ms[0]:.1f} {ms[1]:.1f} {ms[2]:.1f} {rss} {settled}")
finally:
    host.send_signal(signal.SIGTERM)
    try:
        host.wait(timeout=20)
    except subprocess.TimeoutExpired:
        host.kill()
        host.wait()
