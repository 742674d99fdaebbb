"""systemd's notify protocol on a real unix datagram socket."""

import os
import socket

from device.notify import Notifier


def listen(path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    return sock


def test_ready_watchdog_stopping_arrive_as_datagrams(tmp_path):
    sock = listen(tmp_path / "notify")
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "30000000"})
    try:
        assert notifier.watchdog_seconds == 15.0
        assert notifier.ready("listening") and notifier.watchdog() and notifier.status("ok") and notifier.stopping()
        got = [sock.recv(1024).decode() for _ in range(4)]
        assert got == ["READY=1\nSTATUS=listening", "WATCHDOG=1", "STATUS=ok", "STOPPING=1"]
    finally:
        notifier.close()
        notifier.close()
        sock.close()


def test_abstract_socket_address():
    name = f"emotune-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(5)
    notifier = Notifier({"NOTIFY_SOCKET": "@" + name})
    try:
        assert notifier.ready()
        assert sock.recv(1024) == b"READY=1"
    finally:
        notifier.close()
        sock.close()


def test_outside_systemd_nothing_is_sent_and_nothing_fails(tmp_path):
    quiet = Notifier({})
    assert quiet.address is None and quiet.watchdog_seconds is None
    assert not quiet.ready() and not quiet.watchdog()
    gone = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    assert not gone.ready()  # logged, not raised
    gone.close()


def test_watchdog_for_another_pid_is_not_ours():
    assert Notifier({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}).watchdog_seconds is None
    assert Notifier({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid())}).watchdog_seconds == 0.5
    assert Notifier({"WATCHDOG_USEC": "0"}).watchdog_seconds is None
