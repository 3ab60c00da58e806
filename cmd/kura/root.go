package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/agnivade/levenshtein"
	"github.com/kura-go/kura/internal/human"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// usageError marks an error caused by how the command was called (exit code 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErrorf returns a usage error (exit code 2).
func usageErrorf(format string, a ...any) error {
	return &usageError{fmt.Errorf(format, a...)}
}

// reportedError is a failure already reported elsewhere (a load test
// worker sends its error to the parent, which prints it): exit code 1, and
// not printed again.
type reportedError struct{ err error }

func (e *reportedError) Error() string { return e.err.Error() }
func (e *reportedError) Unwrap() error { return e.err }

// commands holds the constructors of the subcommands; each command's file adds
// itself in an init function, so that commands live in files of their own.
var commands []func() *cobra.Command

func register(newCmd func() *cobra.Command) { commands = append(commands, newCmd) }

type globalFlags struct {
	verbose   bool
	logFormat string
}

func newRootCmd() *cobra.Command {
	var g globalFlags
	root := &cobra.Command{
		Use:   "kura",
		Short: "Understand chat data at scale: embed, cluster and load-test conversation pipelines",
		Long: `kura embeds conversation summaries, clusters them, and load-tests that pipeline
to tell you what it costs in memory, time, storage and API money at any scale.`,
		Example: `  # Run the load tester offline on the built-in sample corpus
  kura loadtest

  # Validate a Kura checkpoint directory
  kura validate ./checkpoints`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			// A command's --quiet silences the INFO log too (not warnings).
			quiet, _ := cmd.Flags().GetBool("quiet")
			return setupLogging(cmd.ErrOrStderr(), g, quiet)
		},
	}
	root.PersistentFlags().BoolVarP(&g.verbose, "verbose", "v", false, "log debug messages to stderr")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format on stderr: text (level=INFO msg=...; with --verbose each line starts with its time) or json")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if s := suggestFlag(c, err.Error()); s != "" {
			err = fmt.Errorf("%w; did you mean %s?", err, s)
		}
		return &usageError{err}
	})
	for _, newCmd := range commands {
		root.AddCommand(newCmd())
	}
	// Unknown subcommands and bad argument counts are usage errors too. The
	// root needs a RunE of its own for cobra to check its arguments.
	root.SuggestionsMinimumDistance = 2
	root.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf("; did you mean %q?", s[0])
		}
		return fmt.Errorf("%s (see 'kura --help')", msg)
	}
	root.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
	wrapArgs(root)
	wrapFlagUsages(root)
	return root
}

// wrapFlagUsages makes every command's help wrap its flags' descriptions
// and its subcommands' one-line summaries within the width of the terminal
// (80 columns when stdout is not one): cobra's default template prints
// each on one line, up to 250 columns.
func wrapFlagUsages(root *cobra.Command) {
	cobra.AddTemplateFunc("wrappedFlagUsages", func(fs *pflag.FlagSet) string {
		return fs.FlagUsagesWrapped(terminalWidth(os.Stdout) - 1)
	})
	cobra.AddTemplateFunc("wrappedShort", func(c *cobra.Command) string {
		// The summary starts after "  NAME " padded to the longest name.
		indent := 2 + c.NamePadding() + 1
		return human.Hang(c.Short, terminalWidth(os.Stdout)-1-indent, indent)
	})
	t := root.UsageTemplate()
	for _, set := range []string{"LocalFlags", "InheritedFlags"} {
		t = strings.ReplaceAll(t, "{{."+set+".FlagUsages", "{{wrappedFlagUsages ."+set)
	}
	t = strings.ReplaceAll(t, "{{rpad .Name .NamePadding }} {{.Short}}", "{{rpad .Name .NamePadding }} {{wrappedShort .}}")
	root.SetUsageTemplate(t)
}

// suggestFlag returns the flag of c closest to the unknown one that msg
// (pflag's "unknown flag: --sclaes") names, as "--scales", when one is
// within two edits or starts with it; "" otherwise.
func suggestFlag(c *cobra.Command, msg string) string {
	name, ok := strings.CutPrefix(msg, "unknown flag: --")
	if !ok || name == "" {
		return ""
	}
	name, _, _ = strings.Cut(name, "=")
	best, bestDist := "", 3
	visit := func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		d := levenshtein.ComputeDistance(name, f.Name)
		if strings.HasPrefix(f.Name, name) && len(name) >= 3 {
			d = min(d, 1)
		}
		if d < bestDist || d == bestDist && best != "" && f.Name < best {
			best, bestDist = f.Name, d
		}
	}
	c.Flags().VisitAll(visit)
	c.InheritedFlags().VisitAll(visit)
	if best == "" {
		return ""
	}
	return "--" + best
}

// wrapArgs makes every argument-validation failure a usage error.
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		orig := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := orig(cmd, args); err != nil {
				return &usageError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

func setupLogging(w io.Writer, g globalFlags, quiet bool) error {
	level := slog.LevelInfo
	switch {
	case g.verbose:
		level = slog.LevelDebug
	case quiet:
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch strings.ToLower(g.logFormat) {
	case "text":
		if !g.verbose {
			opts.ReplaceAttr = dropTime
		}
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return usageErrorf("--log-format must be text or json, not %q", g.logFormat)
	}
	slog.SetDefault(slog.New(h))
	return nil
}

// dropTime leaves the time out of the text log a person reads (a line
// then fits 80 columns: "level=INFO msg=..."); --verbose and --log-format
// json keep it.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

// terminalWidth returns the width in columns that output to f is laid out
// in: $COLUMNS when set, else the width of the terminal f is, else 80.
func terminalWidth(f *os.File) int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
		return w
	}
	return 80
}

// stderrIsTerminal reports whether progress output should be drawn.
func stderrIsTerminal() bool {
	fi, err := os.Stderr.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
