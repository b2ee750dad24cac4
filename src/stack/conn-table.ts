import type { Connection } from '../tcp/connection.js';
import { addrKeyOfText } from '../wire/addr.js';

/**
 * The exact-match 4-tuple table (DESIGN.md principle 11), keyed by numbers: a Map from a 30-bit
 * hash of (local address, local port, remote address, remote port) to the connection, or to a
 * small array of them when two tuples share a hash. No string is built per lookup or kept per
 * connection (a connection keeps its hash, Connection.tableHash); a lookup compares ports and
 * address texts to confirm the match.
 *
 * The address keys (wire/addr.ts addrKey) come from the parser (IpRepr.srcKey/dstKey) on input,
 * and from the text on the user calls.
 */
export class ConnTable {
  private readonly map = new Map<number, Connection | Connection[]>();
  private count = 0;
  /**
   * The connection the last lookup found: segments come in trains for one connection (a bulk
   * transfer, a request and its response), so the next lookup usually matches it with four
   * compares and no hash. Forgotten when it leaves the table.
   */
  private last: Connection | null = null;

  get size(): number {
    return this.count;
  }

  get(localAddr: string, localKey: number, localPort: number, remoteAddr: string, remoteKey: number, remotePort: number): Connection | undefined {
    const last = this.last;
    if (last !== null && matches(last, localAddr, localPort, remoteAddr, remotePort)) return last;
    const v = this.map.get(tupleHash(localKey, localPort, remoteKey, remotePort));
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) {
      if (!matches(v, localAddr, localPort, remoteAddr, remotePort)) return undefined;
      this.last = v;
      return v;
    }
    for (const c of v) {
      if (matches(c, localAddr, localPort, remoteAddr, remotePort)) {
        this.last = c;
        return c;
      }
    }
    return undefined;
  }

  /** get() from address texts (user calls; computes the keys). */
  find(localAddr: string, localPort: number, remoteAddr: string, remotePort: number): Connection | undefined {
    return this.get(localAddr, addrKeyOfText(localAddr), localPort, remoteAddr, addrKeyOfText(remoteAddr), remotePort);
  }

  /** Insert `c`, replacing a connection with the same 4-tuple. */
  set(c: Connection): void {
    this.last = null; // (it may be the connection c replaces)
    const h = (c.tableHash = hashOf(c)); // kept for delete: the addresses' keys cost a parse each
    const v = this.map.get(h);
    if (v === undefined) {
      this.map.set(h, c);
      this.count++;
      return;
    }
    if (!Array.isArray(v)) {
      if (v === c) return;
      if (sameTuple(v, c)) this.map.set(h, c);
      else {
        this.map.set(h, [v, c]);
        this.count++;
      }
      return;
    }
    for (let i = 0; i < v.length; i++) {
      if (v[i] === c) return;
      if (sameTuple(v[i]!, c)) {
        v[i] = c;
        return;
      }
    }
    v.push(c);
    this.count++;
  }

  /** Remove `c` if it is the one registered for its 4-tuple; true when removed. */
  delete(c: Connection): boolean {
    if (this.last === c) this.last = null;
    const h = c.tableHash >= 0 ? c.tableHash : hashOf(c);
    const v = this.map.get(h);
    if (v === undefined) return false;
    if (!Array.isArray(v)) {
      if (v !== c) return false;
      this.map.delete(h);
      this.count--;
      return true;
    }
    const i = v.indexOf(c);
    if (i < 0) return false;
    v.splice(i, 1);
    if (v.length === 1) this.map.set(h, v[0]!);
    this.count--;
    return true;
  }

  *values(): IterableIterator<Connection> {
    for (const v of this.map.values()) {
      if (Array.isArray(v)) yield* v;
      else yield v;
    }
  }
}

function matches(c: Connection, localAddr: string, localPort: number, remoteAddr: string, remotePort: number): boolean {
  return c.localPort === localPort && c.remotePort === remotePort && c.remoteAddr === remoteAddr && c.localAddr === localAddr;
}

function sameTuple(a: Connection, b: Connection): boolean {
  return matches(a, b.localAddr, b.localPort, b.remoteAddr, b.remotePort);
}

function hashOf(c: Connection): number {
  return tupleHash(addrKeyOfText(c.localAddr), c.localPort, addrKeyOfText(c.remoteAddr), c.remotePort);
}

/** A 30-bit mix of the 4-tuple (a small integer for V8 on every platform). */
export function tupleHash(localKey: number, localPort: number, remoteKey: number, remotePort: number): number {
  let h = Math.imul(localKey ^ 0x3c6ef372, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ remoteKey, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ ((localPort << 16) | remotePort), 0x27d4eb2f);
  h ^= h >>> 15;
  return h & 0x3fffffff;
}
