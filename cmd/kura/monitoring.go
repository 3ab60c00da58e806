package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kura-go/kura/internal/telemetry"
	"github.com/spf13/pflag"
)

// monitorFlags are the monitoring flags of long-running commands: a
// Prometheus endpoint (--metrics-addr) and, for the load test, a push to a
// Pushgateway (--push) and a metrics text file (--metrics-file).
type monitorFlags struct {
	addr, push, file string
	pushJob          string
}

// addServe adds --metrics-addr.
func (f *monitorFlags) addServe(fs *pflag.FlagSet) {
	fs.StringVar(&f.addr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics while the command runs (e.g. 127.0.0.1:9464, :9464); see docs/monitoring.md")
}

// addExport adds --push and --metrics-file.
func (f *monitorFlags) addExport(fs *pflag.FlagSet) {
	fs.StringVar(&f.push, "push", "", "push the final metrics to this Prometheus Pushgateway URL (e.g. http://pushgateway:9091) under job kura_<command> (kura_loadtest, kura_run)")
	fs.StringVar(&f.file, "metrics-file", "", "write the final metrics to this file in Prometheus text format (node_exporter textfile collector, CI artifacts)")
}

func (f *monitorFlags) enabled() bool { return f.addr != "" || f.push != "" || f.file != "" }

// start returns the command's metrics (nil when no monitoring flag was
// given) and serves them when --metrics-addr was given; stop ends the
// server. A server that cannot listen is a failure before any work.
func (f *monitorFlags) start(ctx context.Context, command string, stderr io.Writer) (m *telemetry.Metrics, stop func(), err error) {
	stop = func() {}
	if !f.enabled() {
		return nil, stop, nil
	}
	m = telemetry.New(command)
	if f.addr != "" {
		addr, s, err := m.Serve(ctx, f.addr)
		if err != nil {
			return nil, stop, fmt.Errorf("--metrics-addr: %w", err)
		}
		fmt.Fprintf(stderr, "metrics: http://%s/metrics\n", addr)
		stop = s
	}
	return m, stop, nil
}

// export writes --metrics-file and pushes to --push; both are tried.
func (f *monitorFlags) export(ctx context.Context, m *telemetry.Metrics) error {
	if m == nil {
		return nil
	}
	var errs []error
	if f.file != "" {
		if err := m.WriteFile(f.file); err != nil {
			errs = append(errs, fmt.Errorf("--metrics-file: %w", err))
		}
	}
	if f.push != "" {
		job := f.pushJob
		if job == "" {
			job = "kura_loadtest"
		}
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := m.Push(pctx, f.push, job); err != nil {
			errs = append(errs, fmt.Errorf("--push: %w", err))
		}
	}
	return errors.Join(errs...)
}
