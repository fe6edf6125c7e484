#!/usr/bin/env python3
"""Run a command on a new pseudo-terminal and type at it like a person.

usage: terminal.py STEPS SCREEN -- CMD [ARG]...

The command runs in a new session whose controlling terminal is a new
pseudo-terminal (100 columns, 24 rows): stdin, stdout, stderr and /dev/tty
are all that terminal.

STEPS is a JSON list of {"wait": TEXT, "pause": SECONDS, "send": TEXT}: wait
until TEXT appears on the terminal (after where the previous step's TEXT
appeared), record what the terminal shows for PAUSE more seconds, then type
SEND (or, for a step with "signal": N instead of "send", send signal N to
the command, as `kill -N PID` does). Every byte the terminal showed is written to the file SCREEN.

Prints one JSON object:
  status     the exit status as a shell reports it (128 + N when killed by
             signal N)
  sent_at    for each step, the length of SCREEN when SEND was typed
  stty       `stty -a` of the terminal after the command ended
  timed_out  the TEXT that never appeared (the command is then killed), or
             null
"""

import fcntl
import json
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time

WAIT_LIMIT = 30.0


def main():
    steps = json.loads(sys.argv[1])
    screen_path = sys.argv[2]
    assert sys.argv[3] == "--"
    command = sys.argv[4:]

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))

    def take_terminal():
        # After setsid (start_new_session): make the terminal ours.
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        command,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=take_terminal,
    )
    screen = bytearray()

    def pump(seconds):
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            ready, _, _ = select.select([master], [], [], left)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    return
                screen.extend(chunk)

    sent_at = []
    timed_out = None
    search_from = 0
    for step in steps:
        wanted = step["wait"].encode()
        deadline = time.monotonic() + WAIT_LIMIT
        while screen.find(wanted, search_from) < 0 and time.monotonic() < deadline:
            if proc.poll() is not None:
                pump(0.2)
                break
            pump(0.05)
        found = screen.find(wanted, search_from)
        if found < 0:
            timed_out = step["wait"]
            break
        search_from = found + len(wanted)
        pump(step.get("pause", 0))
        sent_at.append(len(screen))
        if "signal" in step:
            os.kill(proc.pid, step["signal"])
        else:
            os.write(master, step["send"].encode())

    if timed_out is not None:
        os.killpg(proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + WAIT_LIMIT
    while proc.poll() is None and time.monotonic() < deadline:
        pump(0.05)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        timed_out = timed_out or "the end of the command"
    status = proc.wait()
    pump(0.1)
    stty = subprocess.run(["stty", "-a"], stdin=slave, capture_output=True, text=True).stdout

    with open(screen_path, "wb") as f:
        f.write(bytes(screen))
    json.dump(
        {
            "status": status if status >= 0 else 128 - status,
            "sent_at": sent_at,
            "stty": stty,
            "timed_out": timed_out,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
