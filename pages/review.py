"""Review: labelling queues and their progress, rubrics, agreement between annotators, adjudication and golden datasets.

For analysts and admins. The labelling services check the role too, so this page is no way around them.
"""

from __future__ import annotations

from app import ui
from app.views import review

user = ui.require_page("review")
c = ui.services(user)
review.render(
    user, label_queues=c.label_queues, review=c.review, playground=c.playground, rag=c.rag,
    catalog=c.catalog, users=c.users,
)  # fmt: skip
