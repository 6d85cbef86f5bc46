"""A process of a device, as the e2e tests run several at once on one home:

    python -m tests.e2e.sync_worker HOME ROUNDS [CARD OFFER]

Each round syncs as the app's background syncer does (``sync.client.sync_once`` over HTTP);
with CARD and OFFER it first redeems, which pushes at once as the tablet does after a
receipt. Prints one JSON line: the rounds done and every refusal's code.
"""

from __future__ import annotations

import json
import sys

from bank import clock
from terminal import redeem as engine
from sync import client, home


def main(argv: list[str]) -> int:
    h = home.open_home(argv[0])
    rounds = int(argv[1])
    card, offer = (argv[2], int(argv[3])) if len(argv) > 3 else (None, None)
    refused, redeemed = [], 0
    for _ in range(rounds):
        try:
            if card is not None:
                engine.redeem(h, card, offer, now=clock.now_utc(), online_timeout=30)
                redeemed += 1
            client.sync_once(h, timeout=30)
        except client.Refused as exc:
            refused.append(exc.code)
    print(json.dumps({"rounds": rounds, "redeemed": redeemed, "refused": refused}))
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
