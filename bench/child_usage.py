"""Runs one child process and measures it alone: wall time and its own peak RSS
(os.wait4), not the maximum over every child the script started."""
import os
import subprocess
import sys
import tempfile
import time


def run_measured(cmd, cwd=None, merge_stderr=False):
    """(wall seconds, peak RSS bytes, stdout text); exits with stderr on failure.
    merge_stderr: the text returned is stdout and stderr together (reports such as
    --mlir-timing go to stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=out if merge_stderr else err,
                                cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if proc.returncode != 0:
            log = out if merge_stderr else err
            log.seek(0)
            sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n"
                     f"{log.read().decode(errors='replace')[-4000:]}")
        out.seek(0)
        return wall, usage.ru_maxrss * 1024, out.read().decode(errors="replace")  # KiB on Linux
