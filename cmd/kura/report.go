package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/internal/outfile"
	"github.com/kura-go/kura/report"
)

func init() { register(newReportCmd) }

func newReportCmd() *cobra.Command {
	var out, title string
	cmd := &cobra.Command{
		Use:   "report RESULTS.json... -o FILE.html",
		Short: "Render load-test results as one self-contained HTML page with charts",
		Long: `report renders one or more load-test results files (load_test_results_*.json, as
written by 'kura loadtest') as one HTML page: time by stage, peak and working
memory, throughput, cost and storage against scale, the fitted curves reaching
to the plan's target, and the scaling analysis and plan in words. Several files
are overlaid for comparison. The page embeds its chart library and data, so it
opens offline and loads nothing from the network.`,
		Example: `  kura report load_test_results_20261205_180654.json -o report.html
  kura report before/load_test_results_*.json \
      after/load_test_results_*.json -o compare.html`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageErrorf("-o FILE.html is required")
			}
			if err := outfile.CheckDistinct(args, []string{out}); err != nil {
				return usageErrorf("%v", err)
			}
			inputs, err := report.Load(args)
			if err != nil {
				return err
			}
			ver, _, _ := buildInfo()
			opts := report.Options{Title: title, Version: ver}
			if out == "-" {
				return report.Render(cmd.OutOrStdout(), inputs, opts)
			}
			if err := report.WriteFile(out, inputs, opts); err != nil {
				return err
			}
			// "wrote r.html (142 KiB; 2 runs: a.json, b.json)" within the
			// terminal's width (it was one line of "145115 bytes; 2 run(s)").
			size := ""
			if fi, err := os.Stat(out); err == nil {
				size = human.Bytes(float64(fi.Size())) + "; "
			}
			runs := "1 run"
			if len(inputs) != 1 {
				runs = human.Thousands(len(inputs)) + " runs"
			}
			fmt.Fprintln(cmd.ErrOrStderr(), human.Wrap(fmt.Sprintf("wrote %s (%s%s: %s)", out, size, runs, strings.Join(args, ", ")), terminalWidth(os.Stderr)))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "HTML file to write (required; - for standard output)")
	cmd.Flags().StringVar(&title, "title", "", "page title (default \"Kura load test report\")")
	return cmd
}
