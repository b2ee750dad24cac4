/**
 * Inbound port forwards (slirp's hostfwd, pasta's -t/-u): a host listener per forwarded port on
 * its bind address (127.0.0.1 unless told otherwise), each host connection relayed into the guest
 * through a synack connection to the guest's address (from the gateway address, as slirp's come
 * from 10.0.2.2); UDP: one synack socket per host peer, bounded, replies sent back to that peer.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { NodeDriver } from '../driver/node-driver.js';
import type { Stack } from '../stack/stack.js';
import type { UdpSocket } from '../udp/socket.js';
import { guestPortFor, type PortForward } from './forward-spec.js';
import { ReadBuffer, Splice } from './splice.js';

export interface InboundCounters {
  tcpConnections: number;
  tcpRefused: number;
  udpDatagramsIn: number;
  udpDatagramsOut: number;
  udpPeersEvicted: number;
}

/** Host peers of one UDP forward that have a synack socket (oldest evicted beyond this). */
const MAX_UDP_PEERS = 256;

export class Inbound {
  readonly counters: InboundCounters = { tcpConnections: 0, tcpRefused: 0, udpDatagramsIn: 0, udpDatagramsOut: 0, udpPeersEvicted: 0 };
  /** The host clients are node:net Sockets: their splices share one read buffer (splice.ts). */
  private readonly readBuf = new ReadBuffer();
  readonly bound: { protocol: 'tcp' | 'udp'; bindAddr: string; hostPort: number; guestPort: number }[] = [];
  private readonly closers: (() => void)[] = [];

  constructor(
    private readonly o: { stack: Stack; driver: NodeDriver; kick: () => void; guestAddress: () => string },
  ) {}

  /** Listen on every host port of every forward; rejects (EADDRINUSE …) naming the forward. */
  async listen(forwards: readonly PortForward[]): Promise<void> {
    for (const f of forwards) {
      for (let i = 0; i < f.count; i++) {
        const hostPort = f.hostPort + i;
        const guestPort = guestPortFor(f, hostPort)!;
        const port = f.protocol === 'tcp' ? await this.tcp(f.bindAddr, hostPort, guestPort) : await this.udp(f.bindAddr, hostPort, guestPort);
        this.bound.push({ protocol: f.protocol, bindAddr: f.bindAddr, hostPort: port, guestPort });
      }
    }
  }

  private tcp(bindAddr: string, hostPort: number, guestPort: number): Promise<number> {
    const srv = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (h) => {
      this.counters.tcpConnections++;
      const gAddr = this.o.guestAddress();
      let g;
      try {
        g = this.o.stack.connect({ remoteAddress: gAddr, remotePort: guestPort });
      } catch {
        this.counters.tcpRefused++;
        h.resetAndDestroy();
        return;
      }
      // Until the guest answers: a refusal (RST) resets the host client the same way.
      g.onError = () => {
        this.counters.tcpRefused++;
        h.resetAndDestroy();
      };
      h.on('error', () => {
        if (g.state !== 'CLOSED') g.abort();
      });
      g.onConnect = () => {
        new Splice(g, h, this.o.kick, () => {}, this.readBuf);
        h.resume();
      };
      this.o.kick();
    });
    this.closers.push(() => srv.close());
    return new Promise((resolve, reject) => {
      srv.once('error', (e: Error) => reject(new Error(`--forward tcp:${bindAddr}:${hostPort}:${guestPort}: ${e.message}`)));
      srv.listen(hostPort, bindAddr, () => resolve((srv.address() as net.AddressInfo).port));
    });
  }

  private udp(bindAddr: string, hostPort: number, guestPort: number): Promise<number> {
    const host = dgram.createSocket(bindAddr.includes(':') ? 'udp6' : 'udp4');
    const peers = new Map<string, UdpSocket>();
    host.on('message', (msg, rinfo) => {
      const key = `${rinfo.address} ${rinfo.port}`;
      let s = peers.get(key);
      if (s === undefined) {
        if (peers.size >= MAX_UDP_PEERS) {
          const [oldKey, old] = peers.entries().next().value as [string, UdpSocket];
          old.close();
          peers.delete(oldKey);
          this.counters.udpPeersEvicted++;
        }
        const gAddr = this.o.guestAddress();
        const sock = this.o.stack.udp.open(gAddr.includes(':') ? 6 : 4);
        sock.connect(gAddr, guestPort);
        sock.onReadable = () => {
          for (let d = sock.recv(); d !== null; d = sock.recv()) {
            this.counters.udpDatagramsOut++;
            host.send(d.data, rinfo.port, rinfo.address);
          }
        };
        peers.set(key, sock);
        s = sock;
      }
      this.counters.udpDatagramsIn++;
      try {
        s.send(new Uint8Array(msg.buffer, msg.byteOffset, msg.length));
      } catch {
        // ENETUNREACH and the like: the datagram is lost, as UDP allows.
      }
      this.o.kick();
    });
    this.closers.push(() => {
      for (const s of peers.values()) s.close();
      host.close();
    });
    return new Promise((resolve, reject) => {
      host.once('error', (e: Error) => reject(new Error(`--forward udp:${bindAddr}:${hostPort}:${guestPort}: ${e.message}`)));
      host.bind(hostPort, bindAddr, () => resolve(host.address().port));
    });
  }

  close(): void {
    for (const c of this.closers) {
      try {
        c();
      } catch {
        // already closed
      }
    }
    this.closers.length = 0;
  }
}
