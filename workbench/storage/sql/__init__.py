"""SQL storage (SQLAlchemy 2.0): tables, engine, repositories, unit of work, migrations."""
