"""SMS intake: the channel-agnostic dialogue, its texts and keywords, segment counting.

`dialogue.step` is pure: the Twilio webhook (or the simulator, or WhatsApp) turns an
inbound message into an `Inbound`, calls `step`, stores the new `Conversation` and carries
out the returned actions (file a case, add a message, queue replies in the outbox).
"""
