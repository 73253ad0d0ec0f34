"""The machine a bench ran on, printed first by every bench: its figures are ratios, but which BLAS
kernel ran (``OPENBLAS_CORETYPE`` may force one) changes what those ratios compare."""
from __future__ import annotations

import os
import platform

import numpy  # noqa: F401  (loads the BLAS that threadpoolctl reports)
from threadpoolctl import threadpool_info


def describe() -> str:
    found = [f"{i['internal_api']} {i['version']} ({i.get('architecture', '?')} kernel)"
             for i in threadpool_info() if i["user_api"] == "blas"]
    return (f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}; BLAS: "
            f"{', '.join(found) or 'none loaded yet'}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(not set)')}")
