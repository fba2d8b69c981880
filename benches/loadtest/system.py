"""Process settings shared by the servers and the client workers: descriptors, priority, layout."""

from __future__ import annotations

import contextlib
import os
import resource
from pathlib import Path


def raise_nofile() -> int:
    """Raise RLIMIT_NOFILE's soft limit to the hard one; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def prioritise(nice: int) -> None:
    """Renice this process by ``nice`` and, where the kernel groups CPU time by session (autogroup,
    /proc/sys/kernel/sched_autogroup_enabled), this session's group too: a nice value alone only
    counts against processes of the same session. Call it in a process that leads its session."""
    with contextlib.suppress(OSError):
        os.nice(nice)
    with contextlib.suppress(OSError):
        Path("/proc/self/autogroup").write_text(str(nice))


def no_address_randomisation() -> None:
    """personality(ADDR_NO_RANDOMIZE), as ``setarch -R`` does: the program exec'd next gets the same
    memory layout every time, one source of run-to-run variation less. Best effort."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        current = libc.personality(0xFFFFFFFF)
        if current != -1:
            libc.personality(current | 0x0040000)
