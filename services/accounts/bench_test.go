package accounts

import (
	"context"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
)

const (
	benchDevices = 2000
	benchRate    = 5000
	benchCallers = 64
)

// seedBench creates benchDevices subscribed users with one device each and this month's usage.
func seedBench(b *testing.B, e *testEnv) []schemas.ValidateDeviceRequest {
	b.Helper()
	ctx := context.Background()
	e.exec(b, `INSERT INTO plans (name, max_devices, traffic_limit_gb) VALUES ('bench', 3, 1000)`)
	e.exec(b, `INSERT INTO users (identifier, identifier_kind) SELECT 'bench' || i || '@example.com', 'email' FROM generate_series(1, ?) AS i`, benchDevices)
	e.exec(b, `INSERT INTO subscriptions (user_id, plan_id, valid_until) SELECT u.id, p.id, now() + interval '30 days' FROM users u, plans p WHERE p.name = 'bench'`)
	e.exec(b, `INSERT INTO devices (user_id, device_uuid, platform) SELECT id, 'bench-' || id, 'android' FROM users`)
	e.exec(b, `INSERT INTO usage_periods (user_id, period_start, bytes_up, bytes_down) SELECT id, date_trunc('month', now() AT TIME ZONE 'UTC')::date, id * 1000, id * 9000 FROM users`)
	e.exec(b, `ANALYZE`)
	var devices []Device
	if err := e.db.NewSelect().Model(&devices).Order("id").Scan(ctx); err != nil {
		b.Fatal(err)
	}
	reqs := make([]schemas.ValidateDeviceRequest, len(devices))
	for i, d := range devices {
		tok, err := e.svc.tokens.Issue(d.DeviceUUID, d.UserID, d.TokenVersion)
		if err != nil {
			b.Fatal(err)
		}
		reqs[i] = schemas.ValidateDeviceRequest{DeviceID: d.DeviceUUID, AccessToken: tok, Region: testRegion, ClientVersion: "1.0.0", Platform: "android"}
	}
	return reqs
}

// BenchmarkValidateDevice measures validate-device as a gateway sees it, over NATS.
// "max" runs closed-loop callers as fast as the service answers; "paced" offers
// benchRate requests per second and measures each latency from the moment the request
// was due, so a stall also counts for the requests queued behind it.
func BenchmarkValidateDevice(b *testing.B) {
	e := newEnv(b, func(c *Config) { c.LastSeenInterval = time.Second })
	reqs := seedBench(b, e)
	ctx := context.Background()
	call := func(r schemas.ValidateDeviceRequest) error {
		rep, err := rpc.Call[schemas.ValidateDeviceReply](ctx, e.nc, schemas.SubjectValidateDevice, r, callTimeout)
		if err == nil && !rep.OK {
			b.Errorf("validate %s refused: %+v", r.DeviceID, rep.Error)
		}
		return err
	}
	b.Run("max", func(b *testing.B) {
		runLoad(b, reqs, 0, call)
	})
	b.Run("paced", func(b *testing.B) {
		runLoad(b, reqs, benchRate, call)
	})
	b.Run("direct", func(b *testing.B) {
		runLoad(b, reqs, 0, func(r schemas.ValidateDeviceRequest) error {
			_, err := e.svc.validateDevice(ctx, r)
			return err
		})
	})
}

// runLoad sends b.N requests from benchCallers goroutines, at rate per second (0: no pacing),
// and reports latency percentiles and throughput.
func runLoad(b *testing.B, reqs []schemas.ValidateDeviceRequest, rate int, call func(schemas.ValidateDeviceRequest) error) {
	due := make(chan time.Time, b.N)
	latencies := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	b.ResetTimer()
	cpuBefore := processCPU(b)
	start := time.Now()
	for range benchCallers {
		wg.Go(func() {
			for at := range due {
				if rate == 0 {
					at = time.Now()
				}
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if err := call(reqs[i%len(reqs)]); err != nil {
					b.Error(err)
				}
				latencies[i] = time.Since(at)
			}
		})
	}
	for i := range b.N {
		at := start
		if rate > 0 {
			at = start.Add(time.Duration(i) * time.Second / time.Duration(rate))
			if wait := time.Until(at); wait > time.Millisecond {
				time.Sleep(wait)
			}
		}
		due <- at
	}
	close(due)
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU(b) - cpuBefore
	b.StopTimer()
	slices.Sort(latencies)
	at := func(q float64) float64 {
		return float64(latencies[int(q*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "validations/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "go-cpu-us/op")
}

// processCPU is the CPU time of this test process: service, NATS server and callers, not PostgreSQL.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
