"""GenAI Workbench: the Streamlit entry point. Signs people in and shows the pages their role allows."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:  # `streamlit run app/streamlit_app.py` from any folder
    sys.path.insert(0, str(PROJECT_ROOT))

from app import ui  # noqa: E402
from workbench.domain.access import can_open  # noqa: E402

PAGES = PROJECT_ROOT / "pages"

st.set_page_config(page_title="GenAI Workbench", page_icon=":material/science:", layout="wide")

user = ui.current_user()
if user is None:
    navigation = st.navigation([st.Page(PAGES / "login.py", title="Sign in", icon=":material/login:")])
else:
    catalogue = {
        "Build": [
            ("chat", st.Page(PAGES / "chat.py", title="Chat", icon=":material/forum:")),
            ("playground", st.Page(PAGES / "playground.py", title="Playground", icon=":material/experiment:")),
            ("prompts", st.Page(PAGES / "prompts.py", title="Prompts", icon=":material/description:")),
            ("documents", st.Page(PAGES / "documents.py", title="Documents", icon=":material/folder_open:")),
        ],
        "Observe": [
            ("run_log", st.Page(PAGES / "run_log.py", title="Run log", icon=":material/monitoring:")),
        ],
        "Label": [
            ("labelling", st.Page(PAGES / "labelling.py", title="Labelling", icon=":material/label:")),
            ("review", st.Page(PAGES / "review.py", title="Review", icon=":material/rule:")),
        ],
        "Evaluate": [
            ("evaluation", st.Page(PAGES / "evaluation.py", title="Evaluation", icon=":material/analytics:")),
            ("eval_datasets", st.Page(PAGES / "eval_datasets.py", title="Eval datasets", icon=":material/dataset:")),
        ],
        "Settings": [
            ("admin", st.Page(PAGES / "admin.py", title="Admin", icon=":material/admin_panel_settings:")),
            ("account", st.Page(PAGES / "account.py", title="Account", icon=":material/person:")),
        ],
    }
    sections = {
        section: [page for key, page in pages if can_open(user.role, key)] for section, pages in catalogue.items()
    }
    navigation = st.navigation({name: pages for name, pages in sections.items() if pages})
    with st.sidebar:
        who = user.display_name if user.display_name == user.username else f"{user.display_name} ({user.username})"
        st.markdown(f"**{who}**  \n:gray[role: {user.role}]")
        if st.button("Sign out", icon=":material/logout:", width="stretch"):
            ui.sign_out()
            st.rerun()

navigation.run()
