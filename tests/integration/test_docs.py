# SPDX-License-Identifier: GPL-2.0
"""The documentation against the program: every long option --help prints is
in the man page (the reference), and README.md stays an overview (size, no
paths of someone's work tree)."""
import os
import re
import subprocess

from harness import BUILD, INFERLAT, ROOT, check, run

MAN_SRC = os.path.join(ROOT, "inferlat.8.scd")
MAN = os.path.join(BUILD, "inferlat.8")
README = os.path.join(ROOT, "README.md")
README_MAX = 25600

# argp's option lines: "  -p, --pid=PID   ..." or "      --comm=NAME  ..."
OPTION_LINE = re.compile(r"^\s{2,}(?:-\S, )?--([a-z][a-z0-9-]*)")


def long_options(args):
    r = run([INFERLAT] + args + ["--help"])
    check(r.returncode == 0, "%s --help: exit %d: %s" % (" ".join(args) or "inferlat", r.returncode, r.stderr))
    return {m.group(1) for m in map(OPTION_LINE.match, r.stdout.splitlines()) if m}


def subcommands():
    """The commands main.c dispatches on argv[1]."""
    with open(os.path.join(ROOT, "user", "main.c")) as f:
        return re.findall(r'strcmp\(argv\[1\], "([a-z]+)"\)', f.read())


def man_text(wd):
    """The generated page as plain text: font escapes dropped, \\- as -.
    The build's page when it is current, else one rendered here from the
    source (make all and make integration build it)."""
    path, note = MAN, None
    if not os.path.exists(MAN) or os.path.getmtime(MAN) < os.path.getmtime(MAN_SRC):
        path, note = wd.file("inferlat.8"), "build/inferlat.8 missing or stale: rendered from inferlat.8.scd"
        with open(MAN_SRC) as src, open(path, "w") as out:
            r = subprocess.run(["scdoc"], stdin=src, stdout=out, stderr=subprocess.PIPE, text=True)
        check(r.returncode == 0, "scdoc failed on inferlat.8.scd: %s" % r.stderr)
    with open(path) as f:
        roff = f.read()
    roff = re.sub(r"\\f[BIRP]|\\&|\\c", "", roff)
    return roff.replace("\\-", "-"), note


def test_man_page_has_every_long_option(wd):
    main = long_options([])
    # a parse that found nothing (argp's layout changed) must not pass
    check(len(main) > 30, "only %d long options parsed from inferlat --help: %s" % (len(main), sorted(main)))
    for known in ("pid", "probe", "http", "no-split", "textfile-dir", "help", "version"):
        check(known in main, "--%s not among the options parsed from --help: %s" % (known, sorted(main)))
    sym = long_options(["symbols"])
    check(len(sym) >= 4, "only %d long options parsed from inferlat symbols --help: %s" % (len(sym), sorted(sym)))
    text, note = man_text(wd)
    missing = sorted(o for o in main | sym if not re.search(r"(?<![\w-])--%s(?![\w-])" % re.escape(o), text))
    check(not missing, "long options of --help missing from the man page: %s" %
          ", ".join("--" + o for o in missing))
    cmds = subcommands()
    check(len(cmds) >= 2, "found only %r as subcommands in user/main.c" % cmds)
    absent = [c for c in cmds if ("inferlat %s" % c) not in text]
    check(not absent, "subcommands missing from the man page: %s" % absent)
    return "%d options, %d of inferlat symbols, commands %s%s" % (
        len(main), len(sym), ", ".join(cmds), "; " + note if note else "")


def test_readme_is_an_overview(wd):
    size = os.path.getsize(README)
    check(size <= README_MAX, "README.md is %d bytes, over %d: reference material goes to inferlat.8.scd"
          % (size, README_MAX))
    with open(README) as f:
        lines = f.read().splitlines()
    bad = ["%d: %s" % (i, l.strip()) for i, l in enumerate(lines, 1) if "/tmp/wt" in l or "/work/" in l]
    check(not bad, "README.md names work-tree paths (use neutral ones such as /srv/app): %s" % bad)
    return "%d bytes" % size
