"""Seeds of a stress run: one master seed, printed, from which every batch's seed derives, so a whole run
and any single batch can be replayed."""
from __future__ import annotations

import os
import random


def master_seed(given: int | None) -> int:
    return given if given is not None else int.from_bytes(os.urandom(4), "big")


def batch_seed(master: int, worker: int, batch: int) -> int:
    return random.Random(f"{master}/{worker}/{batch}").getrandbits(32)
