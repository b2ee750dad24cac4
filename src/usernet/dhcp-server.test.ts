/**
 * The DHCP server on virtual time: the DISCOVER/OFFER/REQUEST/ACK exchange, the three kinds of
 * REQUEST (RFC 2131 §4.3.2), NAK, RELEASE, DECLINE, INFORM, lease expiry and reuse, the bounded
 * pool, and the reply destinations of RFC 2131 §4.1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sec } from '../time.js';
import {
  BootpOp,
  DHCP_FLAG_BROADCAST,
  DhcpOpt,
  DhcpType,
  dhcpAddrOption,
  dhcpMessageType,
  dhcpTextOption,
  dhcpU32Option,
  emitDhcp,
  newDhcpMessage,
  parseDhcp,
  type DhcpMessage,
} from '../wire/dhcp.js';
import { DhcpServer, type DhcpReply } from './dhcp-server.js';

function server(extra: Partial<ConstructorParameters<typeof DhcpServer>[0]> = {}): DhcpServer {
  return new DhcpServer({ serverAddr: '10.0.2.2', prefixLength: 24, poolStart: '10.0.2.15', poolSize: 4, dns: ['10.0.2.3'], mtu: 1500, ...extra });
}

interface Ask {
  type: number;
  mac?: number;
  xid?: number;
  requested?: string;
  serverId?: string;
  ciaddr?: string;
  broadcast?: boolean;
  clientId?: Uint8Array;
}

function msg(a: Ask): Uint8Array {
  const m = newDhcpMessage();
  m.op = BootpOp.REQUEST;
  m.xid = a.xid ?? 0x1000 + (a.mac ?? 1);
  m.flags = a.broadcast ? DHCP_FLAG_BROADCAST : 0;
  m.chaddr.set([0x52, 0x54, 0, 0, 0, a.mac ?? 1]);
  if (a.ciaddr) m.ciaddr.set(a.ciaddr.split('.').map(Number));
  m.options.set(DhcpOpt.MESSAGE_TYPE, new Uint8Array([a.type]));
  if (a.requested) m.options.set(DhcpOpt.REQUESTED_ADDR, new Uint8Array(a.requested.split('.').map(Number)));
  if (a.serverId) m.options.set(DhcpOpt.SERVER_ID, new Uint8Array(a.serverId.split('.').map(Number)));
  if (a.clientId) m.options.set(DhcpOpt.CLIENT_ID, a.clientId);
  return emitDhcp(m);
}

function parsed(r: DhcpReply | null): DhcpMessage {
  assert.ok(r !== null, 'expected a reply');
  const m = parseDhcp(r.payload);
  assert.equal(typeof m, 'object');
  return m as DhcpMessage;
}

function yi(r: DhcpReply | null): string {
  return parsed(r).yiaddr.join('.');
}

/** DISCOVER then REQUEST (SELECTING); returns the ACKed address. */
function lease(s: DhcpServer, mac: number, now: number): string {
  const offer = s.handle(msg({ type: DhcpType.DISCOVER, mac }), now);
  const addr = yi(offer);
  const ack = s.handle(msg({ type: DhcpType.REQUEST, mac, requested: addr, serverId: '10.0.2.2' }), now);
  assert.equal(dhcpMessageType(parsed(ack)), DhcpType.ACK);
  return addr;
}

test('DISCOVER gets an OFFER with the configured options; REQUEST gets the ACK', () => {
  const s = server();
  const offer = s.handle(msg({ type: DhcpType.DISCOVER, mac: 7 }), 0);
  const o = parsed(offer);
  assert.equal(dhcpMessageType(o), DhcpType.OFFER);
  assert.equal(o.op, BootpOp.REPLY);
  assert.equal(o.xid, 0x1007);
  assert.equal(yi(offer), '10.0.2.15');
  assert.equal(dhcpAddrOption(o, DhcpOpt.SERVER_ID), '10.0.2.2');
  assert.equal(dhcpAddrOption(o, DhcpOpt.SUBNET_MASK), '255.255.255.0');
  assert.equal(dhcpAddrOption(o, DhcpOpt.ROUTER), '10.0.2.2');
  assert.equal(dhcpAddrOption(o, DhcpOpt.DNS), '10.0.2.3');
  assert.deepEqual([...o.options.get(DhcpOpt.MTU)!], [0x05, 0xdc]);
  assert.equal(dhcpU32Option(o, DhcpOpt.LEASE_TIME), 86400);
  assert.equal(dhcpU32Option(o, DhcpOpt.RENEWAL_TIME), 43200);
  assert.equal(dhcpU32Option(o, DhcpOpt.REBINDING_TIME), 75600);
  assert.equal(o.options.get(DhcpOpt.BOOTFILE), undefined);
  assert.equal(dhcpTextOption(parsed(server({ bootFile: 'http://boot.test/x' }).handle(msg({ type: DhcpType.DISCOVER, mac: 7 }), 0)), DhcpOpt.BOOTFILE), 'http://boot.test/x');
  // RFC 2131 §4.1: no broadcast bit, no ciaddr: unicast to yiaddr at the client's MAC.
  assert.equal(offer!.dst, '10.0.2.15');
  assert.equal(offer!.dstPort, 68);
  assert.deepEqual([...offer!.dstMac!], [0x52, 0x54, 0, 0, 0, 7]);
  assert.equal(s.leases(0)[0]!.state, 'offered');
  const ack = s.handle(msg({ type: DhcpType.REQUEST, mac: 7, requested: '10.0.2.15', serverId: '10.0.2.2', broadcast: true }), sec(1));
  assert.equal(dhcpMessageType(parsed(ack)), DhcpType.ACK);
  assert.equal(ack!.dst, '255.255.255.255');
  assert.equal(ack!.dstMac, null);
  assert.deepEqual(s.leases(sec(1)).map((l) => [l.addr, l.state, l.chaddr]), [['10.0.2.15', 'bound', '52:54:00:00:00:07']]);
  assert.equal(s.leases(sec(1))[0]!.expires, sec(1) + sec(86400));
  assert.deepEqual(s.counters.received, { DISCOVER: 1, REQUEST: 1 });
  assert.deepEqual(s.counters.sent, { OFFER: 1, ACK: 1 });
});

test('each client gets its own address, keyed by client id before chaddr (RFC 2131 §4.2)', () => {
  const s = server();
  assert.equal(lease(s, 1, 0), '10.0.2.15');
  assert.equal(lease(s, 2, 0), '10.0.2.16');
  assert.equal(lease(s, 1, 0), '10.0.2.15');
  // The same MAC with a client identifier is another client.
  const offer = s.handle(msg({ type: DhcpType.DISCOVER, mac: 1, clientId: new Uint8Array([0, 1, 2, 3]) }), 0);
  assert.equal(yi(offer), '10.0.2.17');
  // RFC 6842: the client identifier is echoed.
  assert.deepEqual([...parsed(offer).options.get(DhcpOpt.CLIENT_ID)!], [0, 1, 2, 3]);
});

test('a requested address is offered when free', () => {
  const s = server();
  assert.equal(yi(s.handle(msg({ type: DhcpType.DISCOVER, mac: 1, requested: '10.0.2.17' }), 0)), '10.0.2.17');
  // Taken by client 1's offer: client 2 gets the first free one.
  assert.equal(yi(s.handle(msg({ type: DhcpType.DISCOVER, mac: 2, requested: '10.0.2.17' }), 0)), '10.0.2.15');
  // Outside the pool: ignored.
  assert.equal(yi(s.handle(msg({ type: DhcpType.DISCOVER, mac: 3, requested: '10.0.2.200' }), 0)), '10.0.2.16');
});

test('the pool bounds the table: a full pool offers nothing until a lease expires', () => {
  const s = server();
  for (let mac = 1; mac <= 4; mac++) lease(s, mac, 0);
  assert.equal(s.handle(msg({ type: DhcpType.DISCOVER, mac: 9 }), sec(10)), null);
  assert.equal(s.counters.dropped['dhcp-pool-exhausted'], 1);
  assert.equal(s.leases(sec(10)).length, 4);
  // One day later every lease has expired; client 9 takes the first address, counted as reclaimed.
  const offer = s.handle(msg({ type: DhcpType.DISCOVER, mac: 9 }), sec(86400));
  assert.equal(yi(offer), '10.0.2.15');
  assert.equal(s.counters.reclaimed, 1);
  assert.deepEqual(s.leases(sec(86400)).map((l) => [l.addr, l.chaddr]), [['10.0.2.15', '52:54:00:00:00:09']]);
});

test('an unanswered offer is held for offerHold, then the address goes to someone else', () => {
  const s = server({ poolSize: 1 });
  assert.equal(yi(s.handle(msg({ type: DhcpType.DISCOVER, mac: 1 }), 0)), '10.0.2.15');
  assert.equal(s.handle(msg({ type: DhcpType.DISCOVER, mac: 2 }), sec(59)), null);
  assert.equal(yi(s.handle(msg({ type: DhcpType.DISCOVER, mac: 2 }), sec(60))), '10.0.2.15');
  // Client 1's late REQUEST is refused: the address is client 2's now.
  const nak = s.handle(msg({ type: DhcpType.REQUEST, mac: 1, requested: '10.0.2.15', serverId: '10.0.2.2' }), sec(61));
  assert.equal(dhcpMessageType(parsed(nak)), DhcpType.NAK);
  // RFC 2131 §4.1: a NAK is broadcast when giaddr is zero; it carries no address and no lease.
  assert.equal(nak!.dst, '255.255.255.255');
  assert.equal(yi(nak), '0.0.0.0');
  assert.equal(parsed(nak).options.get(DhcpOpt.LEASE_TIME), undefined);
});

test('SELECTING: a REQUEST naming another server withdraws our offer', () => {
  const s = server({ poolSize: 1 });
  s.handle(msg({ type: DhcpType.DISCOVER, mac: 1 }), 0);
  assert.equal(s.handle(msg({ type: DhcpType.REQUEST, mac: 1, requested: '10.0.2.15', serverId: '10.0.2.99' }), 0), null);
  assert.equal(s.counters.dropped['dhcp-other-server'], 1);
  assert.equal(s.leases(0).length, 0);
  assert.equal(yi(s.handle(msg({ type: DhcpType.DISCOVER, mac: 2 }), 0)), '10.0.2.15');
});

test('INIT-REBOOT: the remembered address is confirmed, another network is refused', () => {
  const s = server();
  const a = lease(s, 1, 0);
  const ack = s.handle(msg({ type: DhcpType.REQUEST, mac: 1, requested: a }), sec(100));
  assert.equal(dhcpMessageType(parsed(ack)), DhcpType.ACK);
  const nak = s.handle(msg({ type: DhcpType.REQUEST, mac: 1, requested: '192.168.1.50' }), sec(100));
  assert.equal(dhcpMessageType(parsed(nak)), DhcpType.NAK);
  // Someone else's address is refused.
  const b = lease(s, 2, 0);
  assert.equal(dhcpMessageType(parsed(s.handle(msg({ type: DhcpType.REQUEST, mac: 1, requested: b }), sec(100)))), DhcpType.NAK);
});

test('RENEWING extends the lease and is answered by unicast to ciaddr', () => {
  const s = server({ leaseTime: sec(600) });
  const a = lease(s, 1, 0);
  const ack = s.handle(msg({ type: DhcpType.REQUEST, mac: 1, ciaddr: a }), sec(300));
  const m = parsed(ack);
  assert.equal(dhcpMessageType(m), DhcpType.ACK);
  assert.equal(ack!.dst, a);
  assert.equal(ack!.dstMac, null);
  assert.equal(m.ciaddr.join('.'), a);
  assert.equal(dhcpU32Option(m, DhcpOpt.LEASE_TIME), 600);
  assert.equal(s.leases(sec(300))[0]!.expires, sec(900));
  // Renewing an address that is not the client's: NAK.
  const b = lease(s, 2, 0);
  assert.equal(dhcpMessageType(parsed(s.handle(msg({ type: DhcpType.REQUEST, mac: 1, ciaddr: b }), sec(300)))), DhcpType.NAK);
});

test('RELEASE frees the address but keeps it as the client\'s previous binding; DECLINE keeps it out of the pool', () => {
  const s = server({ poolSize: 2 });
  const a = lease(s, 1, 0);
  assert.equal(a, '10.0.2.15');
  assert.equal(s.handle(msg({ type: DhcpType.RELEASE, mac: 1, ciaddr: a, serverId: '10.0.2.2' }), sec(1)), null);
  assert.equal(s.counters.releases, 1);
  assert.deepEqual(s.leases(sec(1)), []);
  // A RELEASE of an address the client does not hold is counted and ignored.
  s.handle(msg({ type: DhcpType.RELEASE, mac: 3, ciaddr: '10.0.2.16', serverId: '10.0.2.2' }), sec(1));
  assert.equal(s.counters.dropped['dhcp-release-unknown'], 1);
  // A new client gets a never-used address before anyone's previous one.
  const b = lease(s, 2, sec(2));
  assert.equal(b, '10.0.2.16');
  assert.equal(s.handle(msg({ type: DhcpType.DECLINE, mac: 2, requested: b, serverId: '10.0.2.2' }), sec(3)), null);
  assert.equal(s.counters.declines, 1);
  // Client 2 tries again: .16 is out of the pool, so it takes client 1's released address.
  assert.equal(yi(s.handle(msg({ type: DhcpType.DISCOVER, mac: 2 }), sec(4))), '10.0.2.15');
  assert.equal(s.counters.reclaimed, 1);
  assert.equal(s.handle(msg({ type: DhcpType.DISCOVER, mac: 3 }), sec(4)), null);
  // Ten minutes on, the declined address is offered again.
  assert.equal(yi(s.handle(msg({ type: DhcpType.DISCOVER, mac: 3 }), sec(3) + sec(600))), '10.0.2.16');
});

test('RFC 2131 §4.3.1: a client that comes back gets its previous address', () => {
  const s = server();
  assert.equal(lease(s, 1, 0), '10.0.2.15');
  s.handle(msg({ type: DhcpType.RELEASE, mac: 1, ciaddr: '10.0.2.15', serverId: '10.0.2.2' }), sec(1));
  assert.equal(lease(s, 2, sec(2)), '10.0.2.16');
  // Client 1 returns after its release (or, the same, after its lease expired): .15 again.
  assert.equal(lease(s, 1, sec(3)), '10.0.2.15');
  assert.equal(lease(s, 2, sec(86400 * 3)), '10.0.2.16');
});

test('INFORM gets an ACK with the options but no address and no lease time (RFC 2131 §4.3.5)', () => {
  const s = server();
  const r = s.handle(msg({ type: DhcpType.INFORM, mac: 5, ciaddr: '10.0.2.77' }), 0);
  const m = parsed(r);
  assert.equal(dhcpMessageType(m), DhcpType.ACK);
  assert.equal(yi(r), '0.0.0.0');
  assert.equal(m.options.get(DhcpOpt.LEASE_TIME), undefined);
  assert.equal(s.leases(0).length, 0);
  assert.equal(dhcpAddrOption(m, DhcpOpt.ROUTER), '10.0.2.2');
  assert.equal(r!.dst, '10.0.2.77');
});

test('a relayed request is answered to the relay agent on port 67', () => {
  const s = server();
  const b = msg({ type: DhcpType.DISCOVER, mac: 1 });
  b.set([10, 0, 2, 1], 24);
  const r = s.handle(b, 0);
  assert.equal(r!.dst, '10.0.2.1');
  assert.equal(r!.dstPort, 67);
});

test('bad input is counted and dropped; bad options throw naming the argument', () => {
  const s = server();
  assert.equal(s.handle(new Uint8Array(10), 0), null);
  const reply = msg({ type: DhcpType.OFFER });
  reply[0] = BootpOp.REPLY;
  assert.equal(s.handle(reply, 0), null);
  assert.equal(s.handle(msg({ type: DhcpType.ACK }), 0), null);
  assert.deepEqual(s.counters.dropped, { 'dhcp-truncated': 1, 'dhcp-server-message': 1, 'dhcp-not-a-request': 1 });
  assert.throws(() => server({ serverAddr: 'x' }), /serverAddr/);
  assert.throws(() => server({ poolStart: '10.0.3.1' }), /poolStart/);
  assert.throws(() => server({ poolSize: 300 }), /poolSize/);
  assert.throws(() => server({ serverAddr: '10.0.2.16' }), /inside the pool/);
  assert.throws(() => server({ mtu: 20 }), /mtu/);
  assert.throws(() => server({ bootFile: '' }), /bootFile/);
  assert.throws(() => server({ prefixLength: 31 }), /prefixLength/);
  assert.throws(() => s.handle('x' as unknown as Uint8Array, 0), /payload/);
});
