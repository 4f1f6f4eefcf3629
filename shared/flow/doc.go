// Package flow is the receive side of HTTVPS per-stream flow control: a stream's window that
// grows toward what the stream needs (auto-tuning from the consumption rate and the round
// trip, as QUIC stacks do) within a budget shared by the streams of a session.
package flow
