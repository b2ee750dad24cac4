/**
 * Byte-exact packets for the wire tests (checksums computed once with an independent Python
 * script and hard-coded). Not a test file itself.
 */

export function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

/** Linux SYN: 10.0.0.1:40000 > 10.0.0.2:80, id 0x4a3b, DF, the 20-byte Linux option block. */
export const LINUX_SYN = hex(`
  4500003c4a3b40004006dc7e0a0000010a0000029c400050ab406ec200000000
  a002faf0241a0000020405b40402080ab37baae30000000001030307`);

/** The SYN-ACK answering it: id 0, ack = ISN + 1, TS echo. */
export const LINUX_SYNACK = hex(`
  4500003c00004000400626ba0a0000020a00000100509c40499602d2ab406ec3
  a012fe88fd060000020405b40402080ae8cbee35b37baae301030307`);

/** PSH|ACK with "hello\n", TS and two SACK blocks (52-byte TCP header). */
export const DATA_TS_SACK = hex(`
  4500004e4a3c40004006dc6b0a0000010a0000029c400050ab406ec3499602d3
  d01801f69c9600000101080a000000050000000601010512000003e9000007d1
  00000bb900000fa168656c6c6f0a`);

/** IPv6 SYN fe80::1.40000 > fe80::2.80, mss 1440 and the rest of Linux's block. */
export const IPV6_SYN = hex(`
  6000000000280640fe800000000000000000000000000001fe80000000000000
  00000000000000029c4000500000000100000000a002fd20b1560000020405a0
  0402080a000000070000000001030307`);
