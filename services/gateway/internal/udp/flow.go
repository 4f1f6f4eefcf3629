package udp

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/metrics"
	"github.com/httvps/httvps/services/gateway/internal/upstream"
	"github.com/shadowsocks/go-shadowsocks2/socks"
)

const (
	flowQueue = 64
	// resolved bounds the host names a flow remembers the resolved address of.
	resolved = 64
	// packetSlack is a Shadowsocks UDP packet beyond its payload: salt, tag and a SOCKS address.
	packetSlack = 32 + 16 + 1 + 1 + 255 + 2
)

// flow is one UDP flow: its own Shadowsocks UDP socket to the node, so replies find it.
type flow struct {
	r        *Relay
	id       uint32
	node     *upstream.Node
	conn     net.PacketConn
	nodeAddr net.Addr
	queue    chan schemas.UDPData
	active   atomic.Int64
	done     chan struct{}
	once     sync.Once
	// heads are the SOCKS addresses, the head of every packet, of the targets the policy
	// passed: literals for addresses (the session's read loop only), names for resolved host
	// names (sendLoop only).
	literals map[string][]byte
	names    map[string][]byte
	// source is the last reply's SOCKS address and its text (readLoop only).
	source     []byte
	sourceText string
}

func openFlow(r *Relay, id uint32, node *upstream.Node) (*flow, error) {
	conn, addr, err := node.ListenPacket()
	if err != nil {
		return nil, err
	}
	fl := &flow{r: r, id: id, node: node, conn: conn, nodeAddr: addr, queue: make(chan schemas.UDPData, flowQueue),
		done: make(chan struct{}), literals: map[string][]byte{}, names: map[string][]byte{}}
	fl.touch()
	return fl, nil
}

func (fl *flow) touch() { fl.active.Store(time.Now().UnixNano()) }

func (fl *flow) lastActive() time.Time { return time.Unix(0, fl.active.Load()) }

func (fl *flow) enqueue(f schemas.UDPData) bool {
	select {
	case <-fl.done:
		return false
	case fl.queue <- f:
		return true
	default:
		return false
	}
}

func (fl *flow) stop() {
	fl.once.Do(func() {
		close(fl.done)
		fl.conn.Close()
		fl.r.Metrics.UDPFlows.Dec()
	})
}

func (fl *flow) sendLoop() {
	buf := make([]byte, 0, fl.r.Limits.MaxDatagram+packetSlack)
	for {
		select {
		case <-fl.done:
			for {
				select {
				case f := <-fl.queue:
					fl.r.release(len(f.Payload))
				default:
					return
				}
			}
		case f := <-fl.queue:
			fl.r.release(len(f.Payload))
			if head, ok := fl.head(fl.names, f.Addr); ok {
				buf = fl.send(head, f.Payload, buf)
			}
		}
	}
}

// send writes one datagram to the node behind head; buf is the packet scratch, returned for
// reuse.
func (fl *flow) send(head, payload, buf []byte) []byte {
	r := fl.r
	if r.Charge != nil && !r.Charge(r.ctx, len(payload)) {
		r.drop(metrics.DropQuota)
		return buf
	}
	buf = append(append(buf[:0], head...), payload...)
	if _, err := fl.conn.WriteTo(buf, fl.nodeAddr); err != nil {
		select {
		case <-fl.done:
		default:
			r.drop(metrics.DropNode)
			r.Log.Debug().Err(err).Int64("node", fl.node.ID).Msg("udp datagram not sent to the outline node")
		}
		return buf
	}
	r.Usage.AddUp(len(payload))
	r.up.Inc()
	fl.touch()
	return buf
}

// head applies the policy to addr once and remembers the packet head in known (bounded);
// false when the datagram is refused (the client was told).
func (fl *flow) head(known map[string][]byte, addr string) ([]byte, bool) {
	if head, ok := known[addr]; ok {
		return head, true
	}
	r := fl.r
	ap, err := r.Policy.Resolve(r.ctx, addr)
	if err != nil {
		var fail *upstream.Failure
		if !errors.As(err, &fail) {
			fail = &upstream.Failure{Code: schemas.CodeUpstreamUnreachable, Message: err.Error()}
		}
		reason := metrics.DropResolve
		if fail.Code == schemas.CodeTargetForbidden {
			reason = metrics.DropForbidden
		}
		r.drop(reason)
		r.Sink.Refused(fl.id, fail.Code, "", fail.Message)
		return nil, false
	}
	if len(known) >= resolved {
		clear(known)
	}
	head := socks.ParseAddr(ap.String())
	known[addr] = head
	return head, true
}

func (fl *flow) readLoop() {
	r := fl.r
	buf := make([]byte, r.Limits.MaxDatagram+packetSlack)
	for {
		n, _, err := fl.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-fl.done:
				return
			default:
				continue
			}
		}
		src := socks.SplitAddr(buf[:n])
		if src == nil {
			continue
		}
		payload := buf[len(src):n]
		if len(payload) > r.Limits.MaxDatagram {
			r.drop(metrics.DropOversize)
			continue
		}
		fl.touch()
		if r.Charge != nil && !r.Charge(r.ctx, len(payload)) {
			r.drop(metrics.DropQuota)
			continue
		}
		if !bytes.Equal(src, fl.source) {
			fl.source, fl.sourceText = append(fl.source[:0], src...), src.String()
		}
		if !r.Sink.Datagram(fl.id, fl.sourceText, payload) {
			r.drop(metrics.DropQueue)
			continue
		}
		r.down.Inc()
	}
}
