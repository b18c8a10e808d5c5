"""Run log: every model, retrieval, embedding and eval call, with filters, charts and paging; and traces (the chat's
and other applications') as span trees, by session, to add to an annotation queue or an eval dataset."""

from __future__ import annotations

from app import ui
from app.views import run_log

user = ui.require_page("run_log")
c = ui.services(user)
run_log.render(
    user, store=c.runlog_store, writer=c.runlog_writer, users=c.users, traces=c.trace_reader, queues=c.label_queues,
    datasets=c.eval_datasets,
)  # fmt: skip
