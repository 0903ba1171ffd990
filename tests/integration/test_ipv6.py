# SPDX-License-Identifier: ISC
"""IPv6 (README "IPv6"): nomx listens on IPv6 beside IPv4, on the same
ports; mail to user@[IPv6:<our address>] is ours in every spelling of
the address, any other IPv6 literal is a relay attempt (550 5.7.1); the
greeting, the Received: header and the log show an IPv6 client as one;
the per-address cap counts an IPv6 client by its /64.  Dev config:
static IPv6 address ::1, listening on 127.0.0.1 and ::1.

The /64 test needs addresses loopback does not have: it runs in a
network namespace of its own (this file, run as a script inside
`unshare -n`), as root."""
import os
import smtplib
import socket
import subprocess
import sys

from harness import WAIT, Server, Skip, expect, is_root, smtplib_send, stored_body

RCPT = "alice@mail.example.com"


def _server(**kw):
    return Server(listen=("127.0.0.1", "::1"), **kw)


def _body(tag, size):
    line = b"y" * 62 + b"\r\n"
    return b"Subject: %s\r\n\r\n" % tag.encode() + line * (size // len(line))


def _smtplib(s, mode, msg):
    smtplib_send(s, mode, msg, host="::1")


def test_smtplib_swaks_and_curl_deliver_over_ipv6():
    """Plain, STARTTLS and SMTPS over ::1 with smtplib (64 KiB and
    1 MiB), swaks and curl, and IPv4 on the same daemon between them."""
    s = _server(tls=True).start()
    sent = []
    for mode in ("plain", "starttls", "smtps"):
        for size in (64 * 1024, 1024 * 1024):
            msg = _body("%s-%d" % (mode, size), size)
            _smtplib(s, mode, msg)
            sent.append(msg)
    v4 = smtplib.SMTP("127.0.0.1", s.port, timeout=WAIT)
    v4.sendmail("cam@example.com", [RCPT], b"Subject: over IPv4\r\n\r\nsame daemon\r\n")
    v4.quit()
    for tls in ([], ["--tls"]):
        r = subprocess.run(["swaks", "--server", "::1", "--port", str(s.port), "--to", RCPT,
                            "--from", "cam@example.com", "--body", "swaks over IPv6"] + tls,
                           capture_output=True, text=True, timeout=WAIT)
        assert r.returncode == 0 and "queued as" in r.stdout, r.stdout + r.stderr
    r = subprocess.run(["curl", "-sS", "--url", "smtp://[::1]:%d" % s.port, "--mail-from",
                        "cam@example.com", "--mail-rcpt", RCPT, "-T", "-"],
                       input=b"Subject: curl over IPv6\r\n\r\nhello\r\n", capture_output=True,
                       timeout=WAIT)
    assert r.returncode == 0, r.stderr
    rows = s.ls()
    assert len(rows) == len(sent) + 4, rows
    bodies = [stored_body(s.cat(row[0])) for row in rows]
    assert [b[2] for b in bodies[:len(sent)]] == sent
    for rp, received, _ in bodies:
        assert ("([IPv6:::1])" in received) != ("([127.0.0.1])" in received), received
    assert sum("([127.0.0.1])" in b[1] for b in bodies) == 1
    log = s.log()
    assert "listening on ::1 port %d" % s.port in log and "client=::1 connect" in log, log
    assert s.stop() == 0


def test_our_ipv6_literal_in_every_spelling_and_no_other():
    """EHLO greets [IPv6:::1]; RCPT to [IPv6:...] in each spelling of ::1
    is accepted, near misses are refused as relaying."""
    s = _server().start()
    c = smtplib.SMTP("::1", s.port, timeout=WAIT)
    code, text = c.ehlo("sensor.example")
    assert code == 250 and b"greets [IPv6:::1]" in text, text
    c.mail("cam@example.com")
    ours = ["bob@[IPv6:::1]", "bob@[ipv6:0:0:0:0:0:0:0:1]",
            "bob@[IPv6:0000:0000:0000:0000:0000:0000:0000:0001]", "bob@[IPv6:0::0:1]",
            "bob@[IPv6:::0.0.0.1]", "postmaster@[IPv6:0:0:0:0:0:0:0.0.0.1]"]
    for r in ours:
        expect(c.rcpt(r), 250)
    for r in ("bob@[IPv6:::2]", "bob@[IPv6:1::]", "bob@[IPv6:::ffff:127.0.0.1]",
              "bob@[IPv6:::1%lo]", "bob@[::1]", "bob@[IPv6:fe80::1]"):
        code, text = c.rcpt(r)
        assert code == 550 and text.startswith(b"5.7.1"), (r, code, text)
    code, _ = c.data(b"Subject: literals\r\n\r\nto ::1, spelt six ways\r\n")
    assert code == 250
    c.quit()
    rows = s.ls()
    assert len(rows) == 1 and rows[0][2] == ours, rows
    assert s.stop() == 0


# Inside the namespace: the server on fd00:1::1; clients from two
# addresses of its /64 and one of another /64.
NS_ADDRS = ("fd00:1::1", "fd00:1::2", "fd00:1::3", "fd00:1::4", "fd00:2::2")


def _in_netns():
    for a in NS_ADDRS:
        subprocess.run(["ip", "-6", "addr", "add", a + "/128", "dev", "lo", "nodad"], check=True)
    s = Server(listen=(NS_ADDRS[0],)).start()
    held = []

    def connect(src):
        c = socket.create_connection((NS_ADDRS[0], s.port), timeout=WAIT, source_address=(src, 0))
        f = c.makefile("rb")
        return c, f.readline().decode()

    for i in range(20):     # NOMX_MAX_CONN_PER_IP: 10 and 10 from one /64
        c, greeting = connect(NS_ADDRS[1 + i % 2])
        assert greeting.startswith("220 "), greeting
        held.append(c)
    c, reply = connect(NS_ADDRS[3])     # a third address in the same /64
    assert reply.startswith("421 4.7.0"), reply
    c, greeting = connect(NS_ADDRS[4])  # another /64
    assert greeting.startswith("220 "), greeting
    log = s.log()
    assert "client=fd00:1::4 refused: 20 connections from it" in log, log
    assert "client=fd00:2::2 connect" in log, log
    s.stop()


def test_the_cap_counts_an_ipv6_client_by_its_64():
    if not is_root() or subprocess.run(["unshare", "-n", "true"]).returncode != 0:
        raise Skip("needs root and network namespaces")
    r = subprocess.run(["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$1" netns',
                        sys.executable, os.path.abspath(__file__)],
                       capture_output=True, text=True, timeout=5 * WAIT)
    assert r.returncode == 0, r.stdout + r.stderr


if __name__ == "__main__" and sys.argv[1:] == ["netns"]:
    _in_netns()
