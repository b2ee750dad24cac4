// gVisor's netstack doing the work of synack's in-process figures (bench/throughput.ts,
// bench/cps.ts), for `npm run bench -- --only gvisor` (bench/gvisor.ts builds and runs it).
//
//	gvisor-bench throughput -mtu 1500 -warm-ms 500 -ms 2500
//	gvisor-bench cps -warm-ms 500 -ms 2500 -batch 1000
//
// Two gVisor stacks in one process joined by link/pipe (a packet written by one is delivered
// to the other in the same call, as synack's memoryPair), capabilities 0: every checksum is
// computed and verified, as synack's throughput1500. Each prints one JSON object.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/link/pipe"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

var (
	addrA = tcpip.Address("\x0a\x00\x00\x01")
	addrB = tcpip.Address("\x0a\x00\x00\x02")
)

func newStack(ep stack.LinkEndpoint, addr tcpip.Address, bufBytes int) *stack.Stack {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol},
	})
	must(s.CreateNIC(1, ep))
	must(s.AddProtocolAddress(1, tcpip.ProtocolAddress{
		Protocol:          ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: addr, PrefixLen: 24},
	}, stack.AddressProperties{}))
	subnet, err := tcpip.NewSubnet(tcpip.Address("\x0a\x00\x00\x00"), tcpip.AddressMask("\xff\xff\xff\x00"))
	if err != nil {
		panic(err)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: subnet, NIC: 1}})
	if bufBytes > 0 {
		// synack's throughput figure runs with 4 MiB send and receive buffers.
		sb := tcpip.TCPSendBufferSizeRangeOption{Min: 4096, Default: bufBytes, Max: bufBytes}
		rb := tcpip.TCPReceiveBufferSizeRangeOption{Min: 4096, Default: bufBytes, Max: bufBytes}
		must(s.SetTransportProtocolOption(tcp.ProtocolNumber, &sb))
		must(s.SetTransportProtocolOption(tcp.ProtocolNumber, &rb))
	}
	// TIME_WAIT ends quickly so the cps run does not run out of ephemeral ports (synack's run
	// expires it by advancing its virtual clock 61 s after every batch).
	tw := tcpip.TCPTimeWaitTimeoutOption(10 * time.Millisecond)
	must(s.SetTransportProtocolOption(tcp.ProtocolNumber, &tw))
	return s
}

func must(err tcpip.Error) {
	if err != nil {
		panic(err.String())
	}
}

func pair(mtu uint32, bufBytes int) (*stack.Stack, *stack.Stack) {
	ea, eb := pipe.New("\x02\x00\x00\x00\x00\x01", "\x02\x00\x00\x00\x00\x02", mtu)
	return newStack(ea, addrA, bufBytes), newStack(eb, addrB, bufBytes)
}

// A listener with synack's backlog (gonet.ListenTCP's is 10: a batch of SYNs would overflow it).
func listen(s *stack.Stack, port uint16, backlog int) *gonet.TCPListener {
	var wq waiter.Queue
	ep, err := s.NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	must(err)
	must(ep.Bind(tcpip.FullAddress{NIC: 1, Addr: addrB, Port: port}))
	must(ep.Listen(backlog))
	return gonet.NewTCPListener(s, &wq, ep)
}

type result struct {
	Mode        string  `json:"mode"`
	Gbps        float64 `json:"gbps,omitempty"`
	Bytes       int64   `json:"bytes,omitempty"`
	Cps         float64 `json:"cps,omitempty"`
	Connections int64   `json:"connections,omitempty"`
	Seconds     float64 `json:"seconds"`
	Gomaxprocs  int     `json:"gomaxprocs"`
	Gvisor      string  `json:"gvisor"`
}

// One connection: the client writes 256 KiB chunks as fast as they are taken, the server reads
// into one 256 KiB buffer and discards; bytes received in `ms` after `warm` are counted.
func throughput(mtu uint32, warm, ms time.Duration) result {
	a, b := pair(mtu, 4<<20)
	l := listen(b, 5001, 16)
	var received atomic.Int64
	go func() {
		c, err := l.Accept()
		if err != nil {
			panic(err)
		}
		sink := make([]byte, 256<<10)
		for {
			n, err := c.Read(sink)
			received.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	c, err := gonet.DialTCP(a, tcpip.FullAddress{NIC: 1, Addr: addrB, Port: 5001}, ipv4.ProtocolNumber)
	if err != nil {
		panic(err)
	}
	data := make([]byte, 256<<10)
	for i := range data {
		data[i] = byte(i * 7)
	}
	var stop atomic.Bool
	go func() {
		for !stop.Load() {
			if _, err := c.Write(data); err != nil {
				return
			}
		}
	}()
	time.Sleep(warm)
	r0 := received.Load()
	t0 := time.Now()
	time.Sleep(ms)
	bytes := received.Load() - r0
	secs := time.Since(t0).Seconds()
	stop.Store(true)
	return result{Mode: "throughput", Gbps: float64(bytes) * 8 / secs / 1e9, Bytes: bytes, Seconds: secs}
}

// Open, 1 byte each way, close (the client first; the server closes at end of file), `batch`
// connections at a time, as bench/cps.ts.
func cps(warm, ms time.Duration, batch int) result {
	a, b := pair(1500, 0)
	l := listen(b, 80, 4096)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				one := make([]byte, 1)
				if n, _ := c.Read(one); n == 1 {
					c.Write(one)
				}
				io.Copy(io.Discard, c)
				c.Close()
			}(c)
		}
	}()
	var done atomic.Int64
	open := func(wg *sync.WaitGroup) {
		defer wg.Done()
		c, err := gonet.DialTCP(a, tcpip.FullAddress{NIC: 1, Addr: addrB, Port: 80}, ipv4.ProtocolNumber)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gvisor-bench: dial:", err)
			return
		}
		one := []byte{0x2a}
		c.Write(one)
		if n, _ := c.Read(one); n == 1 {
			c.Close()
			done.Add(1)
		}
	}
	run := func(d time.Duration) (int64, float64) {
		d0 := done.Load()
		t0 := time.Now()
		for time.Since(t0) < d {
			var wg sync.WaitGroup
			for i := 0; i < batch; i++ {
				wg.Add(1)
				go open(&wg)
			}
			wg.Wait()
		}
		return done.Load() - d0, time.Since(t0).Seconds()
	}
	run(warm)
	n, secs := run(ms)
	return result{Mode: "cps", Cps: float64(n) / secs, Connections: n, Seconds: secs}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gvisor-bench throughput|cps [-mtu N] [-warm-ms N] [-ms N] [-batch N]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	mtu := fs.Uint("mtu", 1500, "link MTU")
	warmMs := fs.Int("warm-ms", 500, "warm-up, ms")
	ms := fs.Int("ms", 2500, "measured time, ms")
	batch := fs.Int("batch", 1000, "cps: connections opened at a time")
	fs.Parse(os.Args[2:])
	var r result
	switch os.Args[1] {
	case "throughput":
		r = throughput(uint32(*mtu), time.Duration(*warmMs)*time.Millisecond, time.Duration(*ms)*time.Millisecond)
	case "cps":
		r = cps(time.Duration(*warmMs)*time.Millisecond, time.Duration(*ms)*time.Millisecond, *batch)
	default:
		fmt.Fprintf(os.Stderr, "gvisor-bench: unknown mode %q (throughput, cps)\n", os.Args[1])
		os.Exit(2)
	}
	r.Gomaxprocs = runtime.GOMAXPROCS(0)
	r.Gvisor = gvisorVersion
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}

// gvisorVersion is set at build time (-ldflags -X main.gvisorVersion=...): the Debian package's version.
var gvisorVersion = "unknown"
