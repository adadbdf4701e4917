"""The demo company and the allocation benchmark.

``catalog`` holds the fixed names and shapes of Northwind Data & Internet Services;
``spec`` and ``revenue`` generate a company from a seed as plain data (no ORM, so the same seed
always gives the same company); ``loader`` writes that company through the apps' services;
``bench`` builds a large org in a rolled-back transaction and times quota allocation.
Nothing here has models: the demo is ordinary data in the ordinary tables.
"""
