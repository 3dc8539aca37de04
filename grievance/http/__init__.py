"""What the channels share, below them and above the services (DESIGN §2): the service
context, the surfaces' security settings, error pages, locale negotiation, labels, form
base classes and the complaint form (the web form and staff recording both use it),
upload limits. It imports no channel; every channel may import it."""

# The company side's event renderers (#13) join the registry of `events` wherever it is
# used.
from grievance.http import company_events as company_events
