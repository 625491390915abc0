"""Explicit 8-lane vector code for numba kernels (recursive filters, window sums, threshold scan).

A recursive filter cannot be vectorised along time, only across channels.
numba's loop vectoriser does that only for inner loops of 16 or more
iterations, and its SLP vectoriser (which would pack a short unrolled loop)
is off by default in numba because of miscompilations. A needle recording has
1 to 8 channels, so the filter's recursion ran one channel value at a time,
bound by the number of scalar floating-point operations per row.

:func:`cascade_lanes8` writes the recursion of second-order sections
directly as LLVM vector instructions on groups of 8 adjacent channels
(``<8 x float>``), with the section's state held in registers. Each lane
does exactly the scalar operations of
:func:`motorsign.signal.filters.sosfiltfilt_nb`'s scalar path, in the same
order (no fused multiply-add, no reassociation), so the numbers are the
same bit for bit; a row of 8 channels then costs one recursion latency
instead of ~40 scalar operations (about 2.5x faster per pass on 8 channels).

The same is done for the two other full passes over a chunk: the window
statistics (:func:`window_sums_lanes8`) and the threshold scan
(:func:`excursion_scan_lanes8`); each does the scalar loop's operations, so
results are unchanged.

The intrinsics are inlined into ``@numba.njit(nogil=True, cache=True)``
callers and cached with them. numba's cache only watches the caller's own
source file: after editing this module, delete the ``__pycache__`` folders
of ``motorsign`` (a release changes every file, so users are not affected).
numba keys each cache entry by the CPU name and its feature flags (the
``magic_tuple`` of its code generator: target triple, host CPU, ``+avx,...``),
so code built for an AVX machine is not loaded on a CPU without AVX; there
``<8 x float>`` is compiled as two SSE registers.

With ``NUMBA_DISABLE_JIT=1`` the intrinsics cannot run (numba raises
``NotImplementedError`` when one is called from Python): :data:`VECTOR` is
then false, the callers take their scalar paths (:func:`rows_contiguous` is
false), which give the same numbers, and :func:`sos_pair_lanes8` is replaced
by a numpy version (its fused multiply-adds emulated in float64, so a result
may differ from the compiled one in the last bit, rarely).
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["LANES", "VECTOR", "cascade_lanes8", "excursion_scan_lanes8", "rows_contiguous",
           "sos_pair_lanes8", "window_sums_lanes8"]

#: Channels per vector (``<8 x float>``: one AVX register, two SSE registers).
LANES = 8
#: Whether the vector intrinsics can run (not with ``NUMBA_DISABLE_JIT=1``).
VECTOR = not numba.config.DISABLE_JIT


@numba.njit(nogil=True, cache=True)
def rows_contiguous(a):  # pragma: no cover - compiled
    """Whether the vector lanes may read float32 (n, c) ``a``: contiguous rows
    (``strides[1] == 4``) whose starts are whole elements apart, and :data:`VECTOR`."""
    return VECTOR and a.strides[1] == 4 and a.strides[0] % 4 == 0

_F32 = ir.FloatType()
_VEC = ir.VectorType(_F32, LANES)
_I32 = ir.IntType(32)


def _arrays(spec) -> bool:
    """Typing guard: each ``(type, dtype, ndim, writable)`` is a numba array of that kind.

    The code generators read raw memory as ``<8 x float>`` (or double/int64)
    vectors, so any other element type would be misread; an intrinsic whose
    arguments fail this is not typed (numba reports no matching implementation).
    """
    return all(isinstance(t, types.Array) and t.dtype == dt and t.ndim == nd
               and (t.mutable or not w) for t, dt, nd, w in spec)


def _splat(builder: ir.IRBuilder, scalar: ir.Value) -> ir.Value:
    """A vector of ``LANES`` copies of ``scalar`` (its own element type; integers other
    than int1 are widened to int64 first)."""
    if isinstance(scalar.type, ir.IntType) and scalar.type.width not in (1, 64):
        scalar = builder.sext(scalar, ir.IntType(64))
    vec = ir.Constant(ir.VectorType(scalar.type, LANES), ir.Undefined)
    for k in range(LANES):
        vec = builder.insert_element(vec, scalar, ir.Constant(_I32, k))
    return vec


@intrinsic
def cascade_lanes8(typingctx, src, out, co, sec0, n_sections, x0, lane0, n_groups, backward,
                   clean):
    """Sections ``sec0 .. sec0 + n_sections - 1`` over all rows, ``n_groups`` groups of 8 lanes.

    Compiled signature (inside njit code)::

        cascade_lanes8(src, out, co, sec0, n_sections, x0, lane0, n_groups, backward,
                       clean) -> None

    ``src`` and ``out`` are float32 (n, c) arrays whose rows are contiguous
    (``out`` may be ``src``); ``co`` float32 (n_total, 6), C-contiguous, the
    second-order sections as rows ``b0 b1 b2 a0 a1 a2`` (``a0`` = 1, not
    read); ``x0`` float32 (c,) the value subtracted from every input sample
    of a lane. Lanes ``lane0 .. lane0 + 8 * n_groups - 1`` (all < c) are
    filtered from rest (zero state) through the sections in turn, forward
    or, with ``backward``, from the last row to the first. With ``clean``
    (the first sweep of a pass) NaN input samples are read as 0; without it
    (a later sweep, filtering the previous sweep's output in place, ``x0``
    all zeros) NaN goes on into the sections as in the scalar path, where
    an overflow (inf - inf) inside the cascade stays NaN. ``n_sections`` and ``n_groups`` must be literal integers
    (1, 2 or 4): the sections and the groups run in the same row loop, so
    their recursions overlap in time. Each section does the scalar path's
    operations in its order (no fused multiply-add)::

        yo = b0*y + z1;  z1 = b1*y - a1*yo + z2;  z2 = b2*y - a2*yo
    """
    if not (isinstance(n_groups, types.IntegerLiteral)
            and isinstance(n_sections, types.IntegerLiteral)):
        return None  # numba then retries with the literal types
    if not _arrays(((src, types.float32, 2, False), (out, types.float32, 2, True),
                    (co, types.float32, 2, False), (x0, types.float32, 1, False))):
        return None
    ng = int(n_groups.literal_value)
    ns = int(n_sections.literal_value)
    sig = types.void(src, out, co, sec0, n_sections, x0, lane0, n_groups, backward, clean)

    def codegen(context, builder, signature, args):
        s_ty, o_ty, c_ty = signature.args[:3]
        x_ty = signature.args[5]
        sa = context.make_array(s_ty)(context, builder, value=args[0])
        oa = context.make_array(o_ty)(context, builder, value=args[1])
        ca = context.make_array(c_ty)(context, builder, value=args[2])
        xa = context.make_array(x_ty)(context, builder, value=args[5])
        first, lane, bwd, cln = args[3], args[6], args[8], args[9]
        intp = context.get_value_type(types.intp)
        four = ir.Constant(intp, 4)
        n = builder.extract_value(sa.shape, 0)
        s_row = builder.sdiv(builder.extract_value(sa.strides, 0), four)
        o_row = builder.sdiv(builder.extract_value(oa.strides, 0), four)
        vptr = _VEC.as_pointer()
        base = builder.mul(first, ir.Constant(intp, 6))

        def coef(s, q):
            k = builder.add(base, ir.Constant(intp, 6 * s + q))
            return _splat(builder, builder.load(builder.gep(ca.data, [k])))

        secs = [tuple(coef(s, q) for q in (0, 1, 2, 4, 5)) for s in range(ns)]
        zero = ir.Constant(_VEC, [0.0] * LANES)
        groups = []
        for g in range(ng):
            off = builder.add(lane, ir.Constant(intp, LANES * g))
            x0v = builder.load(builder.bitcast(builder.gep(xa.data, [off]), vptr), align=4)
            # state in allocas: promoted to registers (loop-carried values)
            states = [(cgutils.alloca_once_value(builder, zero),
                       cgutils.alloca_once_value(builder, zero)) for _ in range(ns)]
            groups.append((off, x0v, states))
        last = builder.sub(n, ir.Constant(intp, 1))
        with cgutils.for_range(builder, n) as loop:
            row = builder.select(bwd, builder.sub(last, loop.index), loop.index)
            s_base = builder.mul(row, s_row)
            o_base = builder.mul(row, o_row)
            for off, x0v, states in groups:
                sp = builder.bitcast(builder.gep(sa.data, [builder.add(s_base, off)]), vptr)
                v = builder.load(sp, align=4)
                d = builder.fsub(v, x0v)
                y = builder.select(cln, builder.select(builder.fcmp_unordered("uno", v, v), zero, d),
                                   d)
                for (b0, b1, b2, a1, a2), (z1, z2) in zip(secs, states):
                    yo = builder.fadd(builder.fmul(b0, y), builder.load(z1))
                    nz1 = builder.fadd(builder.fsub(builder.fmul(b1, y), builder.fmul(a1, yo)),
                                       builder.load(z2))
                    nz2 = builder.fsub(builder.fmul(b2, y), builder.fmul(a2, yo))
                    builder.store(nz1, z1)
                    builder.store(nz2, z2)
                    y = yo
                op = builder.bitcast(builder.gep(oa.data, [builder.add(o_base, off)]), vptr)
                builder.store(y, op, align=4)
        return context.get_dummy_value()

    return sig, codegen


_F64 = ir.DoubleType()
_I64 = ir.IntType(64)
_VEC_D = ir.VectorType(_F64, LANES)
_VEC_I = ir.VectorType(_I64, LANES)


def _lane_ptr(context, builder, ty, value, index, vec_ty):
    """Pointer to ``vec_ty`` at flat element ``index`` of a contiguous array argument."""
    ary = context.make_array(ty)(context, builder, value=value)
    return builder.bitcast(builder.gep(ary.data, [index]), vec_ty.as_pointer())


@intrinsic
def window_sums_lanes8(typingctx, raw, y, lane0, row_start, row_stop, window_start,
                       ss, sacc, cnt, nnan, run, best, scnt, prev):
    """Accumulate the window statistics of rows ``[row_start, row_stop)`` on 8 lanes.

    Compiled signature (inside njit code)::

        window_sums_lanes8(raw, y, lane0, row_start, row_stop, window_start,
                           ss, sacc, cnt, nnan, run, best, scnt, prev) -> None

    ``raw`` and ``y`` are float32 (n, c) arrays with contiguous rows; the
    state arrays have one value per channel: float64 ``ss`` (sum of ``y**2``)
    and ``sacc`` (sum of ``raw``), int64 ``cnt``, ``nnan``, ``run``, ``best``
    and ``scnt``, float32 ``prev`` (the previous raw sample). For each row
    and lane, exactly as the scalar loop of
    :func:`motorsign.signal.segmentation.window_stats_nb`: a NaN raw sample
    counts in ``nnan`` and resets ``run`` to 1; otherwise ``y**2`` (float32
    product) is added to ``ss``, the sample to ``sacc``, ``cnt`` and
    ``scnt`` count it, and ``run`` grows while the sample equals the
    previous one (not on the window's first row), ``best`` keeping the
    longest run.
    """
    if not _arrays(((raw, types.float32, 2, False), (y, types.float32, 2, False),
                    (ss, types.float64, 1, True), (sacc, types.float64, 1, True),
                    (cnt, types.int64, 1, True), (nnan, types.int64, 1, True),
                    (run, types.int64, 1, True), (best, types.int64, 1, True),
                    (scnt, types.int64, 1, True), (prev, types.float32, 1, True))):
        return None
    sig = types.void(raw, y, lane0, row_start, row_stop, window_start,
                     ss, sacc, cnt, nnan, run, best, scnt, prev)

    def codegen(context, builder, signature, args):
        tys = signature.args
        ra = context.make_array(tys[0])(context, builder, value=args[0])
        ya = context.make_array(tys[1])(context, builder, value=args[1])
        lane, r0, r1, wa = args[2], args[3], args[4], args[5]
        intp = context.get_value_type(types.intp)
        four = ir.Constant(intp, 4)
        r_row = builder.sdiv(builder.extract_value(ra.strides, 0), four)
        y_row = builder.sdiv(builder.extract_value(ya.strides, 0), four)
        state = []  # (pointer into the state array, alloca holding the vector)
        for k, vec_ty in zip(range(6, 14), (_VEC_D, _VEC_D, _VEC_I, _VEC_I, _VEC_I, _VEC_I,
                                             _VEC_I, _VEC)):
            ptr = _lane_ptr(context, builder, tys[k], args[k], lane, vec_ty)
            state.append((ptr, cgutils.alloca_once_value(builder, builder.load(ptr, align=4))))
        (_, ss_v), (_, sacc_v), (_, cnt_v), (_, nnan_v), (_, run_v), (_, best_v), \
            (_, scnt_v), (_, prev_v) = state
        one = ir.Constant(_VEC_I, [1] * LANES)
        vptr = _VEC.as_pointer()
        count = builder.sub(r1, r0)
        with cgutils.for_range(builder, count) as loop:
            i = builder.add(r0, loop.index)
            v = builder.load(builder.bitcast(
                builder.gep(ra.data, [builder.add(builder.mul(i, r_row), lane)]), vptr), align=4)
            yv = builder.load(builder.bitcast(
                builder.gep(ya.data, [builder.add(builder.mul(i, y_row), lane)]), vptr), align=4)
            ok = builder.fcmp_ordered("ord", v, v)
            ok_i = builder.zext(ok, _VEC_I)
            sq = builder.fpext(builder.fmul(yv, yv), _VEC_D)
            ss = builder.load(ss_v)
            builder.store(builder.select(ok, builder.fadd(ss, sq), ss), ss_v)
            sacc = builder.load(sacc_v)
            builder.store(builder.select(ok, builder.fadd(sacc, builder.fpext(v, _VEC_D)), sacc),
                          sacc_v)
            builder.store(builder.add(builder.load(cnt_v), ok_i), cnt_v)
            builder.store(builder.add(builder.load(scnt_v), ok_i), scnt_v)
            builder.store(builder.add(builder.load(nnan_v), builder.sub(one, ok_i)), nnan_v)
            later = builder.icmp_signed(">", i, wa)
            eq = builder.fcmp_ordered("==", v, builder.load(prev_v))
            eq = builder.and_(eq, _splat(builder, later))
            run = builder.select(eq, builder.add(builder.load(run_v), one), one)
            builder.store(run, run_v)
            best = builder.load(best_v)
            builder.store(builder.select(builder.icmp_signed(">", run, best), run, best), best_v)
            builder.store(v, prev_v)
        for ptr, slot in state:
            builder.store(builder.load(slot), ptr, align=4)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def excursion_scan_lanes8(typingctx, y, lane0, row_start, row_stop, thr, dead, best, bestv,
                          below):
    """Follow supra-threshold excursions on 8 lanes until one of them ends.

    Compiled signature (inside njit code)::

        excursion_scan_lanes8(y, lane0, row_start, row_stop, thr, dead,
                              best, bestv, below) -> next_row

    ``y`` is float32 (n, c) with contiguous rows; ``thr`` float32 (c,) the
    threshold on ``|y|``; per-channel state: int64 ``best`` (row of the
    largest ``|y|`` of the open excursion, -1 when none), float32 ``bestv``
    (that value) and int64 ``below`` (rows below threshold since). Rows are
    processed from ``row_start`` as the scalar loop of
    :func:`motorsign.spontaneous.kernels.detect_excursions_nb` does; the
    scan stops after the first row where an excursion ends (``below``
    reaches ``dead``) and returns the next row to process, or ``row_stop``.
    The caller then emits the lanes with ``best >= 0`` and
    ``below >= dead`` and closes them (``best = -1``).
    """
    if not (_arrays(((y, types.float32, 2, False), (thr, types.float32, 1, False),
                     (best, types.int64, 1, True), (bestv, types.float32, 1, True),
                     (below, types.int64, 1, True)))
            and isinstance(dead, types.Integer)):
        return None
    sig = types.intp(y, lane0, row_start, row_stop, thr, dead, best, bestv, below)

    def codegen(context, builder, signature, args):
        tys = signature.args
        ya = context.make_array(tys[0])(context, builder, value=args[0])
        lane, r0, r1, dead_v = args[1], args[2], args[3], args[5]
        intp = context.get_value_type(types.intp)
        y_row = builder.sdiv(builder.extract_value(ya.strides, 0), ir.Constant(intp, 4))
        t = builder.load(_lane_ptr(context, builder, tys[4], args[4], lane, _VEC), align=4)
        ptrs = [_lane_ptr(context, builder, tys[k], args[k], lane, vt)
                for k, vt in ((6, _VEC_I), (7, _VEC), (8, _VEC_I))]
        slots = [cgutils.alloca_once_value(builder, builder.load(p, align=4)) for p in ptrs]
        best_s, bestv_s, below_s = slots
        row = cgutils.alloca_once_value(builder, r0)
        r0_vec = _splat(builder, r0)
        last_s = cgutils.alloca_once_value(
            builder, builder.sub(builder.sub(r0_vec, ir.Constant(_VEC_I, [1] * LANES)),
                                 builder.load(below_s)))
        dead_vec = _splat(builder, dead_v)
        minus1 = ir.Constant(_VEC_I, [-1] * LANES)
        fabs = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_VEC, [_VEC]),
                                              "llvm.fabs.v8f32")
        mask_ty = ir.IntType(LANES)

        def lanes_abs(i):
            v = builder.load(builder.bitcast(
                builder.gep(ya.data, [builder.add(builder.mul(i, y_row), lane)]),
                _VEC.as_pointer()), align=4)
            return builder.call(fabs, [v])

        def any_lane(mask):
            return builder.icmp_unsigned("!=", builder.bitcast(mask, mask_ty),
                                         ir.Constant(mask_ty, 0))

        head = builder.append_basic_block("scan.head")
        check = builder.append_basic_block("scan.check")
        idle = builder.append_basic_block("scan.idle")
        skip = builder.append_basic_block("scan.skip")
        body = builder.append_basic_block("scan.body")
        done = builder.append_basic_block("scan.done")
        builder.branch(head)
        builder.position_at_end(head)
        i = builder.load(row)
        builder.cbranch(builder.icmp_signed("<", i, r1), check, done)
        # no excursion open on any lane: rows with nothing above threshold are skipped
        # in a short loop that carries nothing from row to row
        builder.position_at_end(check)
        builder.cbranch(any_lane(builder.icmp_signed(">", builder.load(best_s), minus1)),
                        body, idle)
        builder.position_at_end(idle)
        builder.cbranch(any_lane(builder.fcmp_ordered(">=", lanes_abs(i), t)), body, skip)
        builder.position_at_end(skip)
        builder.store(builder.add(i, ir.Constant(intp, 1)), row)
        builder.branch(head)
        builder.position_at_end(body)
        a = lanes_abs(i)
        best = builder.load(best_s)
        bestv = builder.load(bestv_s)
        i_vec = _splat(builder, i)
        above = builder.fcmp_ordered(">=", a, t)
        active = builder.icmp_signed(">", best, minus1)
        # a new excursion, or a larger sample of the open one
        upd = builder.and_(above, builder.or_(builder.not_(active),
                                              builder.fcmp_ordered(">", a, bestv)))
        builder.store(builder.select(upd, i_vec, best), best_s)
        builder.store(builder.select(upd, a, bestv), bestv_s)
        # rows below threshold since the last supra-threshold row of an open
        # excursion: i - last (no counter carried from row to row)
        last = builder.select(above, i_vec, builder.load(last_s))
        builder.store(last, last_s)
        new_below = builder.sub(i_vec, last)
        ended = builder.and_(builder.and_(builder.not_(above), active),
                             builder.icmp_signed(">=", new_below, dead_vec))
        nxt = builder.add(i, ir.Constant(intp, 1))
        builder.store(nxt, row)
        builder.cbranch(any_lane(ended), done, head)
        builder.position_at_end(done)
        end_row = builder.load(row)
        e_vec = _splat(builder, end_row)
        builder.store(builder.sub(builder.sub(e_vec, ir.Constant(_VEC_I, [1] * LANES)),
                                  builder.load(last_s)), below_s)
        for p, s in zip(ptrs, slots):
            builder.store(builder.load(s), p, align=4)
        return end_row

    return sig, codegen


@intrinsic
def sos_pair_lanes8(typingctx, src_a, out_a, co_a, x0_a, n_a, src_b, out_b, co_b, x0_b, n_b,
                    lane0, linked, backward):
    """Two cascades of second-order sections in one sweep over the rows, 8 lanes.

    Compiled signature (inside njit code)::

        sos_pair_lanes8(src_a, out_a, co_a, x0_a, n_a, src_b, out_b, co_b, x0_b, n_b,
                        lane0, linked, backward) -> None

    Cascade A filters ``src_a`` into ``out_a`` through the first ``n_a``
    sections of ``co_a`` (float32 (>= n_a, 6), rows ``b0 b1 b2 a0 a1 a2``);
    cascade B filters ``src_b`` into ``out_b`` through ``n_b`` sections of
    ``co_b``, or, when ``linked``, cascade A's output of the same row
    (``src_b`` and ``x0_b`` are then not read). ``n_a``, ``n_b`` (1 or 2)
    and ``linked`` must be literals. Each cascade's input has ``x0``
    subtracted and NaN read as 0; the states start at rest. ``out_a`` may be
    ``src_a`` and ``out_b`` ``src_b``. Sections use fused multiply-adds, so
    the recursion costs two FMA latencies per row::

        yo = b0*y + z1;  z1 = (b1*y + z2) - a1*yo;  z2 = b2*y - a2*yo

    The two cascades are independent recursions in the same loop, so they
    overlap in time.
    """
    if not (isinstance(n_a, types.IntegerLiteral) and isinstance(n_b, types.IntegerLiteral)
            and isinstance(linked, types.BooleanLiteral)):
        return None  # numba then retries with the literal types
    if not _arrays(((src_a, types.float32, 2, False), (out_a, types.float32, 2, True),
                    (co_a, types.float32, 2, False), (x0_a, types.float32, 1, False),
                    (src_b, types.float32, 2, False), (out_b, types.float32, 2, True),
                    (co_b, types.float32, 2, False), (x0_b, types.float32, 1, False))):
        return None
    count_a, count_b = int(n_a.literal_value), int(n_b.literal_value)
    linked_flag = bool(linked.literal_value)
    sig = types.void(src_a, out_a, co_a, x0_a, n_a, src_b, out_b, co_b, x0_b, n_b, lane0,
                     linked, backward)

    def codegen(context, builder, signature, args):
        tys = signature.args
        intp = context.get_value_type(types.intp)
        four = ir.Constant(intp, 4)
        lane, bwd = args[10], args[12]
        sa, oa, ca, xa = (context.make_array(tys[k])(context, builder, value=args[k])
                          for k in range(4))
        sb, ob, cb, xb = (context.make_array(tys[k])(context, builder, value=args[k])
                          for k in range(5, 9))
        n = builder.extract_value(oa.shape, 0)
        fma = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(_VEC, [_VEC, _VEC, _VEC]), "llvm.fma.v8f32")
        vptr = _VEC.as_pointer()
        zero = ir.Constant(_VEC, [0.0] * LANES)

        def row_stride(ary):
            return builder.sdiv(builder.extract_value(ary.strides, 0), four)

        def sections(co, count):
            out = []
            for s in range(count):
                def coef(q, s=s):
                    return _splat(builder, builder.load(
                        builder.gep(co.data, [ir.Constant(intp, 6 * s + q)])))

                out.append((coef(0), coef(1), coef(2), builder.fsub(zero, coef(4)),
                            builder.fsub(zero, coef(5)),
                            cgutils.alloca_once_value(builder, zero),
                            cgutils.alloca_once_value(builder, zero)))
            return out

        def cascade(y, secs):
            for b0, b1, b2, na1, na2, z1, z2 in secs:
                yo = builder.call(fma, [b0, y, builder.load(z1)])
                nz1 = builder.call(fma, [na1, yo, builder.call(fma, [b1, y, builder.load(z2)])])
                nz2 = builder.call(fma, [na2, yo, builder.fmul(b2, y)])
                builder.store(nz1, z1)
                builder.store(nz2, z2)
                y = yo
            return y

        def at(ary, stride, row):
            return builder.bitcast(
                builder.gep(ary.data, [builder.add(builder.mul(row, stride), lane)]), vptr)

        def load_input(ary, stride, row, x0v):
            v = builder.load(at(ary, stride, row), align=4)
            return builder.select(builder.fcmp_unordered("uno", v, v), zero, builder.fsub(v, x0v))

        secs_a = sections(ca, count_a)
        secs_b = sections(cb, count_b)
        x0a = builder.load(builder.bitcast(builder.gep(xa.data, [lane]), vptr), align=4)
        x0b = builder.load(builder.bitcast(builder.gep(xb.data, [lane]), vptr), align=4)
        s_a, o_a, s_b, o_b = row_stride(sa), row_stride(oa), row_stride(sb), row_stride(ob)
        last = builder.sub(n, ir.Constant(intp, 1))
        with cgutils.for_range(builder, n) as loop:
            row = builder.select(bwd, builder.sub(last, loop.index), loop.index)
            ya = cascade(load_input(sa, s_a, row, x0a), secs_a)
            builder.store(ya, at(oa, o_a, row), align=4)
            yb = ya if linked_flag else load_input(sb, s_b, row, x0b)
            builder.store(cascade(yb, secs_b), at(ob, o_b, row), align=4)
        return context.get_dummy_value()

    return sig, codegen


def _sos_pair_py(src_a, out_a, co_a, x0_a, n_a, src_b, out_b, co_b, x0_b, n_b, lane0, linked,
                 backward):
    """:func:`sos_pair_lanes8` in numpy, for ``NUMBA_DISABLE_JIT=1``."""
    f32 = np.float32
    sl = slice(lane0, lane0 + LANES)

    def fma(a, b, c):  # a*b is exact in float64; one rounding there, one to float32
        return (a.astype(np.float64) * b + c).astype(f32)

    def sections(co, count):
        return [(co[s, 0], co[s, 1], co[s, 2], f32(0) - co[s, 4], f32(0) - co[s, 5],
                 np.zeros(LANES, f32), np.zeros(LANES, f32)) for s in range(count)]

    def cascade(y, secs):
        for b0, b1, b2, na1, na2, z1, z2 in secs:
            yo = fma(np.full(LANES, b0, f32), y, z1)
            nz1 = fma(np.full(LANES, na1, f32), yo, fma(np.full(LANES, b1, f32), y, z2))
            z2[:] = fma(np.full(LANES, na2, f32), yo, (b2 * y).astype(f32))
            z1[:] = nz1
            y = yo
        return y

    def read(src, x0, i):
        v = np.asarray(src[i, sl], f32)
        return np.where(np.isnan(v), f32(0), v - x0[sl]).astype(f32)

    secs_a, secs_b = sections(co_a, n_a), sections(co_b, n_b)
    n = out_a.shape[0]
    with np.errstate(all="ignore"):
        for k in range(n):
            i = n - 1 - k if backward else k
            ya = cascade(read(src_a, x0_a, i), secs_a)
            out_a[i, sl] = ya
            out_b[i, sl] = cascade(ya if linked else read(src_b, x0_b, i), secs_b)


if not VECTOR:  # pragma: no cover - pure-Python mode
    sos_pair_lanes8 = _sos_pair_py  # noqa: F811
