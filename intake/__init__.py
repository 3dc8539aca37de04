"""The channels that turn a person's words into a filed case (web form, SMS, voice).

Channels are thin: they call `grievance.services`, and hold no business rule.
"""
