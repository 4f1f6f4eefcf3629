package httvps

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/httvps/httvps/services/httvps/system"
	"github.com/httvps/httvps/shared/outlinenode"
	"github.com/httvps/httvps/shared/rpc"
)

type demo struct {
	cfg     DemoConfig
	outline *outlinenode.Node
	page    *pageServer
	seed    demoSeed
}

func startDemo(cfg DemoConfig) (*demo, error) {
	node, err := outlinenode.Start(outlinenode.Config{Addr: cfg.OutlineAddr, Method: cfg.OutlineMethod, Password: cfg.OutlinePassword, KeyID: "demo", MetricsAddr: "127.0.0.1:0"})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvDemoOutlineAddr, err)
	}
	page, err := startPage(cfg.PageAddr)
	if err != nil {
		node.Close()
		return nil, err
	}
	return &demo{cfg: cfg, outline: node, page: page}, nil
}

func (d *demo) seedWithRetry(ctx context.Context, a system.Admin, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		seed, err := seedDemo(ctx, a, d.cfg)
		if err == nil {
			d.seed = seed
			return nil
		}
		if !errors.Is(err, rpc.ErrUnavailable) || time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (d *demo) Close() {
	d.page.Close()
	_ = d.outline.Close()
}
