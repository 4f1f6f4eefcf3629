package client

import (
	"math/rand/v2"
	"time"
)

// Backoff is the capped exponential delay between reconnection attempts, with jitter so that
// many clients cut off at once do not come back at once.
type Backoff struct {
	Min    time.Duration
	Max    time.Duration
	Factor float64
	// Jitter is the fraction of the delay drawn at random: a delay d becomes a value in
	// [d*(1-Jitter), d].
	Jitter float64
	// rand returns a value in [0, 1); nil uses math/rand.
	rand func() float64
}

func NewBackoff(minDelay, maxDelay time.Duration) Backoff {
	return Backoff{Min: minDelay, Max: maxDelay, Factor: 2, Jitter: 0.2}
}

// Delay is the wait before attempt number attempt (0 is the first retry).
func (b Backoff) Delay(attempt int) time.Duration {
	d := float64(b.Min)
	for range attempt {
		d *= b.Factor
		if d >= float64(b.Max) {
			d = float64(b.Max)
			break
		}
	}
	d = min(d, float64(b.Max))
	r := rand.Float64
	if b.rand != nil {
		r = b.rand
	}
	d -= d * b.Jitter * r()
	return max(time.Duration(d), 0)
}
