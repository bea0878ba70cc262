# SPDX-License-Identifier: GPL-2.0
"""make demo's script: the bundled node-llama-cpp server under its load
generator, profiled with -r llama.cpp. The demo is what a new user sees
first: it must show requests, tokens and decode calls of a real server, and
leave no process behind."""
import os
import re
import subprocess

from harness import BUILD, ROOT, check, run


def test_demo_profiles_the_real_server(wd):
    env = dict(os.environ, OUTPUT=BUILD, DEMO_SECONDS="3")
    r = run(["bash", os.path.join(ROOT, "scripts", "demo.sh")], timeout=180, env=env)
    check(r.returncode == 0, "demo exited %d: %s" % (r.returncode, (r.stderr + r.stdout)[-2000:]))
    out = r.stdout
    check("whole run" in out, "no whole-run view: %s" % out[-2000:])
    final = out[out.rfind("whole run"):]
    m = re.search(r"llama_decode +(\d+) +(\d+) ", final)
    check(m and int(m.group(2)) > 50, "llama_decode row: %s" % final[:1500])
    q = re.search(r"requests (\d+) \(([\d.]+)/s, (\d+) started\); prompt (\d+), generated (\d+)", final)
    check(q and int(q.group(1)) >= 10 and int(q.group(5)) > int(q.group(1)),
          "requests line: %s" % final[:2500])
    check("cores in use while its calls ran" in final, "no thread-pool line: %s" % final[:2500])
    # nothing of the demo keeps running
    left = subprocess.run(["pgrep", "-f", "llama-server.mjs|llama-loadgen.mjs"], capture_output=True, text=True)
    check(left.stdout.strip() == "", "demo left processes: %s" % left.stdout)
    return "demo: %s requests (%s/s), %s generated tokens, %s llama_decode calls in 3 s" % (
        q.group(1), q.group(2), q.group(5), m.group(2))
