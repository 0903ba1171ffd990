# SPDX-License-Identifier: ISC
"""Loopback ports for the tests and the benchmark, one copy: a free
one to listen on, and waiting until a server listens on one."""
import os
import socket
import time

_next_port = [20000 + (os.getpid() % 2000) * 10]


def free_port():
    """A port on 127.0.0.1 nothing listens on now, counting up from a
    base derived from the pid so parallel runs rarely collide."""
    while True:
        _next_port[0] += 1
        p = _next_port[0]
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
                return p
            except OSError:
                continue


def wait_port(port, timeout=20):
    """Until something accepts connections on 127.0.0.1:port."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d did not open" % port)
