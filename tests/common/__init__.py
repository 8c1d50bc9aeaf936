"""Helpers shared by the whole suite, imported as ``tests.common`` (never loaded by path).

Modules:

- ``databases``: the run's own database (created per run and per xdist worker, dropped
  after), the migrations, and emptying the tables a test wrote to.
- ``hostapp``: a host app including the core under its own prefix, with its own item.
- ``payment_kit``: ``FakeGateway`` (an in-memory ``IPaymentGateway``), builders of
  orders, Razorpay entities and signed webhook bodies, and readers for assertions.
- ``servers``: serving an app over real HTTP, in a thread or in a process of its own.
- ``serve_app``: the process that ``servers`` starts (``python -m tests.common.serve_app``).
- ``waiting``: ``wait_for(predicate, timeout)``.
- ``inbox``: ``drain(app)`` processes the webhook inbox now; ``outcome(session, id)``.
- ``services``: the machine's services a test needs (Redis): reachable, or a skip that
  CI turns into a failure.

Fixtures of the root ``tests/conftest.py`` (every test can ask for them):

- ``database_url`` (session): this run's database, migrated to head. SQLite file by
  default; with ``--database-url``/``$TEST_DATABASE_URL`` a new PostgreSQL or MariaDB
  database on that server, dropped at the end of the run.
- ``sandbox_url`` (session): the sandbox emulator's database (a sibling SQLite file, or
  the same PostgreSQL or MariaDB database).
- ``engine`` (session): an engine on ``database_url``.
- ``settings``: the app's settings (sandbox mode, ``banter_coins``); override it in a
  conftest or class to change the app for those tests.
- ``app``, ``testapp`` (WebTest), ``registry``: the app built from ``settings``.
- ``auth("alice", "admin")``: headers carrying a valid bearer token.
- ``session_factory``, ``dbsession``: a plain session on the test database for
  arranging and asserting (commit it yourself; it is rolled back and closed after).
- ``flush_webhooks()``: deliver the sandbox's queued webhooks through the app now, and
  process them from the app's inbox.
- ``drain_inbox()``: process every webhook event the app has queued, now.
- ``kit`` (this package's ``payment_kit``), ``gateway`` (a ``FakeGateway``).
- ``touch_order(order_id)``: write an order from another connection, failing fast on a
  lock.
- ``serve(app)`` → base URL: the app over HTTP in a thread; ``serve_process(settings)``
  → (process, base URL): the app in its own process. Both stopped after the test.

After every test that used the database, the tables it wrote to are emptied (in both
the app's and the sandbox's database) and PostgreSQL's sequences (MariaDB's
AUTO_INCREMENT counters) restart. Tests marked ``server_database`` (real concurrent
transactions: threads, processes) run on PostgreSQL and MariaDB, not on SQLite.
"""
