// Package wire encodes and decodes HTTVPS frames: JSON text messages (with a fast path for
// stream_data) and the negotiated binary messages. docs/03-httvps-protocol.md is the reference.
package wire
