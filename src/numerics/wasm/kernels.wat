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
;; Last, the f64 engine's first-layer transposes (gatherColumns, scatterColumns) and maxAbs, and
;; the polar factor's bookkeeping (lineMaxAbs, gatherSub, scatterSub).
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

  ;; max of the two lanes of a vector of maxima (neither is NaN: pmax never keeps one).
  (func $maxLanes (param $v v128) (result f64)
    (call $maxIgnoringNaN (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v))))

  ;; b if b > a, else a: `if (v > max) max = v`.
  (func $maxIgnoringNaN (param $a f64) (param $b f64) (result f64)
    (select (local.get $b) (local.get $a) (f64.gt (local.get $b) (local.get $a))))
)
