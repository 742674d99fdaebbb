"""A minimal chroot connection for testing the playbook against a debootstrap tree, ansible-core only.

ansible-core ships no chroot connection (its ``chroot`` name redirects to community.general, which
only the 50 MB ``ansible`` bundle or Galaxy provide). This one is all the tests need: commands run
with ``chroot ROOT /bin/sh -c CMD``, files are streamed through ``cat`` inside the root so that
symbolic links resolve as they would on the target. It needs root on the controller.
"""

from __future__ import annotations

import os
import shlex
import subprocess

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

DOCUMENTATION = r"""
name: chroot
short_description: Run tasks inside a chroot on the controller (emotune's test stand-in)
description:
  - Runs commands and copies files into an existing root file system on the controller, with chroot(8).
author: emotune
options:
  remote_addr:
    description: The root directory of the chroot.
    type: string
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
  executable:
    description: The shell that runs commands inside the chroot.
    type: string
    default: /bin/sh
    vars:
      - name: ansible_executable
"""

display = Display()


class Connection(ConnectionBase):
    """Commands and files in a directory tree entered with chroot(8)."""

    transport = "chroot"
    has_pipelining = True
    has_tty = False
    default_user = "root"

    def _root(self) -> str:
        return self.get_option("remote_addr")

    def _connect(self):
        root = self._root()
        if os.geteuid() != 0:
            raise AnsibleConnectionFailure("the chroot connection needs root on the controller")
        if not os.path.isdir(root) or not os.path.lexists(os.path.join(root, "bin/sh")):
            raise AnsibleConnectionFailure(f"{root} is not a root file system with /bin/sh")
        if not self._connected:
            display.vvv("CHROOT", host=root)
            self._connected = True
        return self

    def _popen(self, cmd: str, stdin=subprocess.PIPE) -> subprocess.Popen:
        argv = ["chroot", self._root(), self.get_option("executable"), "-c", cmd]
        display.vvv(f"EXEC {argv}", host=self._root())
        return subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def exec_command(self, cmd, in_data=None, sudoable=False):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        proc = self._popen(cmd)
        stdout, stderr = proc.communicate(in_data)
        return proc.returncode, stdout, stderr

    @staticmethod
    def _inside(path: str) -> str:
        """Remote paths are absolute inside the root; a relative one is taken from /."""
        return shlex.quote(os.path.normpath(os.path.join("/", path)))

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        display.vvv(f"PUT {in_path} TO {out_path}", host=self._root())
        try:
            with open(in_path, "rb") as source:
                proc = self._popen(f"cat > {self._inside(out_path)}", stdin=source)
                _, stderr = proc.communicate()
        except OSError as exc:
            raise AnsibleError(f"cannot read {in_path}: {exc}") from exc
        if proc.returncode != 0:
            raise AnsibleError(f"failed to put {in_path} to {out_path}: {stderr.decode(errors='replace')}")

    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        display.vvv(f"FETCH {in_path} TO {out_path}", host=self._root())
        with open(out_path, "wb") as target:
            proc = self._popen(f"cat {self._inside(in_path)}", stdin=subprocess.DEVNULL)
            for chunk in iter(lambda: proc.stdout.read(65536), b""):
                target.write(chunk)
            _, stderr = proc.communicate()
        if proc.returncode != 0:
            raise AnsibleError(f"failed to fetch {in_path}: {stderr.decode(errors='replace')}")

    def close(self):
        super().close()
        self._connected = False
