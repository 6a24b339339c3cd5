"""References a partner sees instead of the case code.

A case code names the woman across every referral, every partner and the whole audit trail:
a supervisor and a partner comparing notes could link an audit row to a person. So a partner
gets, per referral, a random reference (`Referral.partner_reference`, "CG-7QK3-M2XD") that
says nothing about the case, its unit or its year, and cannot be derived from another one.

Two referrals of the same woman to the same partner organization are linkable on the partner's
side only through `PartnerClientReference` ("KH-…"), one per (case, organization): it is shared
only when the caseworker ticks it for that referral *and* her consent to be recognised by the
services she is referred to (`share_identity`) is in force. Another organization gets another
reference, so partners comparing notes cannot link her either.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa

# Crockford's base32: no I, L, O or U, so a reference read out on the phone is not misheard.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERRAL_PREFIX = "CG"  # chuyển gửi
CLIENT_PREFIX = "KH"  # khách hàng (the person as one organization knows her)


def random_reference(prefix: str) -> str:
    """The prefix and two groups of four (CG-7QK3-M2XD): 40 random bits from the OS's CSPRNG."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{prefix}-{body[:4]}-{body[4:]}"


def unused_reference(connection, column: sa.Column, prefix: str) -> str:
    """A random reference not yet in `column` (the unique constraint still guards races)."""
    for _ in range(20):
        reference = random_reference(prefix)
        taken = connection.execute(sa.select(column).where(column == reference).limit(1)).first()
        if taken is None:
            return reference
    raise RuntimeError(f"no unused {prefix} reference after 20 draws")
