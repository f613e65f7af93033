"""Console pages for the programme: conversations flagged for a person, and unmet demand.

Modules, one job each:

- :mod:`web.insights.clusters`: grouping needs by meaning (average-linkage clustering of their embeddings).
- :mod:`web.insights.chart`: counts per week and the geometry of the SVG chart and sparklines.
- :mod:`web.insights.report`: the unmet-demand report (needs of a period, grouped, counted per week).
- :mod:`web.insights.views`: the pages ``/console/flagged``, ``/console/flagged/{id}`` and ``/console/demand``.
- :mod:`web.insights.goal_chart`: the geometry of the chart of companies reached against the target.
- :mod:`web.insights.outcome_views`: companies reached (``/console/outcomes`` and the report's download) and
  the companies (``/console/companies``, one company and its merge); the home page's panel.

The data they show comes from the data layer: :mod:`support_requests.demand` (the log of unmet needs),
:mod:`support_requests.recorder` (how the assistant's actions note a need) and
:mod:`support_requests.conversations` (Rasa's tracker store). What is recorded, retention, grouping and the chart: ``docs/insights.md``.
"""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Add the flagged-conversation and unmet-demand pages to ``app`` (after the console's setup, whose session
    middleware and account store they use).

    Args:
        app: the service application, with its settings under ``SETTINGS_KEY``.
    """
    from web.insights import outcome_views, views  # the pages need the console; the data modules above do not

    views.add_routes(app)
    outcome_views.add_routes(app)
