/**
 * The wire layer: addresses, checksums, Ethernet, ARP, IP and TCP views, tcpdump-style formatting.
 * @module
 */
export * from './addr.js';
export * from './checksum.js';
export * from './ethernet.js';
export * from './arp.js';
export * from './ip.js';
export * from './tcp.js';
export * from './tcp-repr.js';
export * from './format.js';
export * from './icmp.js';
export * from './udp.js';
