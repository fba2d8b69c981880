"""``--profile``: py-spy attached to the server process that runs the app, for the measured phase."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any


def start_py_spy(pid: int, raw: Path, native: bool) -> subprocess.Popen[bytes]:
    """py-spy sampling ``pid`` (the server's process that runs the app: granian's worker) for the
    measured phase; collapsed stacks go to ``raw``. Without --native the server is never paused
    (--nonblocking), and py-spy's own CPU is its own, not the server's."""
    exe = Path(sys.executable).with_name("py-spy")
    cmd = [str(exe if exe.exists() else "py-spy"), "record", "--pid", str(pid), "--rate", "250"]
    cmd += ["--format", "raw", "--output", str(raw), "--function"]
    # --native needs the process paused for each sample (py-spy refuses --nonblocking with it)
    cmd.append("--native" if native else "--nonblocking")
    raw.parent.mkdir(parents=True, exist_ok=True)
    log = raw.with_suffix(".log").open("wb")
    spy = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    time.sleep(1.0)  # attached before the phase starts
    return spy


def stop_py_spy(spy: subprocess.Popen[bytes], raw: Path) -> dict[str, Any]:
    """SIGINT (py-spy then writes its file), then the profile's summary: the functions with the most
    samples, self (the frame on top) and inclusive (anywhere on the stack), as % of all samples."""
    spy.send_signal(signal.SIGINT)
    try:
        spy.wait(30)
    except subprocess.TimeoutExpired:
        spy.kill()
        spy.wait(5)
    self_: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    with contextlib.suppress(OSError):
        for line in raw.read_text(errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
            if not frames:
                continue
            total += count
            self_[frames[-1]] += count
            for frame in set(frames):
                incl[frame] += count
    top_self = [(f, c / total * 100) for f, c in self_.most_common(40)] if total else []
    top_incl = [(f, c / total * 100) for f, c in incl.most_common(60)] if total else []
    text = [f"{total} samples", "", "self %:"]
    text += [f"{pct:6.2f}  {frame}" for frame, pct in top_self]
    text += ["", "inclusive %:"]
    text += [f"{pct:6.2f}  {frame}" for frame, pct in top_incl]
    raw.with_suffix(".txt").write_text("\n".join(text) + "\n")
    return {"samples": total, "self": top_self, "inclusive": top_incl}
