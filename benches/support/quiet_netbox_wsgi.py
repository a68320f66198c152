"""NetBox's own WSGI application with its events pipeline switched off.

Served beside the test NetBox (same code, database and tokens) only to seed the benches' large
fabric: objects created through it record their changes as usual, but no event rule runs, so
seeding queues no webhook delivery for anyone sharing that NetBox's single webhook worker.
NetBox always puts ``extras.events.process_event_queue`` into its EVENTS_PIPELINE and looks it
up by name when a request ends, so replacing that name is enough.

NetBox also queues a "Search cache update" job on the same worker for every write transaction
it serves; seeding one object per request would queue thousands of them ahead of everyone's
webhooks. Here the search index is written inline instead, as NetBox itself does when no worker
is running.
"""

from netbox.wsgi import application  # noqa: F401  (sets Django up first)

import extras.events
import netbox.search.deferred


def _no_event_rules(events):
    """Drops the request's events instead of matching them against event rules."""


extras.events.process_event_queue = _no_event_rules


def _no_worker(*_args, **_kwargs):
    """Makes NetBox index searches inline rather than queue a job for its worker."""
    return False


netbox.search.deferred.any_workers_for_queue = _no_worker
