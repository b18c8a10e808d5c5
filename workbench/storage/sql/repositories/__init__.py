"""SQLAlchemy repositories, one module per aggregate: the only code that builds queries for the relational records.

Each implements its protocol in `workbench.storage.ports`; `SqlUnitOfWork` builds them on one session.
"""
