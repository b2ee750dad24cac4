(module
  (memory (export "memory") 2)
  ;; sum(ptr, len): the one's complement sum of mem[ptr, ptr+len) taken as little-endian 16-bit
  ;; words (len even; ptr 16-aligned not required), folded to 16 bits.
  (func (export "sum") (param $p i32) (param $len i32) (result i32)
    (local $end i32) (local $chunkEnd i32) (local $acc v128) (local $wide v128) (local $s i64)
    (local.set $end (i32.add (local.get $p) (i32.and (local.get $len) (i32.const -16))))
    (local.set $wide (v128.const i64x2 0 0))
    (block $done
      (loop $outer
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        ;; at most 16384 vectors per chunk: each i32 lane grows by < 2^17 per vector
        (local.set $chunkEnd (i32.add (local.get $p) (i32.const 262144)))
        (if (i32.gt_u (local.get $chunkEnd) (local.get $end)) (then (local.set $chunkEnd (local.get $end))))
        (local.set $acc (v128.const i64x2 0 0))
        (loop $inner
          (local.set $acc (i32x4.add (local.get $acc) (i32x4.extadd_pairwise_i16x8_u (v128.load (local.get $p)))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $inner (i32.lt_u (local.get $p) (local.get $chunkEnd))))
        (local.set $wide (i64x2.add (local.get $wide) (i64x2.extend_low_i32x4_u (local.get $acc))))
        (local.set $wide (i64x2.add (local.get $wide) (i64x2.extend_high_i32x4_u (local.get $acc))))
        (br $outer)))
    (local.set $s (i64.add (i64x2.extract_lane 0 (local.get $wide)) (i64x2.extract_lane 1 (local.get $wide))))
    ;; the tail: fewer than 16 bytes, as 16-bit words (len even)
    (local.set $end (i32.add (local.get $end) (i32.and (local.get $len) (i32.const 15))))
    (block $t (loop $tl
      (br_if $t (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $s (i64.add (local.get $s) (i64.load16_u (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 2)))
      (br $tl)))
    ;; fold 64 → 16 bits
    (local.set $s (i64.add (i64.and (local.get $s) (i64.const 0xffffffff)) (i64.shr_u (local.get $s) (i64.const 32))))
    (local.set $s (i64.add (i64.and (local.get $s) (i64.const 0xffff)) (i64.shr_u (local.get $s) (i64.const 16))))
    (local.set $s (i64.add (i64.and (local.get $s) (i64.const 0xffff)) (i64.shr_u (local.get $s) (i64.const 16))))
    (local.set $s (i64.add (i64.and (local.get $s) (i64.const 0xffff)) (i64.shr_u (local.get $s) (i64.const 16))))
    (i32.wrap_i64 (local.get $s))))
