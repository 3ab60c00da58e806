package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/kura-go/kura/server"
)

func init() { register(newServeCmd) }

func newServeCmd() *cobra.Command {
	var dir, addr string
	cmd := &cobra.Command{
		Use:   "serve --dir DIR",
		Short: "Explore a Kura checkpoint directory and its load-test results in the browser",
		Long: `serve starts a local web server for one directory: the cluster explorer of a
Kura checkpoint (collapsible cluster tree with counts and shares, 2-D map with
zoom, pan, hover and click, cluster details with summary facets and metadata
value counts, the conversation viewer, search and deep links) and a dashboard
of the load_test_results_*.json files in it (the charts of 'kura report').

It listens on 127.0.0.1 only unless --addr says otherwise, and reads only the
files directly inside DIR. The page and its scripts are built into kura.`,
		Example: `  kura serve --dir ./checkpoints
  kura serve --dir ./loadtest-out --addr 127.0.0.1:9000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return usageErrorf("--dir is required")
			}
			if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
				return usageErrorf("--dir %s: no such directory", dir)
			}
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return usageErrorf("--dir %s: not a directory", dir)
			}
			srv, err := server.New(dir, slog.Default())
			if err != nil {
				return err
			}
			defer srv.Close()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			var h http.Handler = srv
			if ip := ln.Addr().(*net.TCPAddr).IP; ip.IsLoopback() {
				h = server.LoopbackOnly(srv)
			} else {
				slog.Warn("listening beyond this machine: anyone who can reach the address can read the directory", "addr", ln.Addr())
			}
			hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
			fmt.Fprintf(cmd.OutOrStdout(), "kura serve: %s on http://%s/ (Ctrl-C to stop)\n", dir, ln.Addr())
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			errc := make(chan error, 1)
			go func() { errc <- hs.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
					return err
				}
				return nil
			}
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory to serve: a Kura checkpoint and/or load-test results (required)")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8765", "address to listen on (host:port; port 0 picks a free one)")
	return cmd
}
