# SPDX-License-Identifier: ISC
"""A private Dovecot under a test's folder, as a real mail store for
`nomx fetch --lmtp`: its own config, run and state folders, log, and
Maildirs; LMTP on a loopback port and on a socket, IMAP on another
port; never the system's Dovecot (Debian's package is installed with
its service left stopped by the test machine's policy).  Users are
alice and bob (password "secret"), found by the local part of an
address; anyone else is unknown, so LMTP refuses them with 550."""
import imaplib
import os
import pwd
import socket
import subprocess
import time

from harness import Skip, free_port, is_root

DOVECOT = "/usr/sbin/dovecot"
USERS = ("alice", "bob")
PASSWORD = "secret"

CONF = """\
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
instance_name = nomx-test-{port_lmtp}
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Ln
first_valid_uid = 1
mail_location = maildir:{d}/mail/%n
passdb {{
  driver = passwd-file
  args = {d}/users
}}
userdb {{
  driver = passwd-file
  args = {d}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port_imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {port_lmtp}
  }}
  unix_listener lmtp {{
    mode = 0666
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class Dovecot:
    def __init__(self, d):
        if not os.path.exists(DOVECOT):
            raise Skip("dovecot-core not installed")
        if not is_root():
            raise Skip("a private Dovecot needs root (CI runs as root)")
        self.dir = d
        self.port_lmtp, self.port_imap = free_port(), free_port()
        self.socket = os.path.join(d, "run", "lmtp")
        self.conf = os.path.join(d, "dovecot.conf")
        # The mail is written as nobody: Dovecot never delivers as root.
        nobody = pwd.getpwnam("nobody")
        os.makedirs(os.path.join(d, "mail"))
        os.chown(os.path.join(d, "mail"), nobody.pw_uid, nobody.pw_gid)
        # nobody must reach the folder through the test's own.
        p = d
        while p != "/":
            os.chmod(p, os.stat(p).st_mode | 0o011)
            p = os.path.dirname(p)
        with open(os.path.join(d, "users"), "w") as f:
            for u in USERS:
                f.write("%s:{PLAIN}%s:%d:%d::%s/home/%s::\n"
                        % (u, PASSWORD, nobody.pw_uid, nobody.pw_gid, d, u))
        with open(self.conf, "w") as f:
            f.write(CONF.format(d=d, port_lmtp=self.port_lmtp, port_imap=self.port_imap))
        self.running = False

    def start(self):
        """In the foreground (-F), so that it is ours to stop and its
        children never hold the test's pipes."""
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        self.running = True
        deadline = time.time() + 20
        while not (os.path.exists(self.socket) and port_open(self.port_lmtp)):
            assert self.proc.poll() is None, self.log()
            assert time.time() < deadline, self.log()
            time.sleep(0.05)
        return self

    def stop(self):
        if self.running:
            self.proc.terminate()
            self.proc.wait(20)
            self.running = False

    def log(self):
        try:
            with open(os.path.join(self.dir, "dovecot.log")) as f:
                return f.read()
        except OSError:
            return ""

    def inbox(self, user):
        """Every message in user's INBOX, as IMAP gives it (CRLF)."""
        c = imaplib.IMAP4("127.0.0.1", self.port_imap)
        try:
            c.login(user, PASSWORD)
            c.select("INBOX", readonly=True)
            typ, data = c.search(None, "ALL")
            out = []
            for num in data[0].split():
                typ, got = c.fetch(num, "(BODY.PEEK[])")
                out.append(got[0][1])
            return out
        finally:
            c.logout()
