package udp

import (
	"errors"
	"net"
	"net/netip"
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
	names    map[string]netip.AddrPort
}

func openFlow(r *Relay, id uint32, node *upstream.Node) (*flow, error) {
	conn, addr, err := node.ListenPacket()
	if err != nil {
		return nil, err
	}
	fl := &flow{r: r, id: id, node: node, conn: conn, nodeAddr: addr, queue: make(chan schemas.UDPData, flowQueue),
		done: make(chan struct{}), names: map[string]netip.AddrPort{}}
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
			buf = fl.send(f, buf)
		}
	}
}

func (fl *flow) send(f schemas.UDPData, buf []byte) []byte {
	r := fl.r
	target, err := fl.resolve(f.Addr)
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
		return buf
	}
	if r.Charge != nil && !r.Charge(r.ctx, len(f.Payload)) {
		r.drop(metrics.DropQuota)
		return buf
	}
	buf = append(append(buf[:0], socks.ParseAddr(target.String())...), f.Payload...)
	if _, err := fl.conn.WriteTo(buf, fl.nodeAddr); err != nil {
		select {
		case <-fl.done:
		default:
			r.drop(metrics.DropNode)
			r.Log.Debug().Err(err).Int64("node", fl.node.ID).Msg("udp datagram not sent to the outline node")
		}
		return buf
	}
	r.Usage.AddUp(len(f.Payload))
	r.Metrics.UDPDatagrams.WithLabelValues(metrics.DirectionUp).Inc()
	fl.touch()
	return buf
}

// resolve applies the policy; the answers for host names are remembered by the flow (only its
// sendLoop resolves names).
func (fl *flow) resolve(target string) (netip.AddrPort, error) {
	if _, err := netip.ParseAddrPort(target); err == nil {
		return fl.r.Policy.Resolve(fl.r.ctx, target)
	}
	if ap, ok := fl.names[target]; ok {
		return ap, nil
	}
	ap, err := fl.r.Policy.Resolve(fl.r.ctx, target)
	if err != nil {
		return ap, err
	}
	if len(fl.names) >= resolved {
		clear(fl.names)
	}
	fl.names[target] = ap
	return ap, nil
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
		if !r.Sink.Datagram(fl.id, src.String(), append([]byte(nil), payload...)) {
			r.drop(metrics.DropQueue)
			continue
		}
		r.Metrics.UDPDatagrams.WithLabelValues(metrics.DirectionDown).Inc()
	}
}
