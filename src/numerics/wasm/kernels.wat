;; margin-bench float64 kernels, WebAssembly with 128-bit SIMD (f64x2).
;;
;; One routine serves the sparse first layer of the f64 engine and the dense products of the
;; polar factor: every output row is a weighted sum of source rows,
;;
;;   out[r, 0..m) = Σ_{q ∈ row r} val[q] · src[j(q), 0..m)
;;
;; sparse: row r's terms are q ∈ [rowStart[r], rowStart[r+1]) and j(q) = idx[q] (CSR);
;; dense (rowStart = 0): row r's terms are q ∈ [r·kd, r·kd + kd) and j(q) = idx[q − r·kd], where
;;   the caller passes idx = 0, 1, …, kd − 1, so that out = A · src with A = val as [nrows, kd].
;; Both modes walk the same inner loop (a per-term branch or call costs 2.5× here).
;;
;; The output row is done in column blocks of 16 doubles held in eight f64x2 accumulators for the
;; whole sum (each output element is stored once, each source element loaded once per block),
;; then blocks of 2, then one scalar column when m is odd. The summation order over q is the
;; plain left-to-right order, so a block's result does not depend on the block size.
;;
;; All pointers are byte offsets into the exported memory; f64 arrays 8-byte aligned.
(module
  (memory (export "memory") 1)

  (func (export "rowCombine")
    (param $out i32) (param $m i32) (param $src i32) (param $val i32)
    (param $idx i32) (param $rowStart i32) (param $nrows i32) (param $kd i32)
    (local $r i32) (local $s i32) (local $e i32) (local $k i32)
    (local $o i32) (local $p i32) (local $rowBytes i32) (local $col i32)
    (local $pv i32) (local $pvEnd i32) (local $pi i32) (local $piRow i32) (local $pvRow i32)
    (local $v v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
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
        (local.set $k (i32.const 0))

        ;; blocks of 16 columns
        (block $b16Done
          (loop $b16
            (br_if $b16Done (i32.gt_u (i32.add (local.get $k) (i32.const 16)) (local.get $m)))
            (local.set $a0 (v128.const i64x2 0 0)) (local.set $a1 (v128.const i64x2 0 0))
            (local.set $a2 (v128.const i64x2 0 0)) (local.set $a3 (v128.const i64x2 0 0))
            (local.set $a4 (v128.const i64x2 0 0)) (local.set $a5 (v128.const i64x2 0 0))
            (local.set $a6 (v128.const i64x2 0 0)) (local.set $a7 (v128.const i64x2 0 0))
            (local.set $col (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 3))))
            (local.set $pv (local.get $pvRow))
            (local.set $pi (local.get $piRow))
            (block $termsDone
              (loop $terms
                (br_if $termsDone (i32.ge_u (local.get $pv) (local.get $pvEnd)))
                (local.set $v (f64x2.splat (f64.load (local.get $pv))))
                (local.set $p (i32.add (local.get $col) (i32.mul (local.get $rowBytes) (i32.load (local.get $pi)))))
                (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $v) (v128.load offset=0 (local.get $p)))))
                (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $v) (v128.load offset=16 (local.get $p)))))
                (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $v) (v128.load offset=32 (local.get $p)))))
                (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $v) (v128.load offset=48 (local.get $p)))))
                (local.set $a4 (f64x2.add (local.get $a4) (f64x2.mul (local.get $v) (v128.load offset=64 (local.get $p)))))
                (local.set $a5 (f64x2.add (local.get $a5) (f64x2.mul (local.get $v) (v128.load offset=80 (local.get $p)))))
                (local.set $a6 (f64x2.add (local.get $a6) (f64x2.mul (local.get $v) (v128.load offset=96 (local.get $p)))))
                (local.set $a7 (f64x2.add (local.get $a7) (f64x2.mul (local.get $v) (v128.load offset=112 (local.get $p)))))
                (local.set $pv (i32.add (local.get $pv) (i32.const 8)))
                (local.set $pi (i32.add (local.get $pi) (i32.const 4)))
                (br $terms)))
            (local.set $p (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 3))))
            (v128.store offset=0 (local.get $p) (local.get $a0))
            (v128.store offset=16 (local.get $p) (local.get $a1))
            (v128.store offset=32 (local.get $p) (local.get $a2))
            (v128.store offset=48 (local.get $p) (local.get $a3))
            (v128.store offset=64 (local.get $p) (local.get $a4))
            (v128.store offset=80 (local.get $p) (local.get $a5))
            (v128.store offset=96 (local.get $p) (local.get $a6))
            (v128.store offset=112 (local.get $p) (local.get $a7))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $b16)))

        ;; blocks of 2 columns
        (block $b2Done
          (loop $b2
            (br_if $b2Done (i32.gt_u (i32.add (local.get $k) (i32.const 2)) (local.get $m)))
            (local.set $a0 (v128.const i64x2 0 0))
            (local.set $col (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 3))))
            (local.set $pv (local.get $pvRow))
            (local.set $pi (local.get $piRow))
            (block $termsDone
              (loop $terms
                (br_if $termsDone (i32.ge_u (local.get $pv) (local.get $pvEnd)))
                (local.set $v (f64x2.splat (f64.load (local.get $pv))))
                (local.set $p (i32.add (local.get $col) (i32.mul (local.get $rowBytes) (i32.load (local.get $pi)))))
                (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $v) (v128.load (local.get $p)))))
                (local.set $pv (i32.add (local.get $pv) (i32.const 8)))
                (local.set $pi (i32.add (local.get $pi) (i32.const 4)))
                (br $terms)))
            (v128.store (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 3))) (local.get $a0))
            (local.set $k (i32.add (local.get $k) (i32.const 2)))
            (br $b2)))

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
)
