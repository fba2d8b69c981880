"""Client worker processes and their pipe, both ends: the orchestrator spawns them (``spawn``),
sends commands (``send_all``) and reads their ``(kind, body)`` answers (``collect``); a worker
(``worker_main``) pins itself to the client CPUs, raises its limits and priority, and reads its
commands from an asyncio queue (``command_queue``). Shared by the load test and the gateway
benchmark; what a worker does between commands is each benchmark's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import resource
import time
from collections.abc import Callable, Coroutine
from typing import Any

from .system import prioritise, raise_nofile

WorkerBody = Callable[[Any, dict[str, Any], "asyncio.Queue[Any]"], Coroutine[Any, Any, None]]


# --- the orchestrator's end


def spawn(
    target: Callable[[Any, dict[str, Any]], None], cfgs: list[dict[str, Any]]
) -> tuple[list[Any], list[Any]]:
    """One spawned process per configuration, running ``target(pipe, cfg)``: (processes, pipes)."""
    ctx = multiprocessing.get_context("spawn")
    procs, pipes = [], []
    for cfg in cfgs:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=target, args=(child, cfg), daemon=True)
        proc.start()
        child.close()
        procs.append(proc)
        pipes.append(parent)
    return procs, pipes


def send_all(pipes: list[Any], command: Any) -> None:
    for pipe in pipes:
        pipe.send(command)


def collect(pipes: list[Any], expected: str, timeout: float) -> list[dict[str, Any]]:
    """Every worker's answer of kind ``expected``; raises on another kind or after ``timeout``."""
    answers = []
    deadline = time.monotonic() + timeout
    for pipe in pipes:
        if not pipe.poll(max(0.0, deadline - time.monotonic())):
            raise RuntimeError(f"client worker: no {expected!r} within {timeout:.0f} s")
        kind, body = pipe.recv()
        if kind != expected:
            raise RuntimeError(f"client worker: {kind}: {body}")
        answers.append(body)
    return answers


def end(pipes: list[Any], procs: list[Any]) -> None:
    """Tell every worker to close (if it still listens), then wait for it; kill what is left."""
    for pipe in pipes:
        with contextlib.suppress(OSError):
            pipe.send("close")
    for proc in procs:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join(5)


# --- the worker's end


def cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def command_queue(pipe: Any) -> asyncio.Queue[Any]:
    """The orchestrator's commands as they arrive; "abort" when the pipe breaks."""
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue[Any] = asyncio.Queue()

    def on_command() -> None:
        try:
            commands.put_nowait(pipe.recv())
        except (EOFError, OSError):
            commands.put_nowait("abort")
            loop.remove_reader(pipe.fileno())

    loop.add_reader(pipe.fileno(), on_command)
    return commands


def worker_main(pipe: Any, cfg: dict[str, Any], body: WorkerBody) -> None:
    """A worker process: limits, CPUs (``cfg["cpus"]``), priority (``cfg["nice"]``), then
    ``body(pipe, cfg, commands)`` on a new event loop; a failure is reported, never a hang."""
    raise_nofile()
    if cfg.get("cpus"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, cfg["cpus"])
    if cfg.get("nice"):
        with contextlib.suppress(OSError):
            os.setsid()  # a session, so an autogroup, of its own (the orchestrator kills it by pid)
        prioritise(cfg["nice"])

    async def run() -> None:
        await body(pipe, cfg, command_queue(pipe))

    try:
        asyncio.run(run())
    except BaseException as exc:  # report, never hang the orchestrator
        with contextlib.suppress(Exception):
            pipe.send(("failed", f"{type(exc).__name__}: {exc}"))
        raise
