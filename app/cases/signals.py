"""Signals other modules subscribe to (the referrals module cancels open referrals).

`sharing_stopped.send(case, actor=..., categories=[...] or None (all), reason=...)` is sent
synchronously inside the transaction that withdrew consent, restricted processing or erased the
case, so a receiver's changes commit or roll back with it.
"""

from __future__ import annotations

import blinker

_signals = blinker.Namespace()

sharing_stopped = _signals.signal("sharing-stopped")
