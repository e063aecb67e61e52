"""Enrichment: context added to normalized events (docs/enrichment.md).

- ``identity``: ``who.person`` from a directory of people and service identities;
- ``resources``: ``where.account_context`` and resource tags from an inventory;
- ``network``: ``where.source`` geo/ASN, cloud ranges, internal networks, threat indicators;
- ``catalog``: ``what.category``/``activity``/``risk_tags`` from the action catalog;
- ``chain``: the enrichers composed in order; ``config``: where the reference files are;
- ``context``: load and check the reference data once, build the chain (``load_context``);
- ``beam``: the reference data as a side input; ``explain`` and ``cli``: ``cloudaudit enrich``.
"""
