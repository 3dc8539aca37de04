"""Rate limits that several channels share.

A receipt code can be tried at three places: the follow-up sign-in (`/follow-up`), the
API's `/api/v1/followup` and `/api/v1/followup/messages`. They spend one budget per
client, so that moving between them buys no extra guesses, and all clients together
have a cap per minute, so that guesses spread over many addresses stay few.
"""

from __future__ import annotations

from grievance.extensions import everyone, intake_limiter

#: Per client (an address, or an IPv6 /64): every code sent, right or wrong, counts.
RECEIPT_CODE_PER_CLIENT = "10 per 15 minutes; 40 per day"
#: Every client together: about one Argon2id hash a second on each of two cores.
RECEIPT_CODE_EVERYONE = "120 per minute"

receipt_code_per_client = intake_limiter.shared_limit(
    RECEIPT_CODE_PER_CLIENT, scope="receipt-code", methods=["POST"]
)
receipt_code_everyone = intake_limiter.shared_limit(
    RECEIPT_CODE_EVERYONE, scope="receipt-code-everyone", key_func=everyone, methods=["POST"]
)
