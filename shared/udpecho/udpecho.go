// Package udpecho answers UDP datagrams: the echo target of the demo, the tests and the
// benchmark, and small responders built on it.
package udpecho

import "net"

// Serve answers every datagram on pc with answer(datagram) until pc is closed; a nil answer
// echoes, a nil reply sends nothing.
func Serve(pc net.PacketConn, answer func([]byte) []byte) {
	buf := make([]byte, 64<<10)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		reply := buf[:n]
		if answer != nil {
			reply = answer(reply)
		}
		if reply != nil {
			_, _ = pc.WriteTo(reply, from)
		}
	}
}
