# SPDX-License-Identifier: GPL-2.0
"""The real monitoring chain for export tests: node_exporter instances reading
inferlat's textfile directories and a Prometheus server scraping them, all on
127.0.0.1 ports of their own, started here and stopped by PID."""
import json
import os
import re
import socket
import subprocess
import time
import urllib.parse
import urllib.request

from harness import TestFailure, check

NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES = os.path.join(ROOT, "scripts", "prometheus", "inferlat-rules.yml")
RULES_TEST = os.path.join(ROOT, "scripts", "prometheus", "inferlat-rules.test.yml")
DASHBOARD = os.path.join(ROOT, "scripts", "grafana", "inferlat-dashboard.json")
UNIT = os.path.join(ROOT, "scripts", "systemd", "inferlat.service")
DAEMONSET = os.path.join(ROOT, "scripts", "kubernetes", "inferlat-daemonset.yaml")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


class Server:
    """A binary listening on 127.0.0.1:port; a taken port (another test on
    this machine) is retried with another one."""

    def __init__(self, wd, name, argv_for_port, ready_path, tries=5):
        self.log = wd.file(name + ".log")
        for _ in range(tries):
            self.port = free_port()
            self.proc = subprocess.Popen(argv_for_port(self.port), stdout=open(self.log, "w"),
                                         stderr=subprocess.STDOUT)
            if self._wait_ready(ready_path):
                return
            self.stop()
        raise TestFailure("%s did not start: %s" % (name, open(self.log).read()[-2000:]))

    def _wait_ready(self, path, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                http_get("http://127.0.0.1:%d%s" % (self.port, path), timeout=1)
                return True
            except OSError:
                time.sleep(0.1)
        return False

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def node_exporter(wd, name, textfile_dir):
    return Server(wd, name, lambda port: [
        NODE_EXPORTER, "--web.listen-address=127.0.0.1:%d" % port,
        "--collector.textfile.directory=" + textfile_dir, "--no-collector.systemd",
        # only what the tests read: quick scrapes on a shared machine
        "--collector.disable-defaults", "--collector.textfile"], "/metrics")


def prometheus(wd, targets, rules=None):
    """targets: {instance address: host label}. Scrapes every second."""
    data = wd.file("prom-data")
    conf = wd.file("prometheus.yml")
    with open(conf, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n")
        if rules:
            f.write("rule_files:\n  - %s\n" % json.dumps(rules))
        f.write("scrape_configs:\n  - job_name: node\n    static_configs:\n")
        for addr, host in targets.items():
            f.write("      - targets: [%s]\n        labels: {host: %s}\n" % (json.dumps(addr), json.dumps(host)))
    return Server(wd, "prometheus", lambda port: [
        PROMETHEUS, "--config.file=" + conf, "--storage.tsdb.path=" + data,
        "--web.listen-address=127.0.0.1:%d" % port], "/-/ready")


def query(prom, expr, at=None):
    """Instant query: [(labels, float value)]."""
    params = {"query": expr}
    if at is not None:
        params["time"] = "%.3f" % at
    body = json.loads(http_get("http://%s/api/v1/query?%s" % (prom.address, urllib.parse.urlencode(params))))
    check(body["status"] == "success", "query %s: %s" % (expr, body))
    res = body["data"]["result"]
    if body["data"]["resultType"] == "scalar":
        return [({}, float(res[1]))]
    return [(r["metric"], float(r["value"][1])) for r in res]


def query_error(prom, expr):
    """None when Prometheus accepts the expression, else its error."""
    url = "http://%s/api/v1/query?%s" % (prom.address, urllib.parse.urlencode({"query": expr}))
    try:
        body = json.loads(http_get(url))
    except urllib.error.HTTPError as e:
        body = json.loads(e.read().decode())
    return None if body.get("status") == "success" else body.get("error", str(body))


def series(prom, match):
    url = "http://%s/api/v1/series?%s" % (prom.address, urllib.parse.urlencode({"match[]": match}))
    body = json.loads(http_get(url))
    check(body["status"] == "success", "series %s: %s" % (match, body))
    return body["data"]


def wait_for(what, fn, timeout=30, step=0.25):
    """Poll fn until it returns a true value; fail with what."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(step)
    raise TestFailure("timed out waiting for %s (last: %r)" % (what, last))


def promtool_check_metrics(text):
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    return r.returncode, (r.stdout + r.stderr).strip()


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "\\": "\\", '"': '"'}[m.group(1)], v)


def parse_textfile(text):
    """Exposition text -> (families {name: type}, samples [(name, labels, value)]).
    Fails on any line that is not a HELP/TYPE comment or a sample without a
    timestamp."""
    families, samples = {}, []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            check(name not in families, "family %s announced twice" % name)
            families[name] = typ
            continue
        if line.startswith("# HELP "):
            continue
        m = SAMPLE.match(line)
        check(m is not None, "not a sample line (or it has a timestamp): %r" % line)
        labels = {k: unescape(v) for k, v in LABEL.findall(m.group(2) or "")}
        samples.append((m.group(1), labels, float(m.group(3))))
    return families, samples
