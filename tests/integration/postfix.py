# SPDX-License-Identifier: ISC
"""A private Postfix instance under a test's folder, as a real relay
into nomx: its own main.cf, master.cf, queue and log; never the system's
Postfix (Debian's package is installed with "No configuration", so none
runs).  Mail comes in over SMTP on a loopback port and leaves through
one of three smtp(8) transports chosen by the envelope sender:
plain@tx.example (no TLS), starttls@tx.example (STARTTLS required) and
smtps@tx.example (TLS from the first byte, port 465 style)."""
import os
import shutil
import subprocess
import time

from harness import Skip, free_port

POSTFIX = "/usr/sbin/postfix"

# Only the services a relay needs; no chroot (the queue is ours).
MASTER_CF = """\
127.0.0.1:{smtpd_port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
tx-plain  unix  - - n - - smtp -o smtp_tls_security_level=none
tx-starttls unix - - n - - smtp -o smtp_tls_security_level=encrypt
tx-smtps  unix  - - n - - smtp -o smtp_tls_security_level=encrypt -o smtp_tls_wrappermode=yes
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
myhostname = relay.tx.example
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
message_size_limit = 20000000
smtp_tls_loglevel = 1
# One delivery per transport at a time keeps nomx's staging arena (two
# 10 MiB messages in the dev config) from turning big ones away.
default_destination_concurrency_limit = 1
minimal_backoff_time = 1s
maximal_backoff_time = 2s
queue_run_delay = 1s
sender_dependent_default_transport_maps = inline:{{
    {{plain@tx.example = tx-plain:[127.0.0.1]:{port}}},
    {{starttls@tx.example = tx-starttls:[127.0.0.1]:{port}}},
    {{smtps@tx.example = tx-smtps:[127.0.0.1]:{tls_port}}} }}
"""


class Postfix:
    def __init__(self, parent_dir, port, tls_port):
        if not os.path.exists(POSTFIX):
            raise Skip("postfix not installed")
        self.dir = os.path.join(parent_dir, "postfix")
        self.etc = os.path.join(self.dir, "etc")
        self.smtpd_port = free_port()
        for sub in ("etc", "queue", "data"):
            os.makedirs(os.path.join(self.dir, sub))
        shutil.chown(os.path.join(self.dir, "data"), "postfix")
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(d=self.dir, port=port, tls_port=tls_port))
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(smtpd_port=self.smtpd_port))

    def run(self, *args):
        # Postfix's commands report to stderr only on a terminal; the
        # log file has the rest.
        r = subprocess.run([POSTFIX, "-c", self.etc] + list(args), capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, "postfix %s: %s%s\n%s" % (args, r.stdout, r.stderr, self.log())
        return r

    def start(self):
        self.run("start")
        deadline = time.time() + 20
        while time.time() < deadline:
            if "daemon started" in self.log():
                return self
            time.sleep(0.1)
        raise AssertionError("postfix did not start:\n" + self.log())

    def stop(self):
        subprocess.run([POSTFIX, "-c", self.etc, "stop"], capture_output=True, timeout=60)

    def log(self):
        try:
            with open(os.path.join(self.dir, "maillog"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def queue_empty(self):
        r = subprocess.run(["postqueue", "-c", self.etc, "-p"], capture_output=True, text=True)
        return "Mail queue is empty" in r.stdout

    def wait_empty(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.queue_empty():
                return
            time.sleep(0.2)
        raise AssertionError("postfix still holds mail after %d s:\n%s" % (timeout, self.log()[-6000:]))

    def __enter__(self):
        return self.start()

    def __exit__(self, *a):
        self.stop()
