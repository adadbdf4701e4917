"""The demo company and the allocation benchmark.

Plain data, no ORM, so the same seed and reference day (``as_of``) always give the same company:

- ``catalog``: the fixed names and shapes of Northwind Data & Internet Services;
- ``timeline``: where the demo sits in time (plan, history and results anchored to ``as_of``);
- ``spec``: people, territories and customers; ``crediting``: who is credited on a given day;
- ``buying`` and ``sales``: how customers buy, simulated into contracts and result lines;
- ``revenue``: the plan's buckets and targets, from the booked history;
- ``calibration``: each team's performance in the plan's months, so plan and actual part ways;
- ``generator``: all of it from a seed, as one ``DemoSpec``.

Into the database: ``loader`` writes the company in one transaction, results through the
results app's ingestor in weekly batches (``results``), plans, quotas and commits through the
planning and quotas services (``plans``), contracts in bulk (``contracts``); ``summary`` reports
on it. ``bench`` builds a large org in a rolled-back transaction and times quota allocation.
Nothing here has models: the demo is ordinary data in the ordinary tables.
"""
