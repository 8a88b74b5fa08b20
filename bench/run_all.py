"""Run every benchmark in order (PostgreSQL ones need a server on 127.0.0.1:5432 and wrk)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
ORDER = ["bench_deadlines.py", "bench_registration.py", "bench_seed.py", "bench_report.py", "bench_home.py"]

if __name__ == "__main__":
    for name in ORDER:
        print(f"== {name}", flush=True)
        subprocess.run([sys.executable, str(HERE / name)], check=True)
