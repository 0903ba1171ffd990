# SPDX-License-Identifier: ISC
"""The mailers firmware and small Linux boxes carry, each against the
real daemon: a short alert and a 1 MiB report, plain and over TLS where
the program can, one after another on one daemon.  Every message must
arrive whole: the body nomx stores (`spool cat`) is the body sent, with
CRLF line ends, whatever headers the mailer added.

ssmtp, esmtp and nullmailer run from Debian's packages unpacked into
build/tools/mailers (they are MTAs and conflict with an installed one);
s-nail and Perl's Net::SMTP are installed.  Not in the matrix:
- dma: it reads /etc/dma/dma.conf and spools in /var/spool/dma only, so
  it cannot run beside the system's MTA without replacing it;
- esmtp over STARTTLS: libesmtp accepts only a certificate it can verify
  and found no way to trust nomx's self-signed one (error 18);
- Net::SMTP over TLS: after DATA it waits for the 354 it has already
  read (the same against `openssl s_server`): a client bug, not ours.
msmtp, curl, swaks and Python's smtplib are in test_clients.py and the
TLS tests."""
import os
import subprocess

from harness import Server, stored_body

MAILERS = os.path.join(os.environ["TOOLS"], "mailers")
RCPT = "alice@mail.example.com"
SENDER = "ups@example.com"


def report(n_lines):
    """A body of n_lines text lines (LF ends: the mailers send CRLF)."""
    return "".join("%06d power event at %s, load %d%%, on battery %d s\n" %
                   (i, "2026-11-29T16:%02d" % (i % 60), i % 100, i) for i in range(n_lines))


MESSAGES = [("alert", "UPS on battery\n"), ("report", report(17000))]   # 1 MiB


def body_of(stored):
    """The message body nomx stored, after the mailer's headers."""
    rest = stored_body(stored)[2]
    head, sep, body = rest.partition(b"\r\n\r\n")
    assert sep, rest[:300]
    return head, body


def check_stored(s, before, subject, body):
    new = [r for r in s.ls() if r[0] not in before]
    assert len(new) == 1, (subject, new)
    head, got = body_of(s.cat(new[0][0]))
    want = body.replace("\n", "\r\n").encode()
    assert subject.encode() in head, (subject, head[:400])
    assert got == want, (subject, len(got), len(want), got[:120], got[-120:])
    return new[0][0]


def run(args, msg=None, env=None, timeout=60):
    r = subprocess.run(args, input=msg.encode() if msg is not None else None,
                       capture_output=True, timeout=timeout,
                       env=dict(os.environ, **(env or {})))
    assert r.returncode == 0, (args, r.returncode, r.stdout[-500:], r.stderr[-500:])
    return r


def each_message(s, send, modes):
    """send(mode, subject, body) for every mode and message, checked."""
    for mode in modes:
        for kind, body in MESSAGES:
            subject = "%s %s" % (mode, kind)
            before = {r[0] for r in s.ls()}
            tls_before = s.log().count(" tls TLSv")
            send(mode, subject, body)
            check_stored(s, before, subject, body)
            # Over TLS when asked to be: one more session said so.
            assert s.log().count(" tls TLSv") == tls_before + (mode != "plain"), (mode, kind)


def test_ssmtp():
    with Server(tls=True) as s:

        def send(mode, subject, body):
            conf = os.path.join(s.dir, "ssmtp-%s.conf" % mode)
            with open(conf, "w") as f:
                f.write("mailhub=127.0.0.1:%d\nhostname=ups.example\nFromLineOverride=YES\n%s" %
                        (s.port, "UseSTARTTLS=YES\n" if mode == "starttls" else ""))
            run([os.path.join(MAILERS, "usr/sbin/ssmtp"), "-C", conf, RCPT],
                "Subject: %s\nFrom: %s\n\n%s" % (subject, SENDER, body))

        each_message(s, send, ("plain", "starttls"))


def test_esmtp():
    with Server(tls=True) as s:
        conf = os.path.join(s.dir, "esmtprc")
        with open(conf, "w") as f:
            f.write("hostname = 127.0.0.1:%d\nstarttls = disabled\n" % s.port)
        os.chmod(conf, 0o600)

        def send(mode, subject, body):
            run([os.path.join(MAILERS, "usr/bin/esmtp"), "-C", conf, "-f", SENDER, RCPT],
                "Subject: %s\n\n%s" % (subject, body),
                env={"LD_LIBRARY_PATH": os.path.join(MAILERS, "usr/lib/x86_64-linux-gnu")})

        each_message(s, send, ("plain",))


def test_nullmailer():
    with Server(tls=True) as s:

        def send(mode, subject, body):
            opts = {"plain": "port=%d\n" % s.port,
                    "starttls": "port=%d\nstarttls\ninsecure\n" % s.port,
                    "smtps": "port=%d\ntls\ninsecure\n" % s.tls_port}[mode]
            mail = os.path.join(s.dir, "nullmailer.mail")
            with open(mail, "w") as f:
                # nullmailer's queue format: sender, recipients, a blank line.
                f.write("%s\n%s\n\nSubject: %s\n\n%s" % (SENDER, RCPT, subject, body))
            # Its protocol modules read their options on stdin, the mail on fd 3.
            run(["sh", "-c", 'exec "$0" 3<"$1"', os.path.join(MAILERS, "usr/lib/nullmailer/smtp"),
                 mail], "host=127.0.0.1\n" + opts, env={"HELOHOST": "ups.example"})

        each_message(s, send, ("plain", "starttls", "smtps"))


def test_s_nail():
    with Server(tls=True) as s:

        def send(mode, subject, body):
            url, extra = {"plain": ("smtp://127.0.0.1:%d" % s.port, []),
                          "starttls": ("smtp://127.0.0.1:%d" % s.port, ["-S", "smtp-use-starttls"]),
                          "smtps": ("smtps://127.0.0.1:%d" % s.tls_port, [])}[mode]
            run(["s-nail", "-:/", "-S", "v15-compat", "-S", "mta=" + url] + extra +
                ["-S", "smtp-auth=none", "-S", "tls-verify=ignore", "-S",
                 "smtp-hostname=ups.example", "-S", "sendcharsets=us-ascii", "-r", SENDER,
                 "-s", subject, RCPT], body)

        each_message(s, send, ("plain", "starttls", "smtps"))


NET_SMTP = r"""
use strict; use Net::SMTP;
my ($port, $subject, $file) = @ARGV;
my $s = Net::SMTP->new("127.0.0.1", Port => $port, Hello => "ups.example") or die "connect: $@";
$s->mail('%s') or die "mail: " . $s->message;
$s->to('%s') or die "rcpt: " . $s->message;
open(my $f, "<", $file) or die; local $/; my $body = <$f>;
$s->data("Subject: $subject\n\n$body") or die "data: " . $s->message;
$s->quit;
""" % (SENDER, RCPT)


def test_perl_net_smtp():
    with Server() as s:

        def send(mode, subject, body):
            path = os.path.join(s.dir, "body")
            with open(path, "w") as f:
                f.write(body)
            run(["perl", "-e", NET_SMTP, str(s.port), subject, path])

        each_message(s, send, ("plain",))
