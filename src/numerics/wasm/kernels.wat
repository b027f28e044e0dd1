;; margin-bench float64 kernels, WebAssembly with 128-bit SIMD (f64x2).
;;
;; One routine, rowCombine, serves the sparse first layer of the f64 engine and every dense
;; product (the other layers, the polar factor): every output row is a weighted sum of source rows,
;;
;;   out[r, 0..m) = Σ_{q ∈ row r} val[q] · src[j(q), 0..m)
;;
;; sparse: row r's terms are q ∈ [rowStart[r], rowStart[r+1]) and j(q) = idx[q] (CSR);
;; dense (rowStart = 0): row r's terms are q ∈ [r·kd, r·kd + kd) and j(q) = idx[q − r·kd], where
;;   the caller passes idx = 0, 1, …, kd − 1, so that out = A · src with A = val as [nrows, kd].
;; Both modes walk the same inner loop (a per-term branch or call costs 2.5× here).
;; With upper ≠ 0, row r starts at column r (or r − 1, to keep pairs aligned): for a symmetric
;; result (a Gram matrix) the caller fills the entries left of it from their mirror images, which
;; hold the same sums in the same order; about half the multiply-adds.
;;
;; The output row is done in column blocks held in f64x2 accumulators for the whole sum (each
;; output element is stored once, each source element loaded once per block), then one scalar
;; column when m is odd. A block has at most six accumulators (12 columns), and the pairs of
;; columns are split into blocks as evenly as that allows (m = 50: five blocks of 10): with eight,
;; V8's register allocator keeps one accumulator on the stack, loaded and stored on every term,
;; which cost a third of the speed. The summation order over q is the plain left-to-right order,
;; so a block's result does not depend on the block size.
;;
;; The elementwise passes of the optimizers follow (ema, rmsEma, scaleInto, sumSquares, sign,
;; adamDiv, descend): the per-step loops over every weight, two lanes at a time, then one scalar
;; element when n is odd. Each computes per element exactly the IEEE operations of the JavaScript it
;; replaces (so results are bitwise the same), except sumSquares, which keeps one partial sum per
;; lane. Maxima ignore NaN, as `if (v > max) max = v` does.
;;
;; Then the f64 engine's first-layer transposes (gatherColumns, scatterColumns) and maxAbs, and
;; the polar factor's bookkeeping (lineMaxAbs, gatherSub, scatterSub).
;;
;; Last, the symmetric eigendecomposition (symmetricEigen) of the polar factor's Gram matrices and
;; the norms' σ_max, and the triangular factor of a Householder QR (householderR) that shrinks a
;; tall matrix before an SVD.
;;
;; All pointers are byte offsets into the exported memory; f64 arrays 8-byte aligned.
(module
  (memory (export "memory") 1)

  (func (export "rowCombine")
    (param $out i32) (param $m i32) (param $src i32) (param $val i32)
    (param $idx i32) (param $rowStart i32) (param $nrows i32) (param $kd i32) (param $upper i32)
    (local $r i32) (local $s i32) (local $e i32) (local $k i32) (local $nv i32) (local $nb i32)
    (local $o i32) (local $p i32) (local $rowBytes i32) (local $col i32)
    (local $pv i32) (local $pvEnd i32) (local $pi i32) (local $piRow i32) (local $pvRow i32)
    (local $v v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128)
    (local $x f64)
    (local.set $rowBytes (i32.shl (local.get $m) (i32.const 3)))
    (local.set $r (i32.const 0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $nrows)))
        ;; [s, e): this row's terms
        (if (i32.eqz (local.get $rowStart))
          (then
            (local.set $s (i32.mul (local.get $r) (local.get $kd)))
            (local.set $e (i32.add (local.get $s) (local.get $kd)))
            (local.set $piRow (local.get $idx)))
          (else
            (local.set $s (i32.load (i32.add (local.get $rowStart) (i32.shl (local.get $r) (i32.const 2)))))
            (local.set $e (i32.load (i32.add (local.get $rowStart) (i32.shl (i32.add (local.get $r) (i32.const 1)) (i32.const 2)))))
            (local.set $piRow (i32.add (local.get $idx) (i32.shl (local.get $s) (i32.const 2))))))
        (local.set $pvRow (i32.add (local.get $val) (i32.shl (local.get $s) (i32.const 3))))
        (local.set $pvEnd (i32.add (local.get $val) (i32.shl (local.get $e) (i32.const 3))))
        (local.set $o (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $rowBytes))))
        ;; upper: row r starts at the even column r or r − 1 (the caller mirrors what lies left of it)
        (local.set $k (select (i32.and (local.get $r) (i32.const -2)) (i32.const 0) (local.get $upper)))

        ;; column blocks of 2·nv columns, nv ≤ 6 accumulators, the pairs left split evenly
        (block $blocksDone
          (loop $blocks
            ;; nv = ⌈pairs / ⌈pairs / 6⌉⌉ for the pairs of columns left; none left: done
            (local.set $nv (i32.shr_u (i32.sub (local.get $m) (local.get $k)) (i32.const 1)))
            (br_if $blocksDone (i32.eqz (local.get $nv)))
            (local.set $nb (i32.div_u (i32.add (local.get $nv) (i32.const 5)) (i32.const 6)))
            (local.set $nv (i32.div_u (i32.add (local.get $nv) (i32.sub (local.get $nb) (i32.const 1))) (local.get $nb)))
            (local.set $col (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 3))))
            (local.set $pv (local.get $pvRow))
            (local.set $pi (local.get $piRow))
            (block $blockDone
              (block $w1 (block $w2 (block $w3 (block $w4 (block $w5 (block $w6
                (br_table $w1 $w1 $w2 $w3 $w4 $w5 $w6 (local.get $nv)))
              ;; 12 columns in 6 accumulators
              (local.set $a0 (v128.const i64x2 0 0)) (local.set $a1 (v128.const i64x2 0 0)) (local.set $a2 (v128.const i64x2 0 0)) (local.set $a3 (v128.const i64x2 0 0)) (local.set $a4 (v128.const i64x2 0 0)) (local.set $a5 (v128.const i64x2 0 0))
              (block $termsDone6
                (loop $terms6
                  (br_if $termsDone6 (i32.ge_u (local.get $pv) (local.get $pvEnd)))
                  (local.set $v (f64x2.splat (f64.load (local.get $pv))))
                  (local.set $p (i32.add (local.get $col) (i32.mul (local.get $rowBytes) (i32.load (local.get $pi)))))
                  (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $v) (v128.load offset=0 (local.get $p)))))
                  (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $v) (v128.load offset=16 (local.get $p)))))
                  (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $v) (v128.load offset=32 (local.get $p)))))
                  (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $v) (v128.load offset=48 (local.get $p)))))
                  (local.set $a4 (f64x2.add (local.get $a4) (f64x2.mul (local.get $v) (v128.load offset=64 (local.get $p)))))
                  (local.set $a5 (f64x2.add (local.get $a5) (f64x2.mul (local.get $v) (v128.load offset=80 (local.get $p)))))
                  (local.set $pv (i32.add (local.get $pv) (i32.const 8)))
                  (local.set $pi (i32.add (local.get $pi) (i32.const 4)))
                  (br $terms6)))
              (local.set $p (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 3))))
              (v128.store offset=0 (local.get $p) (local.get $a0)) (v128.store offset=16 (local.get $p) (local.get $a1)) (v128.store offset=32 (local.get $p) (local.get $a2)) (v128.store offset=48 (local.get $p) (local.get $a3)) (v128.store offset=64 (local.get $p) (local.get $a4)) (v128.store offset=80 (local.get $p) (local.get $a5))
              (br $blockDone))
              ;; 10 columns in 5 accumulators
              (local.set $a0 (v128.const i64x2 0 0)) (local.set $a1 (v128.const i64x2 0 0)) (local.set $a2 (v128.const i64x2 0 0)) (local.set $a3 (v128.const i64x2 0 0)) (local.set $a4 (v128.const i64x2 0 0))
              (block $termsDone5
                (loop $terms5
                  (br_if $termsDone5 (i32.ge_u (local.get $pv) (local.get $pvEnd)))
                  (local.set $v (f64x2.splat (f64.load (local.get $pv))))
                  (local.set $p (i32.add (local.get $col) (i32.mul (local.get $rowBytes) (i32.load (local.get $pi)))))
                  (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $v) (v128.load offset=0 (local.get $p)))))
                  (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $v) (v128.load offset=16 (local.get $p)))))
                  (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $v) (v128.load offset=32 (local.get $p)))))
                  (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $v) (v128.load offset=48 (local.get $p)))))
                  (local.set $a4 (f64x2.add (local.get $a4) (f64x2.mul (local.get $v) (v128.load offset=64 (local.get $p)))))
                  (local.set $pv (i32.add (local.get $pv) (i32.const 8)))
                  (local.set $pi (i32.add (local.get $pi) (i32.const 4)))
                  (br $terms5)))
              (local.set $p (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 3))))
              (v128.store offset=0 (local.get $p) (local.get $a0)) (v128.store offset=16 (local.get $p) (local.get $a1)) (v128.store offset=32 (local.get $p) (local.get $a2)) (v128.store offset=48 (local.get $p) (local.get $a3)) (v128.store offset=64 (local.get $p) (local.get $a4))
              (br $blockDone))
              ;; 8 columns in 4 accumulators
              (local.set $a0 (v128.const i64x2 0 0)) (local.set $a1 (v128.const i64x2 0 0)) (local.set $a2 (v128.const i64x2 0 0)) (local.set $a3 (v128.const i64x2 0 0))
              (block $termsDone4
                (loop $terms4
                  (br_if $termsDone4 (i32.ge_u (local.get $pv) (local.get $pvEnd)))
                  (local.set $v (f64x2.splat (f64.load (local.get $pv))))
                  (local.set $p (i32.add (local.get $col) (i32.mul (local.get $rowBytes) (i32.load (local.get $pi)))))
                  (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $v) (v128.load offset=0 (local.get $p)))))
                  (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $v) (v128.load offset=16 (local.get $p)))))
                  (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $v) (v128.load offset=32 (local.get $p)))))
                  (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $v) (v128.load offset=48 (local.get $p)))))
                  (local.set $pv (i32.add (local.get $pv) (i32.const 8)))
                  (local.set $pi (i32.add (local.get $pi) (i32.const 4)))
                  (br $terms4)))
              (local.set $p (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 3))))
              (v128.store offset=0 (local.get $p) (local.get $a0)) (v128.store offset=16 (local.get $p) (local.get $a1)) (v128.store offset=32 (local.get $p) (local.get $a2)) (v128.store offset=48 (local.get $p) (local.get $a3))
              (br $blockDone))
              ;; 6 columns in 3 accumulators
              (local.set $a0 (v128.const i64x2 0 0)) (local.set $a1 (v128.const i64x2 0 0)) (local.set $a2 (v128.const i64x2 0 0))
              (block $termsDone3
                (loop $terms3
                  (br_if $termsDone3 (i32.ge_u (local.get $pv) (local.get $pvEnd)))
                  (local.set $v (f64x2.splat (f64.load (local.get $pv))))
                  (local.set $p (i32.add (local.get $col) (i32.mul (local.get $rowBytes) (i32.load (local.get $pi)))))
                  (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $v) (v128.load offset=0 (local.get $p)))))
                  (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $v) (v128.load offset=16 (local.get $p)))))
                  (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $v) (v128.load offset=32 (local.get $p)))))
                  (local.set $pv (i32.add (local.get $pv) (i32.const 8)))
                  (local.set $pi (i32.add (local.get $pi) (i32.const 4)))
                  (br $terms3)))
              (local.set $p (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 3))))
              (v128.store offset=0 (local.get $p) (local.get $a0)) (v128.store offset=16 (local.get $p) (local.get $a1)) (v128.store offset=32 (local.get $p) (local.get $a2))
              (br $blockDone))
              ;; 4 columns in 2 accumulators
              (local.set $a0 (v128.const i64x2 0 0)) (local.set $a1 (v128.const i64x2 0 0))
              (block $termsDone2
                (loop $terms2
                  (br_if $termsDone2 (i32.ge_u (local.get $pv) (local.get $pvEnd)))
                  (local.set $v (f64x2.splat (f64.load (local.get $pv))))
                  (local.set $p (i32.add (local.get $col) (i32.mul (local.get $rowBytes) (i32.load (local.get $pi)))))
                  (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $v) (v128.load offset=0 (local.get $p)))))
                  (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $v) (v128.load offset=16 (local.get $p)))))
                  (local.set $pv (i32.add (local.get $pv) (i32.const 8)))
                  (local.set $pi (i32.add (local.get $pi) (i32.const 4)))
                  (br $terms2)))
              (local.set $p (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 3))))
              (v128.store offset=0 (local.get $p) (local.get $a0)) (v128.store offset=16 (local.get $p) (local.get $a1))
              (br $blockDone))
              ;; 2 columns in 1 accumulator
              (local.set $a0 (v128.const i64x2 0 0))
              (block $termsDone1
                (loop $terms1
                  (br_if $termsDone1 (i32.ge_u (local.get $pv) (local.get $pvEnd)))
                  (local.set $v (f64x2.splat (f64.load (local.get $pv))))
                  (local.set $p (i32.add (local.get $col) (i32.mul (local.get $rowBytes) (i32.load (local.get $pi)))))
                  (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $v) (v128.load offset=0 (local.get $p)))))
                  (local.set $pv (i32.add (local.get $pv) (i32.const 8)))
                  (local.set $pi (i32.add (local.get $pi) (i32.const 4)))
                  (br $terms1)))
              (local.set $p (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 3))))
              (v128.store offset=0 (local.get $p) (local.get $a0))
              )
            (local.set $k (i32.add (local.get $k) (i32.shl (local.get $nv) (i32.const 1))))
            (br $blocks)))

        ;; the last column when m is odd
        (if (i32.lt_u (local.get $k) (local.get $m))
          (then
            (local.set $x (f64.const 0))
            (local.set $col (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 3))))
            (local.set $pv (local.get $pvRow))
            (local.set $pi (local.get $piRow))
            (block $termsDone
              (loop $terms
                (br_if $termsDone (i32.ge_u (local.get $pv) (local.get $pvEnd)))
                (local.set $p (i32.add (local.get $col) (i32.mul (local.get $rowBytes) (i32.load (local.get $pi)))))
                (local.set $x (f64.add (local.get $x)
                  (f64.mul (f64.load (local.get $pv)) (f64.load (local.get $p)))))
                (local.set $pv (i32.add (local.get $pv) (i32.const 8)))
                (local.set $pi (i32.add (local.get $pi) (i32.const 4)))
                (br $terms)))
            (f64.store (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 3))) (local.get $x))))

        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
  )

  ;; m ← ca·m + cb·g over n elements; returns max |m| (scaled.ts emaInto).
  (func (export "ema")
    (param $m i32) (param $g i32) (param $n i32) (param $ca f64) (param $cb f64) (result f64)
    (local $end2 i32) (local $vca v128) (local $vcb v128) (local $v v128) (local $mx v128)
    (local $x f64) (local $best f64)
    (local.set $end2 (i32.add (local.get $m) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    (local.set $vca (f64x2.splat (local.get $ca)))
    (local.set $vcb (f64x2.splat (local.get $cb)))
    (local.set $mx (v128.const i64x2 0 0))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $m) (local.get $end2)))
        (local.set $v (f64x2.add
          (f64x2.mul (local.get $vca) (v128.load (local.get $m)))
          (f64x2.mul (local.get $vcb) (v128.load (local.get $g)))))
        (v128.store (local.get $m) (local.get $v))
        (local.set $mx (f64x2.pmax (local.get $mx) (f64x2.abs (local.get $v))))
        (local.set $m (i32.add (local.get $m) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (br $pairs)))
    (local.set $best (call $maxLanes (local.get $mx)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (local.set $x (f64.add
          (f64.mul (local.get $ca) (f64.load (local.get $m)))
          (f64.mul (local.get $cb) (f64.load (local.get $g)))))
        (f64.store (local.get $m) (local.get $x))
        (local.set $best (call $maxIgnoringNaN (local.get $best) (f64.abs (local.get $x))))))
    (local.get $best))

  ;; r ← √(ca² r² + cb² g²) over n elements, as big·√(1 + (small/big)²) with big = max(ca·r, cb·|g|)
  ;; and 0 where both are 0; returns max r (scaled.ts rmsEmaInto).
  (func (export "rmsEma")
    (param $r i32) (param $g i32) (param $n i32) (param $ca f64) (param $cb f64) (result f64)
    (local $end2 i32) (local $vca v128) (local $vcb v128) (local $x v128) (local $y v128)
    (local $big v128) (local $q v128) (local $v v128) (local $mx v128)
    (local $sx f64) (local $sy f64) (local $sbig f64) (local $sq f64) (local $best f64)
    (local.set $end2 (i32.add (local.get $r) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    (local.set $vca (f64x2.splat (local.get $ca)))
    (local.set $vcb (f64x2.splat (local.get $cb)))
    (local.set $mx (v128.const i64x2 0 0))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $r) (local.get $end2)))
        (local.set $x (f64x2.mul (local.get $vca) (v128.load (local.get $r))))
        (local.set $y (f64x2.mul (local.get $vcb) (f64x2.abs (v128.load (local.get $g)))))
        (local.set $big (f64x2.pmax (local.get $x) (local.get $y)))
        (local.set $q (f64x2.div (f64x2.pmin (local.get $x) (local.get $y)) (local.get $big)))
        (local.set $v (f64x2.mul (local.get $big)
          (f64x2.sqrt (f64x2.add (f64x2.splat (f64.const 1)) (f64x2.mul (local.get $q) (local.get $q))))))
        ;; 0 where big = 0 (the 0/0 above is discarded)
        (local.set $v (v128.andnot (local.get $v) (f64x2.eq (local.get $big) (v128.const i64x2 0 0))))
        (v128.store (local.get $r) (local.get $v))
        (local.set $mx (f64x2.pmax (local.get $mx) (local.get $v)))
        (local.set $r (i32.add (local.get $r) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (br $pairs)))
    (local.set $best (call $maxLanes (local.get $mx)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (local.set $sx (f64.mul (local.get $ca) (f64.load (local.get $r))))
        (local.set $sy (f64.mul (local.get $cb) (f64.abs (f64.load (local.get $g)))))
        (local.set $sbig (select (local.get $sy) (local.get $sx) (f64.lt (local.get $sx) (local.get $sy))))
        (if (f64.eq (local.get $sbig) (f64.const 0))
          (then (f64.store (local.get $r) (f64.const 0)))
          (else
            (local.set $sq (f64.div
              (select (local.get $sy) (local.get $sx) (f64.lt (local.get $sy) (local.get $sx)))
              (local.get $sbig)))
            (local.set $sq (f64.mul (local.get $sbig)
              (f64.sqrt (f64.add (f64.const 1) (f64.mul (local.get $sq) (local.get $sq))))))
            (f64.store (local.get $r) (local.get $sq))
            (local.set $best (call $maxIgnoringNaN (local.get $best) (local.get $sq)))))))
    (local.get $best))

  ;; out ← s·x over n elements (out may be x).
  (func (export "scaleInto") (param $out i32) (param $x i32) (param $n i32) (param $s f64)
    (local $end2 i32) (local $vs v128)
    (local.set $end2 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    (local.set $vs (f64x2.splat (local.get $s)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $x) (local.get $end2)))
        (v128.store (local.get $out) (f64x2.mul (v128.load (local.get $x)) (local.get $vs)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $pairs)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then (f64.store (local.get $out) (f64.mul (f64.load (local.get $x)) (local.get $s))))))

  ;; Σ x² over n elements: one partial sum per lane (even and odd indices), then the odd last one.
  (func (export "sumSquares") (param $x i32) (param $n i32) (result f64)
    (local $end2 i32) (local $acc v128) (local $v v128) (local $sum f64)
    (local.set $end2 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    (local.set $acc (v128.const i64x2 0 0))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $x) (local.get $end2)))
        (local.set $v (v128.load (local.get $x)))
        (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (local.get $v) (local.get $v))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $pairs)))
    (local.set $sum (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
    (if (i32.and (local.get $n) (i32.const 1))
      (then (local.set $sum (f64.add (local.get $sum)
        (f64.mul (f64.load (local.get $x)) (f64.load (local.get $x)))))))
    (local.get $sum))

  ;; out ← sign(m) over n elements: 1, −1, 0 for ±0, NaN for NaN (directions.ts signDirection).
  (func (export "sign") (param $out i32) (param $m i32) (param $n i32)
    (local $end2 i32) (local $v v128) (local $one v128) (local $s v128) (local $x f64)
    (local.set $end2 (i32.add (local.get $m) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    (local.set $one (f64x2.splat (f64.const 1)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $m) (local.get $end2)))
        (local.set $v (v128.load (local.get $m)))
        (local.set $s (f64x2.sub
          (v128.and (local.get $one) (f64x2.gt (local.get $v) (v128.const i64x2 0 0)))
          (v128.and (local.get $one) (f64x2.lt (local.get $v) (v128.const i64x2 0 0)))))
        ;; NaN stays NaN (its lanes compare unequal to themselves)
        (v128.store (local.get $out) (v128.bitselect (local.get $v) (local.get $s) (f64x2.ne (local.get $v) (local.get $v))))
        (local.set $m (i32.add (local.get $m) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $pairs)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (local.set $x (f64.load (local.get $m)))
        (f64.store (local.get $out)
          (if (result f64) (f64.gt (local.get $x) (f64.const 0))
            (then (f64.const 1))
            (else (if (result f64) (f64.lt (local.get $x) (f64.const 0))
              (then (f64.const -1))
              (else (f64.sub (local.get $x) (local.get $x))))))))))

  ;; out ← (m / r) · factor where r > 0, else 0, over n elements (directions.ts adamDirection).
  (func (export "adamDiv") (param $out i32) (param $m i32) (param $r i32) (param $n i32) (param $factor f64)
    (local $end2 i32) (local $vf v128) (local $rv v128) (local $x f64)
    (local.set $end2 (i32.add (local.get $m) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    (local.set $vf (f64x2.splat (local.get $factor)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $m) (local.get $end2)))
        (local.set $rv (v128.load (local.get $r)))
        (v128.store (local.get $out)
          (v128.and
            (f64x2.mul (f64x2.div (v128.load (local.get $m)) (local.get $rv)) (local.get $vf))
            (f64x2.gt (local.get $rv) (v128.const i64x2 0 0))))
        (local.set $m (i32.add (local.get $m) (i32.const 16)))
        (local.set $r (i32.add (local.get $r) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $pairs)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (local.set $x (f64.load (local.get $r)))
        (f64.store (local.get $out)
          (if (result f64) (f64.gt (local.get $x) (f64.const 0))
            (then (f64.mul (f64.div (f64.load (local.get $m)) (local.get $x)) (local.get $factor)))
            (else (f64.const 0)))))))

  ;; w ← w − η·d over n elements (the parameter update θ ← θ − η D).
  (func (export "descend") (param $w i32) (param $d i32) (param $n i32) (param $eta f64)
    (local $end2 i32) (local $ve v128)
    (local.set $end2 (i32.add (local.get $w) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    (local.set $ve (f64x2.splat (local.get $eta)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $w) (local.get $end2)))
        (v128.store (local.get $w)
          (f64x2.sub (v128.load (local.get $w)) (f64x2.mul (local.get $ve) (v128.load (local.get $d)))))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (local.set $d (i32.add (local.get $d) (i32.const 16)))
        (br $pairs)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then (f64.store (local.get $w)
        (f64.sub (f64.load (local.get $w)) (f64.mul (local.get $eta) (f64.load (local.get $d))))))))

  ;; max |x| over n elements (NaN ignored).
  (func (export "maxAbs") (param $x i32) (param $n i32) (result f64)
    (local $end2 i32) (local $mx v128) (local $best f64)
    (local.set $end2 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    (local.set $mx (v128.const i64x2 0 0))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $x) (local.get $end2)))
        (local.set $mx (f64x2.pmax (local.get $mx) (f64x2.abs (v128.load (local.get $x)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $pairs)))
    (local.set $best (call $maxLanes (local.get $mx)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then (local.set $best (call $maxIgnoringNaN (local.get $best) (f64.abs (f64.load (local.get $x)))))))
    (local.get $best))

  ;; Columns p = idx[0..nidx) of W [m, d] as rows of Wᵀ [d, m]: dst[p, k] = W[k, p] (other rows of dst untouched).
  (func (export "gatherColumns")
    (param $dst i32) (param $w i32) (param $m i32) (param $d i32) (param $idx i32) (param $nidx i32)
    (local $idxEnd i32) (local $p i32) (local $o i32) (local $oEnd i32) (local $s i32) (local $stride i32)
    (local.set $idxEnd (i32.add (local.get $idx) (i32.shl (local.get $nidx) (i32.const 2))))
    (local.set $stride (i32.shl (local.get $d) (i32.const 3)))
    (block $done
      (loop $cols
        (br_if $done (i32.ge_u (local.get $idx) (local.get $idxEnd)))
        (local.set $p (i32.load (local.get $idx)))
        (local.set $o (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $p) (local.get $m)) (i32.const 3))))
        (local.set $oEnd (i32.add (local.get $o) (i32.shl (local.get $m) (i32.const 3))))
        (local.set $s (i32.add (local.get $w) (i32.shl (local.get $p) (i32.const 3))))
        (block $rowDone
          (loop $row
            (br_if $rowDone (i32.ge_u (local.get $o) (local.get $oEnd)))
            (f64.store (local.get $o) (f64.load (local.get $s)))
            (local.set $o (i32.add (local.get $o) (i32.const 8)))
            (local.set $s (i32.add (local.get $s) (local.get $stride)))
            (br $row)))
        (local.set $idx (i32.add (local.get $idx) (i32.const 4)))
        (br $cols))))

  ;; The inverse, scaled: W[k, p] = scale · src[p, k] for p = idx[0..nidx) (other columns of W untouched).
  (func (export "scatterColumns")
    (param $w i32) (param $src i32) (param $m i32) (param $d i32) (param $idx i32) (param $nidx i32) (param $scale f64)
    (local $idxEnd i32) (local $p i32) (local $s i32) (local $sEnd i32) (local $o i32) (local $stride i32)
    (local.set $idxEnd (i32.add (local.get $idx) (i32.shl (local.get $nidx) (i32.const 2))))
    (local.set $stride (i32.shl (local.get $d) (i32.const 3)))
    (block $done
      (loop $cols
        (br_if $done (i32.ge_u (local.get $idx) (local.get $idxEnd)))
        (local.set $p (i32.load (local.get $idx)))
        (local.set $s (i32.add (local.get $src) (i32.shl (i32.mul (local.get $p) (local.get $m)) (i32.const 3))))
        (local.set $sEnd (i32.add (local.get $s) (i32.shl (local.get $m) (i32.const 3))))
        (local.set $o (i32.add (local.get $w) (i32.shl (local.get $p) (i32.const 3))))
        (block $rowDone
          (loop $row
            (br_if $rowDone (i32.ge_u (local.get $s) (local.get $sEnd)))
            (f64.store (local.get $o) (f64.mul (f64.load (local.get $s)) (local.get $scale)))
            (local.set $s (i32.add (local.get $s) (i32.const 8)))
            (local.set $o (i32.add (local.get $o) (local.get $stride)))
            (br $row)))
        (local.set $idx (i32.add (local.get $idx) (i32.const 4)))
        (br $cols))))

  ;; Row and column maxima of |M| for M [r, c]: rowMax[i] = max_j |M[i, j]|, colMax[j] = max_i |M[i, j]|
  ;; (both overwritten; NaN ignored).
  (func (export "lineMaxAbs") (param $M i32) (param $r i32) (param $c i32) (param $rowMax i32) (param $colMax i32)
    (local $i i32) (local $col i32) (local $colEnd i32) (local $colEnd2 i32) (local $a v128) (local $rmx v128) (local $x f64) (local $best f64)
    (local.set $colEnd (i32.add (local.get $colMax) (i32.shl (local.get $c) (i32.const 3))))
    (local.set $colEnd2 (i32.add (local.get $colMax) (i32.shl (i32.and (local.get $c) (i32.const -2)) (i32.const 3))))
    (memory.fill (local.get $colMax) (i32.const 0) (i32.shl (local.get $c) (i32.const 3)))
    (local.set $i (i32.const 0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $r)))
        (local.set $rmx (v128.const i64x2 0 0))
        (local.set $col (local.get $colMax))
        (block $done
          (loop $pairs
            (br_if $done (i32.ge_u (local.get $col) (local.get $colEnd2)))
            (local.set $a (f64x2.abs (v128.load (local.get $M))))
            (local.set $rmx (f64x2.pmax (local.get $rmx) (local.get $a)))
            (v128.store (local.get $col) (f64x2.pmax (v128.load (local.get $col)) (local.get $a)))
            (local.set $M (i32.add (local.get $M) (i32.const 16)))
            (local.set $col (i32.add (local.get $col) (i32.const 16)))
            (br $pairs)))
        (local.set $best (call $maxLanes (local.get $rmx)))
        (if (i32.lt_u (local.get $col) (local.get $colEnd))
          (then
            (local.set $x (f64.abs (f64.load (local.get $M))))
            (local.set $best (call $maxIgnoringNaN (local.get $best) (local.get $x)))
            (f64.store (local.get $col) (call $maxIgnoringNaN (f64.load (local.get $col)) (local.get $x)))
            (local.set $M (i32.add (local.get $M) (i32.const 8)))))
        (f64.store (i32.add (local.get $rowMax) (i32.shl (local.get $i) (i32.const 3))) (local.get $best))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; sub = scale · M[rows, cols] [k, n] and its transpose subT [n, k], for M [·, c].
  (func (export "gatherSub")
    (param $sub i32) (param $subT i32) (param $M i32) (param $c i32)
    (param $rows i32) (param $k i32) (param $cols i32) (param $n i32) (param $scale f64)
    (local $a i32) (local $b i32) (local $src i32) (local $v f64) (local $colsEnd i32) (local $pc i32) (local $t i32)
    (local.set $colsEnd (i32.add (local.get $cols) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $a (i32.const 0))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $a) (local.get $k)))
        (local.set $src (i32.add (local.get $M)
          (i32.shl (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $a) (i32.const 2)))) (local.get $c)) (i32.const 3))))
        (local.set $t (i32.add (local.get $subT) (i32.shl (local.get $a) (i32.const 3))))
        (local.set $pc (local.get $cols))
        (block $done
          (loop $colLoop
            (br_if $done (i32.ge_u (local.get $pc) (local.get $colsEnd)))
            (local.set $v (f64.mul
              (f64.load (i32.add (local.get $src) (i32.shl (i32.load (local.get $pc)) (i32.const 3))))
              (local.get $scale)))
            (f64.store (local.get $sub) (local.get $v))
            (f64.store (local.get $t) (local.get $v))
            (local.set $sub (i32.add (local.get $sub) (i32.const 8)))
            (local.set $t (i32.add (local.get $t) (i32.shl (local.get $k) (i32.const 3))))
            (local.set $pc (i32.add (local.get $pc) (i32.const 4)))
            (br $colLoop)))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (br $rowLoop))))

  ;; Q[rows[a], cols[b]] = S[a, b] for S [k, n], Q [·, c]; other entries of Q untouched.
  (func (export "scatterSub")
    (param $Q i32) (param $c i32) (param $S i32) (param $rows i32) (param $k i32) (param $cols i32) (param $n i32)
    (local $a i32) (local $dst i32) (local $pc i32) (local $colsEnd i32)
    (local.set $colsEnd (i32.add (local.get $cols) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $a (i32.const 0))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $a) (local.get $k)))
        (local.set $dst (i32.add (local.get $Q)
          (i32.shl (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $a) (i32.const 2)))) (local.get $c)) (i32.const 3))))
        (local.set $pc (local.get $cols))
        (block $done
          (loop $colLoop
            (br_if $done (i32.ge_u (local.get $pc) (local.get $colsEnd)))
            (f64.store (i32.add (local.get $dst) (i32.shl (i32.load (local.get $pc)) (i32.const 3))) (f64.load (local.get $S)))
            (local.set $S (i32.add (local.get $S) (i32.const 8)))
            (local.set $pc (i32.add (local.get $pc) (i32.const 4)))
            (br $colLoop)))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (br $rowLoop))))

  ;; The symmetric eigenproblem S = V Λ Vᵀ for S [n, n] (numerics/eigen.ts): Householder
  ;; tridiagonalization with the reflectors accumulated (tred2), then the QL algorithm with implicit
  ;; shifts (tql2), then a selection sort into ascending order: the EISPACK pair as JAMA and
  ;; ml-matrix's EigenvalueDecomposition write it, operation for operation, so the results are theirs
  ;; bit for bit. Z [n, n] holds Vᵀ on exit (row e is the eigenvector of d[e]); e [n] is scratch.
  ;; Sums run in the reference's order, one scalar at a time; the element-wise updates (rank-2
  ;; updates, Givens rotations of two rows, row swaps) go two lanes at a time, which changes no
  ;; element's operations. Reads S, writes Z, d and e only.
  (func (export "symmetricEigen") (param $S i32) (param $Z i32) (param $d i32) (param $e i32) (param $n i32)
    (local $i i32) (local $k i32) (local $nb i32)
    (local.set $nb (i32.shl (local.get $n) (i32.const 3)))
    ;; Z = Sᵀ: Z[i, k] = S[k, i]
    (local.set $i (i32.const 0))
    (block $iDone
      (loop $iLoop
        (br_if $iDone (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $k (i32.const 0))
        (block $kDone
          (loop $kLoop
            (br_if $kDone (i32.ge_s (local.get $k) (local.get $n)))
            (f64.store
              (i32.add (local.get $Z) (i32.add (i32.mul (local.get $i) (local.get $nb)) (i32.shl (local.get $k) (i32.const 3))))
              (f64.load (i32.add (local.get $S) (i32.add (i32.mul (local.get $k) (local.get $nb)) (i32.shl (local.get $i) (i32.const 3))))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $kLoop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iLoop)))
    (call $tred2 (local.get $Z) (local.get $d) (local.get $e) (local.get $n))
    (call $tql2 (local.get $Z) (local.get $d) (local.get $e) (local.get $n)))

  ;; Householder tridiagonalization. On entry Z[i, k] = S[k, i]; on exit Z[i, k] = Q(k, i) for the
  ;; orthogonal Q with Qᵀ S Q tridiagonal, d its diagonal, e its off-diagonal (e[i] couples i − 1 and i).
  (func $tred2 (param $Z i32) (param $d i32) (param $e i32) (param $n i32)
    (local $nb i32) (local $i i32) (local $j i32) (local $k i32)
    (local $rowI i32) (local $rowJ i32) (local $p i32) (local $q i32) (local $dEnd i32) (local $eEnd i32)
    (local $scale f64) (local $h f64) (local $f f64) (local $g f64) (local $hh f64) (local $x f64)
    (local $fj f64) (local $gj f64) (local $vf v128) (local $vg v128)
    (local.set $nb (i32.shl (local.get $n) (i32.const 3)))
    ;; d = the last row of Z
    (memory.copy (local.get $d) (i32.add (local.get $Z) (i32.mul (i32.sub (local.get $n) (i32.const 1)) (local.get $nb))) (local.get $nb))
    (local.set $i (i32.sub (local.get $n) (i32.const 1)))
    (block $iDone
      (loop $iLoop
        (br_if $iDone (i32.le_s (local.get $i) (i32.const 0)))
        (local.set $rowI (i32.add (local.get $Z) (i32.mul (local.get $i) (local.get $nb))))
        (local.set $dEnd (i32.add (local.get $d) (i32.shl (local.get $i) (i32.const 3)))) ;; &d[i]
        (local.set $eEnd (i32.add (local.get $e) (i32.shl (local.get $i) (i32.const 3)))) ;; &e[i]
        ;; scale = Σ_{k<i} |d[k]|
        (local.set $scale (f64.const 0))
        (local.set $h (f64.const 0))
        (local.set $p (local.get $d))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $p) (local.get $dEnd)))
            (local.set $scale (f64.add (local.get $scale) (f64.abs (f64.load (local.get $p)))))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (br $next)))
        (if (f64.eq (local.get $scale) (f64.const 0))
          (then
            ;; row i is already reduced: e[i] = d[i − 1]; d[j] = Z[i − 1, j], Z[i, j] = Z[j, i] = 0 for j < i
            (f64.store (local.get $eEnd) (f64.load (i32.sub (local.get $dEnd) (i32.const 8))))
            (local.set $j (i32.const 0))
            (block $done
              (loop $next
                (br_if $done (i32.ge_s (local.get $j) (local.get $i)))
                (f64.store (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 3)))
                  (f64.load (i32.add (i32.sub (local.get $rowI) (local.get $nb)) (i32.shl (local.get $j) (i32.const 3)))))
                (f64.store (i32.add (local.get $rowI) (i32.shl (local.get $j) (i32.const 3))) (f64.const 0))
                (f64.store (i32.add (i32.add (local.get $Z) (i32.mul (local.get $j) (local.get $nb))) (i32.shl (local.get $i) (i32.const 3))) (f64.const 0))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $next))))
          (else
            ;; d[k] /= scale, h = Σ d[k]² (in order)
            (local.set $p (local.get $d))
            (block $done
              (loop $next
                (br_if $done (i32.ge_u (local.get $p) (local.get $dEnd)))
                (local.set $x (f64.div (f64.load (local.get $p)) (local.get $scale)))
                (f64.store (local.get $p) (local.get $x))
                (local.set $h (f64.add (local.get $h) (f64.mul (local.get $x) (local.get $x))))
                (local.set $p (i32.add (local.get $p) (i32.const 8)))
                (br $next)))
            ;; f = d[i − 1], g = ∓√h, e[i] = scale·g, h −= f·g, d[i − 1] = f − g: d[0..i) is now u
            (local.set $f (f64.load (i32.sub (local.get $dEnd) (i32.const 8))))
            (local.set $g (f64.sqrt (local.get $h)))
            (if (f64.gt (local.get $f) (f64.const 0)) (then (local.set $g (f64.neg (local.get $g)))))
            (f64.store (local.get $eEnd) (f64.mul (local.get $scale) (local.get $g)))
            (local.set $h (f64.sub (local.get $h) (f64.mul (local.get $f) (local.get $g))))
            (f64.store (i32.sub (local.get $dEnd) (i32.const 8)) (f64.sub (local.get $f) (local.get $g)))
            (memory.fill (local.get $e) (i32.const 0) (i32.shl (local.get $i) (i32.const 3)))
            ;; e ← A u over the leading i × i block (its lower half): for each j, g = e[j] + Z[j, j]·u_j
            ;; + Σ_{j<k<i} Z[j, k]·u_k, then e[k] += Z[j, k]·u_j for j < k < i, then e[j] = g
            (local.set $j (i32.const 0))
            (block $jDone
              (loop $jLoop
                (br_if $jDone (i32.ge_s (local.get $j) (local.get $i)))
                (local.set $rowJ (i32.add (local.get $Z) (i32.mul (local.get $j) (local.get $nb))))
                (local.set $f (f64.load (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 3)))))
                (f64.store (i32.add (local.get $rowI) (i32.shl (local.get $j) (i32.const 3))) (local.get $f))
                (local.set $g (f64.add
                  (f64.load (i32.add (local.get $e) (i32.shl (local.get $j) (i32.const 3))))
                  (f64.mul (f64.load (i32.add (local.get $rowJ) (i32.shl (local.get $j) (i32.const 3)))) (local.get $f))))
                (local.set $k (i32.add (local.get $j) (i32.const 1)))
                (local.set $p (i32.add (local.get $rowJ) (i32.shl (local.get $k) (i32.const 3)))) ;; &Z[j, k]
                (local.set $q (i32.add (local.get $d) (i32.shl (local.get $k) (i32.const 3)))) ;; &d[k]
                (block $done
                  (loop $next
                    (br_if $done (i32.ge_u (local.get $q) (local.get $dEnd)))
                    (local.set $g (f64.add (local.get $g) (f64.mul (f64.load (local.get $p)) (f64.load (local.get $q)))))
                    (local.set $p (i32.add (local.get $p) (i32.const 8)))
                    (local.set $q (i32.add (local.get $q) (i32.const 8)))
                    (br $next)))
                (local.set $p (i32.add (local.get $rowJ) (i32.shl (local.get $k) (i32.const 3)))) ;; &Z[j, k]
                (local.set $q (i32.add (local.get $e) (i32.shl (local.get $k) (i32.const 3)))) ;; &e[k]
                (local.set $vf (f64x2.splat (local.get $f)))
                (block $done
                  (loop $next
                    (br_if $done (i32.gt_u (i32.add (local.get $q) (i32.const 16)) (local.get $eEnd)))
                    (v128.store (local.get $q) (f64x2.add (v128.load (local.get $q)) (f64x2.mul (v128.load (local.get $p)) (local.get $vf))))
                    (local.set $p (i32.add (local.get $p) (i32.const 16)))
                    (local.set $q (i32.add (local.get $q) (i32.const 16)))
                    (br $next)))
                (if (i32.lt_u (local.get $q) (local.get $eEnd))
                  (then (f64.store (local.get $q) (f64.add (f64.load (local.get $q)) (f64.mul (f64.load (local.get $p)) (local.get $f))))))
                (f64.store (i32.add (local.get $e) (i32.shl (local.get $j) (i32.const 3))) (local.get $g))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $jLoop)))
            ;; p = A u / H (in e), f = uᵀ p (in order), K = f / 2H
            (local.set $f (f64.const 0))
            (local.set $p (local.get $e))
            (local.set $q (local.get $d))
            (block $done
              (loop $next
                (br_if $done (i32.ge_u (local.get $p) (local.get $eEnd)))
                (local.set $x (f64.div (f64.load (local.get $p)) (local.get $h)))
                (f64.store (local.get $p) (local.get $x))
                (local.set $f (f64.add (local.get $f) (f64.mul (local.get $x) (f64.load (local.get $q)))))
                (local.set $p (i32.add (local.get $p) (i32.const 8)))
                (local.set $q (i32.add (local.get $q) (i32.const 8)))
                (br $next)))
            (local.set $hh (f64.div (local.get $f) (f64.add (local.get $h) (local.get $h))))
            ;; w = p − K u (in e)
            (local.set $vf (f64x2.splat (local.get $hh)))
            (local.set $p (local.get $e))
            (local.set $q (local.get $d))
            (block $done
              (loop $next
                (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $eEnd)))
                (v128.store (local.get $p) (f64x2.sub (v128.load (local.get $p)) (f64x2.mul (local.get $vf) (v128.load (local.get $q)))))
                (local.set $p (i32.add (local.get $p) (i32.const 16)))
                (local.set $q (i32.add (local.get $q) (i32.const 16)))
                (br $next)))
            (if (i32.lt_u (local.get $p) (local.get $eEnd))
              (then (f64.store (local.get $p) (f64.sub (f64.load (local.get $p)) (f64.mul (local.get $hh) (f64.load (local.get $q)))))))
            ;; A ← A − u wᵀ − w uᵀ on the lower half: Z[j, k] −= u_j·w_k + w_j·u_k for j ≤ k < i;
            ;; then d[j] = Z[j, i − 1], Z[j, i] = 0
            (local.set $j (i32.const 0))
            (block $jDone
              (loop $jLoop
                (br_if $jDone (i32.ge_s (local.get $j) (local.get $i)))
                (local.set $rowJ (i32.add (local.get $Z) (i32.mul (local.get $j) (local.get $nb))))
                (local.set $fj (f64.load (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 3)))))
                (local.set $gj (f64.load (i32.add (local.get $e) (i32.shl (local.get $j) (i32.const 3)))))
                (local.set $vf (f64x2.splat (local.get $fj)))
                (local.set $vg (f64x2.splat (local.get $gj)))
                (local.set $p (i32.add (local.get $rowJ) (i32.shl (local.get $j) (i32.const 3)))) ;; &Z[j, j]
                (local.set $q (i32.shl (local.get $j) (i32.const 3))) ;; k·8
                (local.set $k (i32.shl (local.get $i) (i32.const 3))) ;; i·8
                (block $done
                  (loop $next
                    (br_if $done (i32.gt_u (i32.add (local.get $q) (i32.const 16)) (local.get $k)))
                    (v128.store (local.get $p) (f64x2.sub (v128.load (local.get $p))
                      (f64x2.add
                        (f64x2.mul (local.get $vf) (v128.load (i32.add (local.get $e) (local.get $q))))
                        (f64x2.mul (local.get $vg) (v128.load (i32.add (local.get $d) (local.get $q)))))))
                    (local.set $p (i32.add (local.get $p) (i32.const 16)))
                    (local.set $q (i32.add (local.get $q) (i32.const 16)))
                    (br $next)))
                (if (i32.lt_u (local.get $q) (local.get $k))
                  (then (f64.store (local.get $p) (f64.sub (f64.load (local.get $p))
                    (f64.add
                      (f64.mul (local.get $fj) (f64.load (i32.add (local.get $e) (local.get $q))))
                      (f64.mul (local.get $gj) (f64.load (i32.add (local.get $d) (local.get $q)))))))))
                (f64.store (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 3)))
                  (f64.load (i32.add (local.get $rowJ) (i32.shl (i32.sub (local.get $i) (i32.const 1)) (i32.const 3)))))
                (f64.store (i32.add (local.get $rowJ) (i32.shl (local.get $i) (i32.const 3))) (f64.const 0))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $jLoop)))))
        (f64.store (local.get $dEnd) (local.get $h))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $iLoop)))

    ;; Accumulate the reflectors into Q, from the first one on.
    (local.set $i (i32.const 0))
    (block $iDone
      (loop $iLoop
        (br_if $iDone (i32.ge_s (local.get $i) (i32.sub (local.get $n) (i32.const 1))))
        (local.set $rowI (i32.add (local.get $Z) (i32.mul (local.get $i) (local.get $nb))))
        ;; $dEnd: the end of the i + 1 entries k ≤ i, as a byte count
        (local.set $dEnd (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 3)))
        (f64.store (i32.add (local.get $rowI) (i32.shl (i32.sub (local.get $n) (i32.const 1)) (i32.const 3)))
          (f64.load (i32.add (local.get $rowI) (i32.shl (local.get $i) (i32.const 3)))))
        (f64.store (i32.add (local.get $rowI) (i32.shl (local.get $i) (i32.const 3))) (f64.const 1))
        (local.set $h (f64.load (i32.add (local.get $d) (local.get $dEnd)))) ;; d[i + 1]
        (if (f64.ne (local.get $h) (f64.const 0))
          (then
            ;; d[k] = Z[i + 1, k] / h for k ≤ i
            (local.set $q (i32.const 0))
            (block $done
              (loop $next
                (br_if $done (i32.ge_u (local.get $q) (local.get $dEnd)))
                (f64.store (i32.add (local.get $d) (local.get $q))
                  (f64.div (f64.load (i32.add (i32.add (local.get $rowI) (local.get $nb)) (local.get $q))) (local.get $h)))
                (local.set $q (i32.add (local.get $q) (i32.const 8)))
                (br $next)))
            ;; for j ≤ i: g = Σ_{k≤i} Z[i + 1, k]·Z[j, k] (in order), Z[j, k] −= g·d[k]
            (local.set $j (i32.const 0))
            (block $jDone
              (loop $jLoop
                (br_if $jDone (i32.gt_s (local.get $j) (local.get $i)))
                (local.set $rowJ (i32.add (local.get $Z) (i32.mul (local.get $j) (local.get $nb))))
                (local.set $g (f64.const 0))
                (local.set $q (i32.const 0))
                (block $done
                  (loop $next
                    (br_if $done (i32.ge_u (local.get $q) (local.get $dEnd)))
                    (local.set $g (f64.add (local.get $g)
                      (f64.mul
                        (f64.load (i32.add (i32.add (local.get $rowI) (local.get $nb)) (local.get $q)))
                        (f64.load (i32.add (local.get $rowJ) (local.get $q))))))
                    (local.set $q (i32.add (local.get $q) (i32.const 8)))
                    (br $next)))
                (local.set $vg (f64x2.splat (local.get $g)))
                (local.set $q (i32.const 0))
                (block $done
                  (loop $next
                    (br_if $done (i32.gt_u (i32.add (local.get $q) (i32.const 16)) (local.get $dEnd)))
                    (v128.store (i32.add (local.get $rowJ) (local.get $q))
                      (f64x2.sub (v128.load (i32.add (local.get $rowJ) (local.get $q)))
                        (f64x2.mul (local.get $vg) (v128.load (i32.add (local.get $d) (local.get $q))))))
                    (local.set $q (i32.add (local.get $q) (i32.const 16)))
                    (br $next)))
                (if (i32.lt_u (local.get $q) (local.get $dEnd))
                  (then (f64.store (i32.add (local.get $rowJ) (local.get $q))
                    (f64.sub (f64.load (i32.add (local.get $rowJ) (local.get $q)))
                      (f64.mul (local.get $g) (f64.load (i32.add (local.get $d) (local.get $q))))))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $jLoop)))))
        (memory.fill (i32.add (local.get $rowI) (local.get $nb)) (i32.const 0) (local.get $dEnd))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iLoop)))
    ;; d[j] = Z[j, n − 1], Z[j, n − 1] = 0; Z[n − 1, n − 1] = 1; e[0] = 0
    (local.set $j (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $j) (local.get $n)))
        (local.set $p (i32.add (i32.add (local.get $Z) (i32.mul (local.get $j) (local.get $nb))) (i32.sub (local.get $nb) (i32.const 8))))
        (f64.store (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 3))) (f64.load (local.get $p)))
        (f64.store (local.get $p) (f64.const 0))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next)))
    (f64.store (i32.sub (i32.add (local.get $Z) (i32.mul (local.get $n) (local.get $nb))) (i32.const 8)) (f64.const 1))
    (f64.store (local.get $e) (f64.const 0)))

  ;; The QL algorithm with implicit shifts on the tridiagonal (d, e), rotating Z's rows along; then
  ;; d ascending with Z's rows in the same order. A sub-diagonal entry counts as zero below
  ;; ε · (the largest |d_l| + |e_l| seen so far).
  (func $tql2 (param $Z i32) (param $d i32) (param $e i32) (param $n i32)
    (local $nb i32) (local $i i32) (local $l i32) (local $m i32) (local $j i32) (local $k i32)
    (local $pa i32) (local $pb i32) (local $end i32)
    (local $f f64) (local $tst1 f64) (local $eps f64) (local $g f64) (local $p f64) (local $r f64) (local $h f64)
    (local $c f64) (local $c2 f64) (local $c3 f64) (local $s f64) (local $s2 f64) (local $el1 f64) (local $dl1 f64)
    (local $ei f64) (local $di f64) (local $vc v128) (local $vs v128) (local $va v128) (local $vb v128)
    (local.set $nb (i32.shl (local.get $n) (i32.const 3)))
    (local.set $eps (f64.const 0x1p-52))
    ;; e[i − 1] = e[i], e[n − 1] = 0
    (memory.copy (local.get $e) (i32.add (local.get $e) (i32.const 8)) (i32.sub (local.get $nb) (i32.const 8)))
    (f64.store (i32.add (local.get $e) (i32.sub (local.get $nb) (i32.const 8))) (f64.const 0))
    (local.set $f (f64.const 0))
    (local.set $tst1 (f64.const 0))
    (local.set $l (i32.const 0))
    (block $lDone
      (loop $lLoop
        (br_if $lDone (i32.ge_s (local.get $l) (local.get $n)))
        (local.set $tst1 (f64.max (local.get $tst1)
          (f64.add (f64.abs (f64.load (i32.add (local.get $d) (i32.shl (local.get $l) (i32.const 3)))))
                   (f64.abs (f64.load (i32.add (local.get $e) (i32.shl (local.get $l) (i32.const 3))))))))
        ;; m: the first index from l on whose e counts as zero (n − 1 at most: e[n − 1] = 0, unless a NaN)
        (local.set $m (local.get $l))
        (block $mDone
          (loop $mLoop
            (br_if $mDone (i32.ge_s (local.get $m) (i32.sub (local.get $n) (i32.const 1))))
            (br_if $mDone (f64.le (f64.abs (f64.load (i32.add (local.get $e) (i32.shl (local.get $m) (i32.const 3)))))
              (f64.mul (local.get $eps) (local.get $tst1))))
            (local.set $m (i32.add (local.get $m) (i32.const 1)))
            (br $mLoop)))
        (if (i32.gt_s (local.get $m) (local.get $l))
          (then
            (loop $iterate
              ;; the shift, from the 2 × 2 at l
              (local.set $g (f64.load (i32.add (local.get $d) (i32.shl (local.get $l) (i32.const 3)))))
              (local.set $el1 (f64.load (i32.add (local.get $e) (i32.shl (local.get $l) (i32.const 3))))) ;; e[l], for now
              (local.set $p (f64.div
                (f64.sub (f64.load (i32.add (local.get $d) (i32.shl (i32.add (local.get $l) (i32.const 1)) (i32.const 3)))) (local.get $g))
                (f64.mul (f64.const 2) (local.get $el1))))
              (local.set $r (call $hypot (local.get $p) (f64.const 1)))
              (if (f64.lt (local.get $p) (f64.const 0)) (then (local.set $r (f64.neg (local.get $r)))))
              (f64.store (i32.add (local.get $d) (i32.shl (local.get $l) (i32.const 3)))
                (f64.div (local.get $el1) (f64.add (local.get $p) (local.get $r))))
              (local.set $dl1 (f64.mul (local.get $el1) (f64.add (local.get $p) (local.get $r))))
              (f64.store (i32.add (local.get $d) (i32.shl (i32.add (local.get $l) (i32.const 1)) (i32.const 3))) (local.get $dl1))
              (local.set $h (f64.sub (local.get $g) (f64.load (i32.add (local.get $d) (i32.shl (local.get $l) (i32.const 3))))))
              (local.set $i (i32.add (local.get $l) (i32.const 2)))
              (block $done
                (loop $next
                  (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
                  (local.set $pa (i32.add (local.get $d) (i32.shl (local.get $i) (i32.const 3))))
                  (f64.store (local.get $pa) (f64.sub (f64.load (local.get $pa)) (local.get $h)))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br $next)))
              (local.set $f (f64.add (local.get $f) (local.get $h)))
              ;; the implicit QL sweep from m − 1 up to l
              (local.set $p (f64.load (i32.add (local.get $d) (i32.shl (local.get $m) (i32.const 3)))))
              (local.set $c (f64.const 1))
              (local.set $c2 (local.get $c))
              (local.set $c3 (local.get $c))
              (local.set $el1 (f64.load (i32.add (local.get $e) (i32.shl (i32.add (local.get $l) (i32.const 1)) (i32.const 3)))))
              (local.set $s (f64.const 0))
              (local.set $s2 (f64.const 0))
              (local.set $i (i32.sub (local.get $m) (i32.const 1)))
              (block $sweepDone
                (loop $sweep
                  (br_if $sweepDone (i32.lt_s (local.get $i) (local.get $l)))
                  (local.set $c3 (local.get $c2))
                  (local.set $c2 (local.get $c))
                  (local.set $s2 (local.get $s))
                  (local.set $ei (f64.load (i32.add (local.get $e) (i32.shl (local.get $i) (i32.const 3)))))
                  (local.set $di (f64.load (i32.add (local.get $d) (i32.shl (local.get $i) (i32.const 3)))))
                  (local.set $g (f64.mul (local.get $c) (local.get $ei)))
                  (local.set $h (f64.mul (local.get $c) (local.get $p)))
                  (local.set $r (call $hypot (local.get $p) (local.get $ei)))
                  (f64.store (i32.add (local.get $e) (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 3))) (f64.mul (local.get $s) (local.get $r)))
                  (local.set $s (f64.div (local.get $ei) (local.get $r)))
                  (local.set $c (f64.div (local.get $p) (local.get $r)))
                  (local.set $p (f64.sub (f64.mul (local.get $c) (local.get $di)) (f64.mul (local.get $s) (local.get $g))))
                  (f64.store (i32.add (local.get $d) (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 3)))
                    (f64.add (local.get $h) (f64.mul (local.get $s) (f64.add (f64.mul (local.get $c) (local.get $g)) (f64.mul (local.get $s) (local.get $di))))))
                  ;; rotate rows i and i + 1 of Z: a' = c·a − s·b, b' = s·a + c·b
                  (local.set $vc (f64x2.splat (local.get $c)))
                  (local.set $vs (f64x2.splat (local.get $s)))
                  (local.set $pa (i32.add (local.get $Z) (i32.mul (local.get $i) (local.get $nb))))
                  (local.set $end (i32.add (local.get $pa) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
                  (block $done
                    (loop $next
                      (br_if $done (i32.ge_u (local.get $pa) (local.get $end)))
                      (local.set $pb (i32.add (local.get $pa) (local.get $nb)))
                      (local.set $va (v128.load (local.get $pa)))
                      (local.set $vb (v128.load (local.get $pb)))
                      (v128.store (local.get $pb) (f64x2.add (f64x2.mul (local.get $vs) (local.get $va)) (f64x2.mul (local.get $vc) (local.get $vb))))
                      (v128.store (local.get $pa) (f64x2.sub (f64x2.mul (local.get $vc) (local.get $va)) (f64x2.mul (local.get $vs) (local.get $vb))))
                      (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
                      (br $next)))
                  (if (i32.and (local.get $n) (i32.const 1))
                    (then
                      (local.set $pb (i32.add (local.get $pa) (local.get $nb)))
                      (local.set $g (f64.load (local.get $pa))) ;; a (g is free until the next step)
                      (local.set $di (f64.load (local.get $pb))) ;; b
                      (f64.store (local.get $pb) (f64.add (f64.mul (local.get $s) (local.get $g)) (f64.mul (local.get $c) (local.get $di))))
                      (f64.store (local.get $pa) (f64.sub (f64.mul (local.get $c) (local.get $g)) (f64.mul (local.get $s) (local.get $di))))))
                  (local.set $i (i32.sub (local.get $i) (i32.const 1)))
                  (br $sweep)))
              (local.set $p (f64.div
                (f64.mul (f64.mul (f64.mul (f64.mul (f64.neg (local.get $s)) (local.get $s2)) (local.get $c3)) (local.get $el1))
                  (f64.load (i32.add (local.get $e) (i32.shl (local.get $l) (i32.const 3)))))
                (local.get $dl1)))
              (f64.store (i32.add (local.get $e) (i32.shl (local.get $l) (i32.const 3))) (f64.mul (local.get $s) (local.get $p)))
              (f64.store (i32.add (local.get $d) (i32.shl (local.get $l) (i32.const 3))) (f64.mul (local.get $c) (local.get $p)))
              (br_if $iterate (f64.gt (f64.abs (f64.load (i32.add (local.get $e) (i32.shl (local.get $l) (i32.const 3)))))
                (f64.mul (local.get $eps) (local.get $tst1)))))))
        (local.set $pa (i32.add (local.get $d) (i32.shl (local.get $l) (i32.const 3))))
        (f64.store (local.get $pa) (f64.add (f64.load (local.get $pa)) (local.get $f)))
        (f64.store (i32.add (local.get $e) (i32.shl (local.get $l) (i32.const 3))) (f64.const 0))
        (local.set $l (i32.add (local.get $l) (i32.const 1)))
        (br $lLoop)))

    ;; selection sort into ascending order, swapping the matching rows of Z
    (local.set $i (i32.const 0))
    (block $iDone
      (loop $iLoop
        (br_if $iDone (i32.ge_s (local.get $i) (i32.sub (local.get $n) (i32.const 1))))
        (local.set $k (local.get $i))
        (local.set $p (f64.load (i32.add (local.get $d) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $j (i32.add (local.get $i) (i32.const 1)))
        (block $done
          (loop $next
            (br_if $done (i32.ge_s (local.get $j) (local.get $n)))
            (if (f64.lt (f64.load (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 3)))) (local.get $p))
              (then
                (local.set $k (local.get $j))
                (local.set $p (f64.load (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 3)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $next)))
        (if (i32.ne (local.get $k) (local.get $i))
          (then
            (f64.store (i32.add (local.get $d) (i32.shl (local.get $k) (i32.const 3)))
              (f64.load (i32.add (local.get $d) (i32.shl (local.get $i) (i32.const 3)))))
            (f64.store (i32.add (local.get $d) (i32.shl (local.get $i) (i32.const 3))) (local.get $p))
            (local.set $pa (i32.add (local.get $Z) (i32.mul (local.get $i) (local.get $nb))))
            (local.set $pb (i32.add (local.get $Z) (i32.mul (local.get $k) (local.get $nb))))
            (local.set $end (i32.add (local.get $pa) (local.get $nb)))
            (block $done
              (loop $next
                (br_if $done (i32.ge_u (local.get $pa) (local.get $end)))
                (local.set $g (f64.load (local.get $pa)))
                (f64.store (local.get $pa) (f64.load (local.get $pb)))
                (f64.store (local.get $pb) (local.get $g))
                (local.set $pa (i32.add (local.get $pa) (i32.const 8)))
                (local.set $pb (i32.add (local.get $pb) (i32.const 8)))
                (br $next)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iLoop))))

  ;; The triangular factor of a Householder QR of a tall matrix B [m, n] (m ≥ n) given by its
  ;; columns: cols [n, m] row-major holds column j of B as row j (the wide matrix Bᵀ as it is
  ;; stored). On exit cols holds ml-matrix's QrDecomposition state, column by column: above the
  ;; diagonal the entries of R (R[i, j] = cols[j, i] for i < j), and rdiag [n] R's diagonal. Each
  ;; column's norm accumulates by hypot, and the reflections subtract s·v from the later columns
  ;; with s = −⟨v, b_j⟩ / v_k, in the reference's order (sums one term at a time, the updates two
  ;; lanes at a time), so R is the reference's bit for bit.
  (func (export "householderR") (param $cols i32) (param $m i32) (param $n i32) (param $rdiag i32)
    (local $mb i32) (local $k i32) (local $j i32) (local $colK i32) (local $colJ i32)
    (local $p i32) (local $q i32) (local $start i32) (local $end i32)
    (local $nrm f64) (local $s f64) (local $vk f64) (local $vs v128) (local $vn v128)
    (local.set $mb (i32.shl (local.get $m) (i32.const 3)))
    (local.set $k (i32.const 0))
    (block $kDone
      (loop $kLoop
        (br_if $kDone (i32.ge_s (local.get $k) (local.get $n)))
        (local.set $colK (i32.add (local.get $cols) (i32.mul (local.get $k) (local.get $mb))))
        (local.set $start (i32.add (local.get $colK) (i32.shl (local.get $k) (i32.const 3)))) ;; &B[k, k]
        (local.set $end (i32.add (local.get $colK) (local.get $mb)))
        ;; ‖B[k.., k]‖ by hypot, in order
        (local.set $nrm (f64.const 0))
        (local.set $p (local.get $start))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $nrm (call $hypot (local.get $nrm) (f64.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (br $next)))
        (if (f64.ne (local.get $nrm) (f64.const 0))
          (then
            (if (f64.lt (f64.load (local.get $start)) (f64.const 0)) (then (local.set $nrm (f64.neg (local.get $nrm)))))
            ;; v = B[k.., k] / nrm, v_k += 1
            (local.set $vn (f64x2.splat (local.get $nrm)))
            (local.set $p (local.get $start))
            (block $done
              (loop $next
                (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
                (v128.store (local.get $p) (f64x2.div (v128.load (local.get $p)) (local.get $vn)))
                (local.set $p (i32.add (local.get $p) (i32.const 16)))
                (br $next)))
            (if (i32.lt_u (local.get $p) (local.get $end))
              (then (f64.store (local.get $p) (f64.div (f64.load (local.get $p)) (local.get $nrm)))))
            (f64.store (local.get $start) (f64.add (f64.load (local.get $start)) (f64.const 1)))
            (local.set $vk (f64.load (local.get $start)))
            ;; for each later column j: s = −⟨v, B[k.., j]⟩ / v_k, B[k.., j] += s·v
            (local.set $j (i32.add (local.get $k) (i32.const 1)))
            (block $jDone
              (loop $jLoop
                (br_if $jDone (i32.ge_s (local.get $j) (local.get $n)))
                (local.set $colJ (i32.add (local.get $cols) (i32.mul (local.get $j) (local.get $mb))))
                (local.set $s (f64.const 0))
                (local.set $p (local.get $start))
                (local.set $q (i32.add (local.get $colJ) (i32.shl (local.get $k) (i32.const 3))))
                (block $done
                  (loop $next
                    (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
                    (local.set $s (f64.add (local.get $s) (f64.mul (f64.load (local.get $p)) (f64.load (local.get $q)))))
                    (local.set $p (i32.add (local.get $p) (i32.const 8)))
                    (local.set $q (i32.add (local.get $q) (i32.const 8)))
                    (br $next)))
                (local.set $s (f64.div (f64.neg (local.get $s)) (local.get $vk)))
                (local.set $vs (f64x2.splat (local.get $s)))
                (local.set $p (local.get $start))
                (local.set $q (i32.add (local.get $colJ) (i32.shl (local.get $k) (i32.const 3))))
                (block $done
                  (loop $next
                    (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
                    (v128.store (local.get $q) (f64x2.add (v128.load (local.get $q)) (f64x2.mul (local.get $vs) (v128.load (local.get $p)))))
                    (local.set $p (i32.add (local.get $p) (i32.const 16)))
                    (local.set $q (i32.add (local.get $q) (i32.const 16)))
                    (br $next)))
                (if (i32.lt_u (local.get $p) (local.get $end))
                  (then (f64.store (local.get $q) (f64.add (f64.load (local.get $q)) (f64.mul (local.get $s) (f64.load (local.get $p)))))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $jLoop)))))
        (f64.store (i32.add (local.get $rdiag) (i32.shl (local.get $k) (i32.const 3))) (f64.neg (local.get $nrm)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $kLoop))))

  ;; √(a² + b²) without overflow or destructive underflow, as the reference forms it.
  (func $hypot (param $a f64) (param $b f64) (result f64)
    (local $aa f64) (local $ab f64) (local $r f64)
    (local.set $aa (f64.abs (local.get $a)))
    (local.set $ab (f64.abs (local.get $b)))
    (if (f64.gt (local.get $aa) (local.get $ab))
      (then
        (local.set $r (f64.div (local.get $b) (local.get $a)))
        (return (f64.mul (local.get $aa) (f64.sqrt (f64.add (f64.const 1) (f64.mul (local.get $r) (local.get $r))))))))
    (if (f64.ne (local.get $b) (f64.const 0))
      (then
        (local.set $r (f64.div (local.get $a) (local.get $b)))
        (return (f64.mul (local.get $ab) (f64.sqrt (f64.add (f64.const 1) (f64.mul (local.get $r) (local.get $r))))))))
    (f64.const 0))

  ;; max of the two lanes of a vector of maxima (neither is NaN: pmax never keeps one).
  (func $maxLanes (param $v v128) (result f64)
    (call $maxIgnoringNaN (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v))))

  ;; b if b > a, else a: `if (v > max) max = v`.
  (func $maxIgnoringNaN (param $a f64) (param $b f64) (result f64)
    (select (local.get $b) (local.get $a) (f64.gt (local.get $b) (local.get $a))))
)
