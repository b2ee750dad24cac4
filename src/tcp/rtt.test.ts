/**
 * RttEstimator against a transliteration of LINUX tcp_rtt_estimator and __tcp_set_rto (u32
 * fields, long samples, shifts): for any sequence of samples and round-trip boundaries the
 * smoothed RTT (srtt_us >> 3), the variance term (rttvar_us / 4) and the RTO come out the same,
 * whole microseconds. fast-check prints the seed and the shrunk sample list on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RttEstimator } from './rtt.js';

/** net/ipv4/tcp_input.c tcp_rtt_estimator, then tcp_set_rto without the backoff, in integers. */
class LinuxRtt {
  srttUs = 0; // u32
  mdevUs = 0;
  mdevMaxUs = 0;
  rttvarUs = 0;
  rttSeq = 0;
  rto = 0;
  sample(mrttUs: number, sndUna: number, sndNxt: number, rtoMinUs: number, rtoMaxUs: number): void {
    let m = mrttUs;
    let srtt = this.srttUs;
    if (srtt !== 0) {
      m -= srtt >>> 3;
      srtt += m;
      if (m < 0) {
        m = -m;
        m -= this.mdevUs >>> 2;
        if (m > 0) m >>= 3;
      } else {
        m -= this.mdevUs >>> 2;
      }
      this.mdevUs += m;
      if (this.mdevUs > this.mdevMaxUs) {
        this.mdevMaxUs = this.mdevUs;
        if (this.mdevMaxUs > this.rttvarUs) this.rttvarUs = this.mdevMaxUs;
      }
      if (((sndUna - this.rttSeq) | 0) > 0) {
        if (this.mdevMaxUs < this.rttvarUs) this.rttvarUs -= (this.rttvarUs - this.mdevMaxUs) >>> 2;
        this.rttSeq = sndNxt;
        this.mdevMaxUs = rtoMinUs;
      }
    } else {
      srtt = m << 3;
      this.mdevUs = m << 1;
      this.rttvarUs = Math.max(this.mdevUs, rtoMinUs);
      this.mdevMaxUs = this.rttvarUs;
      this.rttSeq = sndNxt;
    }
    this.srttUs = Math.max(1, srtt);
    this.rto = Math.min(rtoMaxUs, (this.srttUs >>> 3) + this.rttvarUs);
  }
}

test('RttEstimator computes what Linux tcp_rtt_estimator computes, in whole microseconds', () => {
  const sampleArb = fc.record({ rtt: fc.integer({ min: 0, max: 30_000_000 }), advance: fc.integer({ min: 0, max: 100_000 }) });
  fc.assert(
    fc.property(fc.array(sampleArb, { minLength: 1, maxLength: 60 }), fc.constantFrom(200_000, 5_000, 1_000), (samples, minRto) => {
      const ours = new RttEstimator(1_000_000);
      const linux = new LinuxRtt();
      let una = 1000;
      for (const s of samples) {
        const nxt = una + s.advance + 1;
        ours.sample(s.rtt, una, nxt, minRto, 120_000_000);
        linux.sample(s.rtt, una, nxt, minRto, 120_000_000);
        una += s.advance;
        assert.equal(ours.srtt, linux.srttUs >>> 3);
        assert.equal(ours.rttvar, linux.rttvarUs / 4);
        assert.equal(ours.rto, linux.rto);
        assert.ok(Number.isInteger(ours.srtt) && Number.isInteger(ours.rto));
      }
    }),
    { numRuns: 300 },
  );
});

test('RttEstimator: the first sample sets RTO = 3 x RTT (RFC 6298 §2.2), floored by the minimum', () => {
  const r = new RttEstimator(1_000_000);
  r.sample(100_000, 1, 2, 200_000, 120_000_000);
  assert.equal(r.srtt, 100_000);
  assert.equal(r.rto, 300_000);
  const s = new RttEstimator(1_000_000);
  s.sample(10_000, 1, 2, 200_000, 120_000_000);
  assert.equal(s.rto, 210_000); // SRTT + max(2 x RTT, rto_min)
});
