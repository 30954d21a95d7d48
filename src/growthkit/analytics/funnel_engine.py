"""The Ibis expressions behind funnels: every attempt, then the best attempt per user.

Portable operations only (filters, joins with inequality conditions, ``row_number``,
window frames, ``group_by``/``agg``, ``argmin``, timestamp ``delta``, JSON properties through
:func:`~growthkit.analytics._common.json_property`) so that the same
expression runs on DuckDB and on PySpark. The semantics are documented in
:mod:`growthkit.analytics.funnel`.

Column names used throughout (``n`` steps, ``k`` in ``0..n-1``):

* per event: ``user_id, ts, seq, breakdown, min_step, m0..m{n-1}, x0..``
  (``m{k}``: matches step ``k``; ``x{i}``: matches exclusion ``i``; ``seq``: the
  event's position in the user's stream, see :func:`events_base`);
* per attempt: ``user_id, a_seq`` (the key: the anchor event), ``t0`` (attempt
  start), ``b_first`` (breakdown value of the anchor), ``t_{k}`` (when step ``k``
  was reached, NULL when not), ``b{k}`` (breakdown value of that event),
  ``reached`` (furthest step, ``0..n-1``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import ibis
import ibis.expr.types as ir

from growthkit.analytics._common import json_property, tables
from growthkit.analytics.funnel_query import FunnelQuery, FunnelStep

__all__ = ["best_attempts", "events_base", "step_stats"]

_PROPERTY_PREFIX = "properties."
_SEQ_SPAN = 1 << 40  # more than any user's number of events: orders attempts by (reached, -a_seq)


def interval(td: timedelta) -> ir.IntervalScalar:
    """A portable interval literal (whole seconds when possible)."""
    micros = (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds
    if micros % 1_000_000 == 0:
        return ibis.interval(seconds=micros // 1_000_000)
    return ibis.interval(microseconds=micros)


def matches(step: FunnelStep, t: ir.Table) -> ir.BooleanValue:
    """Whether an event matches a step (never NULL)."""
    pred = t.event_type == step.event_type
    for col, value in step.where:
        if col.startswith(_PROPERTY_PREFIX):
            got = json_property(t.properties, col.removeprefix(_PROPERTY_PREFIX))
        else:
            got = t[col].cast("string")
        pred = pred & (got == value)
    return pred.fill_null(False)


def events_base(con: object, q: FunnelQuery, *, every_event: bool, with_counts: bool = False) -> ir.Table:
    """The events an attempt can use, numbered in each user's stream.

    Keeps events in ``[range start, range end + window)``: an attempt starts in the
    range and ends at most ``window`` later. ``every_event`` keeps events of any type
    (strict order needs them); otherwise only step and exclusion events. ``seq`` orders a
    user's events by time, then, at equal timestamps, by the first step the event matches
    (events matching no step last), the last step it matches, the set of steps and
    exclusions it matches, and (with a breakdown) ``event_id``: events equal in all the
    other keys can only differ in their breakdown value.
    ``with_counts`` replaces ``seq`` and ``min_step`` by ``c{k}``: the number of step-``k``
    events up to and including this one in that order (and drops ``breakdown`` when no
    breakdown is asked for).
    """
    events, users = tables(con)
    lo = ibis.literal(q.date_range.start_ts)
    hi = ibis.literal(q.date_range.end_ts + q.window)
    t = events.filter(events.ts >= lo, events.ts < hi)
    n = len(q.steps)
    flags = {f"m{k}": matches(s, t) for k, s in enumerate(q.steps)}
    flags |= {f"x{i}": matches(ex.step, t) for i, ex in enumerate(q.exclusions)}
    t = t.mutate(**flags)
    if not every_event:
        t = t.filter(ibis.or_(*[t[c] for c in flags]))
    first = ibis.cases(*[(t[f"m{k}"], k) for k in range(n)], else_=n)
    last = ibis.cases(*[(t[f"m{k}"], k) for k in reversed(range(n))], else_=n)
    t = t.mutate(min_step=first, max_step=last)
    no_breakdown = t.mutate(breakdown=ibis.literal("", "string"))
    t = q.breakdown.attach(t, users) if q.breakdown is not None else no_breakdown
    # events equal in (ts, min_step, max_step, flags) are interchangeable unless their
    # breakdown values differ, so event_id (a string: costly to sort) only breaks ties then
    mask = sum((t[c].cast("int64") * (1 << i) for i, c in enumerate(flags)), ibis.literal(0, "int64"))
    order = [t.ts, t.min_step, t.max_step, mask]
    if q.breakdown is not None:
        order.append(t.event_id)
    if with_counts:
        # c{k}: how many step-k events up to this one. No seq: c0 numbers the anchors, and a
        # narrow row (int32 counts, breakdown only when asked for) keeps big logs in memory
        upto = ibis.window(group_by=t.user_id, order_by=order, rows=(None, 0))
        counts = {f"c{k}": t[f"m{k}"].cast("int32").sum().over(upto).cast("int32") for k in range(n)}
        t = t.mutate(**counts)
        bd = ("breakdown",) if q.breakdown is not None else ()
        return t.select("user_id", "ts", *bd, *flags, *counts)
    t = t.mutate(seq=ibis.row_number().over(group_by=t.user_id, order_by=order))
    return t.select("user_id", "ts", "seq", "breakdown", "min_step", *flags)


def _anchors(ev: ir.Table, q: FunnelQuery) -> ir.Table:
    """Attempts of (strict) ordered funnels: every step-0 event in the range, as step 0 reached."""
    a = ev.filter(ev.m0, q.date_range.contains(ev.ts))
    return a.select("user_id", a_seq=a.seq, t0=a.ts, s=a.seq, t=a.ts, b=a.breakdown)


def _pivot(reached: list[ir.Table], n: int) -> ir.Table:
    """Per attempt, from one ``(user_id, a_seq, t0, s, t, b)`` table per step reached, the wide row.

    A union and a group-by rather than a chain of left joins: Ibis flattens chained joins
    and may then read the key columns from the right side, NULL in a left join.
    """
    long = ibis.union(*[r.mutate(k=ibis.literal(k, "int64")) for k, r in enumerate(reached)])
    cols: dict[str, ir.Value] = {"reached": long.k.max()}
    for k in range(n):
        here = long.k == k
        cols |= {f"s{k}": long.s.max(where=here), f"t_{k}": long.t.max(where=here), f"b{k}": long.b.max(where=here)}
    wide = long.group_by(["user_id", "a_seq", "t0"]).agg(**cols)
    return wide.mutate(b_first=wide.b0)


def _ordered(ev: ir.Table, q: FunnelQuery) -> ir.Table:
    """Ordered funnels: step ``k`` is any later step-``k`` event with a feasible step ``k - 1`` before it.

    ``feas`` is the set of feasible step-``k`` events of an attempt: after a feasible step
    ``k - 1`` event (in stream order), inside the overall window and, when step ``k`` has
    its own window, at most that long after the latest feasible step ``k - 1`` event before
    it. The attempt reached step ``k`` when the set is not empty; the earliest one is credited.
    """
    n, win = len(q.steps), interval(q.window)
    credited = _anchors(ev, q)
    prev = credited.select("user_id", "a_seq", "t0", seq=credited.s, ts=credited.t)  # feasible step-0 events
    reached = [credited]
    for k in range(1, n):
        e = ev.filter(ev[f"m{k}"])
        c = credited
        cand = c.join(e, [c.user_id == e.user_id, e.seq > c.s, e.ts <= c.t0 + win]).select(
            user_id=c.user_id, a_seq=c.a_seq, t0=c.t0, seq=e.seq, ts=e.ts, bd=e.breakdown
        )
        step_win = q.step_window(k)
        if step_win is None:
            feas = cand
        else:
            both = ibis.union(
                prev.mutate(bd=ibis.null("string"), src=ibis.literal(1, "int8")),
                cand.mutate(src=ibis.literal(0, "int8")),
            )
            w = ibis.window(group_by=[both.user_id, both.a_seq], order_by=[both.seq, both.src], rows=(None, -1))
            latest_prev = ibis.ifelse(both.src == 1, both.ts, ibis.null("timestamp")).max().over(w)
            both = both.mutate(lp=latest_prev)
            feas = both.filter(both.src == 0, both.lp.notnull(), both.ts <= both.lp + interval(step_win))
            feas = feas.select("user_id", "a_seq", "t0", "seq", "ts", "bd")
        prev = feas.select("user_id", "a_seq", "t0", "seq", "ts")
        credited = feas.group_by(["user_id", "a_seq", "t0"]).agg(
            s=feas.seq.min(), t=feas.ts.min(), b=feas.bd.argmin(feas.seq)
        )
        reached.append(credited)
    return _pivot(reached, n)


def _ordered_greedy(ev: ir.Table, q: FunnelQuery) -> ir.Table:
    """Ordered funnels without per-step windows, in linear time.

    Without per-step windows the feasible step-``k`` events of an attempt are the
    step-``k`` events after its credited step ``k - 1`` inside the overall window, and the
    earliest is credited. That is the step-``k`` event numbered ``c{k} + 1`` in the user's
    stream, where ``c{k}`` counts the step-``k`` events up to the credited step ``k - 1``
    (a running count computed in the same window pass as ``seq``). So an attempt follows
    one equality join per step instead of joining every anchor to every later step event.
    Same answer as :func:`_ordered` (the property tests run both against one reference).
    """
    n, win = len(q.steps), interval(q.window)
    def bd(t: ir.Table) -> ir.Value:
        return t.breakdown if "breakdown" in t.columns else ibis.literal("", "string")

    a = ev.filter(ev.m0, q.date_range.contains(ev.ts))
    wide = a.select("user_id", a_seq=a.c0, t0=a.ts, t_0=a.ts, b0=bd(a), ns=a["c1"])
    for k in range(1, n):
        # the next step-k event after the credited step k - 1 is the step-k event numbered c{k} + 1
        # (plain columns in the select: Ibis must see through it to the previous join)
        e = ev.filter(ev[f"m{k}"]).view()
        j = wide.left_join(e, [wide.user_id == e.user_id, wide.ns + 1 == e[f"c{k}"], e.ts <= wide.t0 + win])
        keep = [wide[c] for c in wide.columns if c != "ns"]
        follow = e[f"c{k + 1}"] if k + 1 < n else ibis.null("int32")
        wide = j.select(*keep, **{f"t_{k}": e.ts, f"b{k}": bd(e)}, ns=follow)
    reached = ibis.cases(*[(wide[f"t_{k}"].notnull(), k) for k in reversed(range(1, n))], else_=0)
    return wide.drop("ns").mutate(reached=reached, b_first=wide.b0)


def _strict(ev: ir.Table, q: FunnelQuery) -> ir.Table:
    """Strict funnels: step ``k`` must be the very next event of the user after step ``k - 1``."""
    n, win = len(q.steps), interval(q.window)
    credited = _anchors(ev, q)
    reached = [credited]
    for k in range(1, n):
        e = ev.filter(ev[f"m{k}"])
        c = credited
        preds = [c.user_id == e.user_id, e.seq == c.s + 1, e.ts <= c.t0 + win]
        step_win = q.step_window(k)
        if step_win is not None:
            preds.append(e.ts <= c.t + interval(step_win))
        credited = c.join(e, preds).select(user_id=c.user_id, a_seq=c.a_seq, t0=c.t0, s=e.seq, t=e.ts, b=e.breakdown)
        reached.append(credited)
    return _pivot(reached, n)


def _all_or_null(values: list[ir.Value], combine: ir.Value) -> ir.Value:
    present = ibis.and_(*[v.notnull() for v in values])
    return ibis.ifelse(present, combine, ibis.null(combine.type()))


def _unordered(ev: ir.Table, q: FunnelQuery) -> ir.Table:
    """Unordered funnels: step ``k`` is reached when steps ``0..k`` all happen in the window.

    An attempt starts at any step event in the range (``t0``) and only counts when that
    event is one of the steps it reached (``min_step <= reached``).
    """
    n, win = len(q.steps), interval(q.window)
    is_step = ibis.or_(*[ev[f"m{k}"] for k in range(n)])
    a = ev.filter(is_step, q.date_range.contains(ev.ts))
    a = a.select("user_id", a_seq=a.seq, t0=a.ts, a_min=a.min_step, b_first=a.breakdown)
    e = ev.filter(is_step)
    j = a.join(e, [a.user_id == e.user_id, e.ts >= a.t0, e.ts <= a.t0 + win])
    j = j.select(
        a.user_id, a.a_seq, a.t0, a.a_min, a.b_first, e.seq, e.ts, e.breakdown, *[e[f"m{k}"] for k in range(n)]
    )
    aggs: dict[str, ir.Value] = {}
    for k in range(n):
        m = j[f"m{k}"]
        aggs |= {f"f{k}": j.ts.min(where=m), f"fs{k}": j.seq.min(where=m), f"fb{k}": j.breakdown.argmin(j.seq, where=m)}
    g = j.group_by(["user_id", "a_seq", "t0", "a_min", "b_first"]).agg(**aggs)
    cols: dict[str, ir.Value] = {}
    for k in range(n):
        fs = [g[f"fs{i}"] for i in range(k + 1)]
        ft = [g[f"f{i}"] for i in range(k + 1)]
        s_k = _all_or_null(fs, ibis.greatest(*fs) if k else fs[0])
        cols[f"s{k}"] = s_k
        cols[f"t_{k}"] = _all_or_null(ft, ibis.greatest(*ft) if k else ft[0])
        cols[f"b{k}"] = ibis.cases(*[(g[f"fs{i}"] == s_k, g[f"fb{i}"]) for i in range(k + 1)])
    g = g.mutate(**cols)
    reached = ibis.cases(*[(g[f"t_{k}"].notnull(), k) for k in reversed(range(n))], else_=-1)
    g = g.mutate(reached=reached)
    return g.filter(g.reached >= g.a_min)


_ENGINES: dict[str, Callable[[ir.Table, FunnelQuery], ir.Table]] = {
    "ordered": _ordered,
    "strict": _strict,
    "unordered": _unordered,
}


def _drop_excluded(wide: ir.Table, ev: ir.Table, q: FunnelQuery) -> ir.Table:
    """Remove attempts with an exclusion event strictly between its from- and to-step."""
    end = wide.t0 + interval(q.window)
    for i, ex in enumerate(q.exclusions):
        a, b = q.exclusion_span(ex)
        x = ev.filter(ev[f"x{i}"]).select("user_id", "ts")
        ta, tb = wide[f"t_{a}"], wide[f"t_{b}"]
        inside = (tb.notnull() & (x.ts < tb)) | (tb.isnull() & (x.ts <= end))
        wide = wide.anti_join(x, [wide.user_id == x.user_id, ta.notnull(), x.ts > ta, inside])
    return wide


def best_attempts(con: object, q: FunnelQuery) -> ir.Table:
    """One row per user in the funnel: the attempt that reached the furthest step, earliest first.

    Columns ``user_id, reached, t0, t_0..t_{n-1}, breakdown`` (the attributed value).
    """
    n = len(q.steps)
    greedy = q.order == "ordered" and all(q.step_window(k) is None for k in range(1, n))
    ev = events_base(con, q, every_event=q.order == "strict", with_counts=greedy)
    wide = _ordered_greedy(ev, q) if greedy else _ENGINES[q.order](ev, q)
    wide = _drop_excluded(wide, ev, q)
    if q.attribution == "first_touch":
        bd = wide.b_first
    else:
        bd = ibis.cases(*[(wide.reached == k, wide[f"b{k}"]) for k in range(n)])
    # NULL-free: an aggregate may skip NULL values; t_k is NULL only when no attempt reached k
    wide = wide.mutate(bd_=bd.fill_null("(none)"), key_=wide.reached.cast("int64") * _SEQ_SPAN - wide.a_seq)
    # the best attempt: furthest step, then earliest anchor; one aggregation, no ranking window
    pick = {c: wide[c].argmax(wide.key_) for c in ("t0", *[f"t_{k}" for k in range(n)])}
    best = wide.group_by("user_id").agg(reached=wide.reached.max(), **pick, breakdown=wide.bd_.argmax(wide.key_))
    return best


def _seconds(later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.FloatingValue:
    """Seconds between two timestamps, to the microsecond, on every engine.

    A timestamp difference, not ``epoch_seconds``: PySpark's ``unix_timestamp`` drops
    the fraction of a second that DuckDB's ``epoch`` keeps.
    """
    return later.delta(earlier, unit="microsecond").cast("float64") / 1_000_000.0


def step_stats(best: ir.Table, q: FunnelQuery) -> ir.Table:
    """One row overall (``breakdown`` NULL) and one per breakdown value, with per step ``k``:

    ``n{k}`` users who reached it, ``mf{k}``/``mp{k}`` median seconds from the first/previous
    step, ``h{k}_{i}`` users per time-from-first histogram bin ``i``. One aggregation per
    grouping, no per-step union: fewer nodes for Ibis to compile.
    """
    n = len(q.steps)
    edges = [e.total_seconds() for e in q.bin_edges]
    reached_at = [best[f"t_{k}"] for k in range(n)]  # NULL when not reached
    cols: dict[str, ir.Value] = {}
    for k in range(n):
        cols[f"df{k}"] = _seconds(reached_at[k], best.t0)
        cols[f"dp{k}"] = _seconds(reached_at[k], reached_at[k - 1]) if k else ibis.null("float64")
    d = best.mutate(**cols)
    d = d.mutate(
        **{
            f"bin{k}": ibis.cases(
                (d[f"df{k}"].isnull(), -1), *[(d[f"df{k}"] < e, i) for i, e in enumerate(edges)], else_=len(edges)
            )
            for k in range(n)
        }
    )
    aggs: dict[str, ir.Value] = {}
    for k in range(n):
        aggs[f"n{k}"] = d[f"df{k}"].count()
        aggs[f"mf{k}"] = d[f"df{k}"].median()
        aggs[f"mp{k}"] = d[f"dp{k}"].median()
        for i in range(len(edges) + 1):
            aggs[f"h{k}_{i}"] = (d[f"bin{k}"] == i).cast("int64").sum()
    best = d
    total = best.aggregate(**aggs).mutate(breakdown=ibis.null("string"))
    if q.breakdown is None:
        return total
    by = best.group_by("breakdown").aggregate(**aggs)
    return ibis.union(total, by.select(*total.columns))
