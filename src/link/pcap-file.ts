/** A pcap capture written to a file with node:fs (Node only; the format is in pcap.ts). */
import { closeSync, openSync, writeSync } from 'node:fs';
import { PcapWriter } from './pcap.js';

/** A capture file written synchronously with node:fs (fine for a CLI; not for a hot path). */
export function pcapFile(
  path: string,
  opts: { snaplen?: number; linktype?: number } = {},
): {
  /** The writer: give it to `pcapLink`, or call `write` yourself. */
  writer: PcapWriter;
  /** Close the file (idempotent). */
  close(): void;
} {
  let fd: number | undefined = openSync(path, 'w');
  const writer = new PcapWriter((chunk) => {
    if (fd === undefined) throw new Error(`pcap file ${path} is closed`);
    let off = 0;
    while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
  }, opts);
  return {
    writer,
    close(): void {
      if (fd !== undefined) {
        closeSync(fd);
        fd = undefined;
      }
    },
  };
}
