"""积分捐赠 in a wallet's year, as `DonationService.donate` writes it: at a visit to the catalog a
resident sometimes first gives a part of what they hold to their own community's 爱心积分池,
within the monthly donation limit in force (`donation_rules.room_this_month`). The gift is a
carry keeping the lots' expiry: here its out-halves (wallet → the wallet bucket's transit, one
transfer per lot taken earliest expiry first) and the `community_donation` row; the in-halves
belong to the pool's bucket and are written after the workers (`pools.py`)."""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from bench.city.books import Books, Head, Lot, Move, Slice
from civicpoints.community.donation_rules import room_this_month
from civicpoints.kit.clock import month_key
from civicpoints.ledger import chain, pool_of

if TYPE_CHECKING:
    from bench.city.wallet import Who

P_GIVE = 0.05  # at a visit, the chance to give to the pool first …
GIVE_SHARE = (0.1, 0.4)  # … this share of the points held, rounded down to tens, at least 10
GIVE_FROM = 20  # points held at the least to give
P_BOARD = 0.4  # a donor's choice to show on the 爱心榜 (masked name and total), at the first gift
DONATE_REASON = "积分捐赠 / donation to the community pool"


def pool_account(community_id: uuid.UUID, buckets: int) -> tuple[int, uuid.UUID]:
    """(bucket, account id) of a community's pool, as `LedgerService.locate` finds it."""
    account = chain.account_id_for(pool_of(community_id))
    return chain.bucket_of(account, buckets), account


class Giving:
    """The gifts of one worker's wallets; the slices for the pools' buckets."""

    def __init__(
        self, books: Books, limit: int, window: tuple[datetime, datetime], buckets: int
    ) -> None:
        self.books, self.limit, self.window, self.buckets = books, limit, window, buckets
        self.slices: list[Slice] = []  # in-halves still to write, for every pool
        self.given: dict[str, int] = {}  # the wallet's gifts by Beijing month (the limit's)
        self.donated = self.donations = 0  # in the window

    def start(self) -> None:
        """A new wallet: nothing given yet."""
        self.given = {}

    def maybe(self, who: Who, w: Head, lots: list[Lot], at: datetime, rng: random.Random) -> None:
        """At a visit: a gift of a share of the points held, with chance P_GIVE."""
        if rng.random() >= P_GIVE:
            return
        held = sum(x.remaining for x in lots)
        month = month_key(at)
        room = room_this_month(self.given.get(month, 0), self.limit)
        share = max(10, int(held * rng.uniform(*GIVE_SHARE)) // 10 * 10)
        amount = min(room, share if held >= GIVE_FROM else 0)
        if amount >= 10:
            self.give(who, w, lots, at, amount, rng.random() < P_BOARD and not self.given)
            self.given[month] = self.given.get(month, 0) + amount

    def give(
        self, who: Who, w: Head, lots: list[Lot], at: datetime, amount: int, shown: bool
    ) -> None:
        """The donation: the carry's out-halves and the `community_donation` row."""
        b, community = self.books, who.community
        gift, ref = b.new_id(), f"donation:{community}"
        key = f"city-gift:{gift}"
        ledger_key = f"donate:{who.id}:{key}"
        move = Move("donate", amount, ref, DONATE_REASON, f"resident:{who.id}", at)
        target = pool_account(community, self.buckets)
        slices, receipt = b.carry_out(who.bucket, (who.wallet, w), lots, move, ledger_key, target)
        self.slices += slices
        digest = hashlib.sha256(f"donate|{community}|{amount}".encode()).hexdigest()
        b.out["community_donation"].append((
            gift, who.id, community, amount, month_key(at), key, digest, ledger_key, receipt, at,
        ))  # fmt: skip
        if shown:  # DonationService.set_board on the first gift
            b.out["community_board_optin"].append((who.id, True, at))
        if self.window[0] <= at < self.window[1]:
            self.donated += amount
            self.donations += 1
