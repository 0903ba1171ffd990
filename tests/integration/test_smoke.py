# SPDX-License-Identifier: ISC
"""The smoke test every board runs under qemu-user in CI (the full suite
runs on the host and on mipsel): start, deliver one message with a real
client, read it back with the device's own `nomx spool cat`, dated by
the board's wall clock."""
import calendar
import email.utils
import smtplib
import subprocess
import time

from harness import Server, nomx_cmd, stored_body


def test_smoke_start_deliver_read_back():
    body = b"Subject: smoke\r\n\r\nUPS on battery, 42 min left.\r\n"
    with Server() as s:
        with smtplib.SMTP("127.0.0.1", s.port) as c:
            c.ehlo("ups.example")
            c.sendmail("ups@ups.example", ["alice@mail.example.com"], body)
        rows = s.ls()
        assert len(rows) == 1 and rows[0][1] == "ups@ups.example", rows
        raw = subprocess.run(nomx_cmd("-s", s.spool, "spool", "cat", str(rows[0][0])),
                             capture_output=True, check=True).stdout
        rp, received, rest = stored_body(raw)
        assert rp == "ups@ups.example" and "from ups.example" in received, (rp, received)
        assert rest == body, rest
        # The wall clock (clock.c: the system call itself, 64-bit seconds
        # on the 32-bit boards) dates the record and the Received: line.
        now = time.time()
        ls = subprocess.run(nomx_cmd("-s", s.spool, "spool", "ls"), capture_output=True,
                            check=True, text=True).stdout
        when = calendar.timegm(time.strptime(ls.split()[1], "%Y-%m-%dT%H:%M:%SZ"))
        date = email.utils.parsedate_to_datetime(received.rsplit(";", 1)[1].strip())
        assert abs(when - now) < 300 and abs(date.timestamp() - now) < 300, (ls, received)
