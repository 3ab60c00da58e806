package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func init() { register(newVersionCmd) }

// buildInfo returns kura's version, the VCS commit it was built from, and the Go version.
func buildInfo() (ver, commit, goVersion string) {
	ver, commit, goVersion = version, "unknown", runtime.Version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		if ver == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			ver = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
	}
	return ver, commit, goVersion
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print kura's version, commit and Go version",
		Example: "  kura version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v, c, g := buildInfo()
			fmt.Fprintf(cmd.OutOrStdout(), "kura %s (commit %s, %s %s/%s)\n", v, c, g, runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
