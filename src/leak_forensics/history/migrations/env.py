"""Alembic's entry point for this package's migrations: always run on the connection the
store hands over (``config.attributes["connection"]``), never from an alembic.ini."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
