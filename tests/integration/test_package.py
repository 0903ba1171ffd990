# SPDX-License-Identifier: ISC
"""Install and packaging: `make install` for each init style, and the
OpenWrt .ipk unpacked and checked the way opkg reads it."""
import os
import re
import shlex
import signal
import subprocess
import tarfile
import tempfile
import time

from harness import TMP, nomx_cmd

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOARD = os.environ.get("BOARD", "host")


def make(*args):
    r = subprocess.run(["make", "-s", "BOARD=" + BOARD] + list(args), cwd=TOP,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def board_var(name):
    for line in open(os.path.join(TOP, "board", BOARD, "board.mk")):
        if line.startswith(name + " ="):
            return line.split("=", 1)[1].strip()
    return ""


def config_macros(local):
    """config.h's macros for a router board, with `local` as the make
    line's LOCAL_CONFIG (or none), included as the Makefile does."""
    defs = ['-DNOMX_BOARD_CONFIG="%s"' % os.path.join(TOP, "board", "router.h")]
    if local is not None:
        path = os.path.join(TMP, "my-router.h")
        with open(path, "w") as f:
            f.write(local)
        defs.append('-DNOMX_LOCAL_CONFIG="%s"' % path)
    r = subprocess.run(["cc", "-std=c11", "-Werror", "-E", "-dM", "-x", "c"] + defs +
                       [os.path.join(TOP, "config.h")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return dict(re.findall(r"^#define (NOMX_\w+) (.*)$", r.stdout, re.M))


def test_a_local_config_wins_over_the_router_boards_settings():
    m = config_macros(None)
    assert (m["NOMX_SPOOL_DIR"], m["NOMX_COMMIT_WINDOW_MS"]) == ('"/overlay/nomx"', "30"), m
    # What README's "Flash it" asks of a user: their own file on the make
    # line, setting what they need, some of it set by board/router.h too.
    m = config_macros('#define NOMX_SPOOL_DIR "/srv/nomx"\n#define NOMX_COMMIT_WINDOW_MS 5\n'
                      '#define NOMX_TLS_X25519 1\n')
    assert (m["NOMX_SPOOL_DIR"], m["NOMX_COMMIT_WINDOW_MS"], m["NOMX_TLS_X25519"]) == \
        ('"/srv/nomx"', "5", "1"), m
    assert m["NOMX_FETCH"] == "0", "the router's other settings stay"


def test_make_install_each_init_style():
    for init, must in (("systemd", "lib/systemd/system/nomx-fetch@.service"),
                       ("openwrt", "etc/init.d/nomx"),
                       ("busybox", "etc/init.d/S50nomx")):
        root = tempfile.mkdtemp(prefix="nomx-install-", dir=TMP)
        make("install", "INIT=" + init, "DESTDIR=" + root)
        binary = os.path.join(root, "usr/sbin/nomx")
        assert os.access(binary, os.X_OK), init
        out = subprocess.run(["file", binary], capture_output=True, text=True).stdout
        assert "statically linked" in out and "not stripped" not in out, out
        assert os.path.exists(os.path.join(root, must)), (init, must)
        if init != "openwrt":
            man = open(os.path.join(root, "usr/share/man/man8/nomx.8")).read()
            assert man.startswith(".\\\"") and ".TH NOMX 8" in man
    unit = open(os.path.join(TOP, "board/systemd/nomx.service")).read()
    for key in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/spool/nomx",
                "AmbientCapabilities=CAP_NET_BIND_SERVICE", "ExecReload=/bin/kill -HUP"):
        assert key in unit, key


def _systemd_words(line, env):
    """ExecStart= as systemd splits it: "${VAR}" one word, $VAR split at
    whitespace, quotes removed."""
    out = []
    for word in shlex.split(line, posix=False):
        if word.startswith('"') and word.endswith('"'):
            out.append(re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), word[1:-1]))
        elif re.fullmatch(r"\$\{?(\w+)\}?", word):
            out += env.get(re.fullmatch(r"\$\{?(\w+)\}?", word).group(1), "").split()
        else:
            out.append(word)
    return out


def test_fetch_unit_runs_a_follow_that_stops_clean():
    """nomx-fetch@.service, its ExecStart expanded with the example
    configuration it documents (the binary and state folder moved to
    the test's): a valid `fetch --follow` command line, which tries the
    device, waits, and on SIGTERM (systemctl stop) ends with 0."""
    unit = open(os.path.join(TOP, "board/systemd/nomx-fetch@.service")).read()
    conf = dict(l[2:].strip().split("=", 1) for l in unit.splitlines()
                if re.match(r"#   NOMX_\w+=", l))
    env = dict(dict(NOMX_REMOTE="nomx", NOMX_FETCH_OPTS=""), **conf)
    env["NOMX_SSH"] = "nomx@127.0.0.1"
    d = tempfile.mkdtemp(prefix="nomx-unit-", dir=TMP)
    env["NOMX_OUTPUT"] = "--maildir " + os.path.join(d, "Maildir")
    env["NOMX_FETCH_OPTS"] = "--port 1 --timeout 2"
    line = re.search(r"^ExecStart=(.*)$", unit, re.M).group(1).replace("%i", "ups1")
    words = _systemd_words(line, env)
    assert words[:3] == ["/usr/sbin/nomx", "fetch", "--follow"], words
    words = nomx_cmd(*[w.replace("/var/lib/nomx-fetch", d) for w in words[1:]])
    p = subprocess.Popen(words, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    p.send_signal(signal.SIGTERM)
    err = p.communicate(timeout=30)[1]
    assert p.returncode == 0 and "usage" not in err, (p.returncode, err, words)


def test_ipk_is_what_opkg_expects():
    arch = board_var("IPK_ARCH")
    out = make("ipk")
    ipk = out.split(":")[0].strip().splitlines()[-1]
    assert ipk.endswith("_%s.ipk" % arch), out
    d = tempfile.mkdtemp(prefix="nomx-ipk-", dir=TMP)
    subprocess.run(["ar", "x", ipk], cwd=d, check=True)
    members = subprocess.run(["ar", "t", ipk], capture_output=True, text=True,
                             check=True).stdout.split()
    assert members == ["debian-binary", "control.tar.gz", "data.tar.gz"], members
    assert open(os.path.join(d, "debian-binary")).read() == "2.0\n"
    with tarfile.open(os.path.join(d, "control.tar.gz")) as t:
        names = sorted(n for n in t.getnames() if n not in (".", "./"))
        assert names == ["./conffiles", "./control", "./postinst", "./prerm"], names
        control = t.extractfile("./control").read().decode()
        assert "Package: nomx\n" in control and "Architecture: %s\n" % arch in control
        assert "Version: " in control and "Installed-Size: " in control
        assert t.getmember("./postinst").mode & 0o111
        assert all(m.uid == 0 and m.gid == 0 for m in t.getmembers())
        assert "/etc/init.d/nomx enable" in t.extractfile("./postinst").read().decode()
    with tarfile.open(os.path.join(d, "data.tar.gz")) as t:
        names = t.getnames()
        assert "./usr/sbin/nomx" in names and "./etc/init.d/nomx" in names, names
        assert t.getmember("./usr/sbin/nomx").mode & 0o111
        init = t.extractfile("./etc/init.d/nomx").read().decode()
        assert init.startswith("#!/bin/sh /etc/rc.common") and "USE_PROCD=1" in init
        assert "procd_set_param respawn" in init and "keygen" in init
        t.extract("./usr/sbin/nomx", d)
    out = subprocess.run(["file", os.path.join(d, "usr/sbin/nomx")], capture_output=True,
                         text=True).stdout
    assert "statically linked" in out, out
    # The same inputs give the same package.
    first = open(ipk, "rb").read()
    make("ipk")
    assert open(ipk, "rb").read() == first
