"""Regenerates the plots of the scenario library's docs pages (docs/scenarios/img/NAME.png): each
scenario's short form (the scenario itself when it has no [short] table), and the one plot its page
shows."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from escache.cli import main

ROOT = Path(__file__).resolve().parent.parent
PLOTS = {
    "fleet_auth_cache_thrash": "hit_ratio_api_key_auth.png",
    "pbkdf2_pool_saturation": "crypto.png",
    "ssha256_false_thrashing_warn": "hit_ratio_api_key_auth.png",
    "expired_keys_index_load": "hit_ratio_api_key_doc.png",
    "node_failure_stale_cache": "stale.png",
    "clear_all_caches_hash_storm": "crypto.png",
    "security_index_red_recovery": "hit_ratio_api_key_doc.png",
    "service_tokens_partial_update": "stale.png",
    "stale_window_missed_broadcast": "stale.png",
    "clear_all_caches_429_storm_clients": "crypto.png",
    "replay_revoke_from_audit_log": "stale.png",
    "partition_clear_latency": "stale.png",
}

if __name__ == "__main__":
    out = ROOT / "docs" / "scenarios" / "img"
    for name, plot in PLOTS.items():
        with tempfile.TemporaryDirectory() as tmp:
            if main(["run", name, "--short", "--no-progress", "--plot", tmp]) != 0:
                sys.exit(1)
            shutil.copy(Path(tmp) / plot, out / f"{name}.png")
