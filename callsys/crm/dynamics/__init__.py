"""The Dynamics 365 (Dataverse Web API) connector, one module a concern, imported by full name:

- ``client`` — ``DynamicsCrm``: lookups, records, activities' writes, throttling, errors;
- ``odata`` and ``batch`` — OData filters and values; ``$batch`` requests and answers;
- ``phoneindex`` — the local phone index (B3) and its delta sync;
- ``setup`` — the connector composed from the settings (tables, sign-in, token cache, index);
- ``convert`` and ``required`` — a call turned into a record (CARD3) and the columns the
  organisation requires;
- ``reports`` — the call report as FetchXML aggregates.

Arrows run one way: ``setup`` → ``phoneindex`` → ``client`` → ``odata``/``batch``.
"""
