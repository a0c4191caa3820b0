"""Rewards: catalog, redemption, vouchers, merchants, entitlements, budget and settlement."""
