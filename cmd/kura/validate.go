package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/ingest"
	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/internal/parallel"
)

func init() { register(newValidateCmd) }

type validateFlags struct {
	kind        string
	skipInvalid bool
	maxProblems int
}

func newValidateCmd() *cobra.Command {
	var f validateFlags
	cmd := &cobra.Command{
		Use:   "validate PATH...",
		Short: "Check Kura checkpoint files or directories and report problems",
		Long: `validate reads every record of the given files or checkpoint directories, checks
it (required fields, types, message roles, scores 1..5, metadata values) and
prints how many records of each type it found, the first problems and warnings.

A directory is recognised as a Kura checkpoint by its file names: conversations,
summaries, clusters, meta_clusters and dimensionality, each as .jsonl, without
extension, or .parquet (kura's layout or that of Python Kura's
ParquetCheckpointManager); a conversations.json in it (Kura's
generate_conversation_dump, or a Claude.ai or ChatGPT export) is checked too.
A single file's type comes from its name, its content (a JSON array of
conversations: Kura's conversations.json, a Claude.ai or a ChatGPT data
export) or --type.

It exits with status 1 if there is any problem. With --skip-invalid, invalid
records are reported as skipped (as a loading command would skip them with the
same flag) and do not count as problems; files that cannot be read still do.
Warnings (unknown fields, blank lines, a byte-order mark, an empty file) never
change the exit status. Neither do consistency warnings, given for a checkpoint
directory: duplicate chat ids, summaries of chat ids missing from
conversations, clusters listing chat ids missing from summaries, parent ids
that name no cluster.`,
		Example: `  # Validate a Kura checkpoint directory
  kura validate ./checkpoints

  # Validate one file whose name does not tell its type
  kura validate --type summaries ./export/part-0001.jsonl

  # Check a Claude.ai or ChatGPT data export (told by content)
  kura validate ~/Downloads/claude-export/conversations.json

  # Would a --skip-invalid load of these files succeed, and what would it skip?
  kura validate --skip-invalid conversations.jsonl summaries.parquet`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidate(cmd, args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.kind, "type", "", "record type of the files: conversations, summaries, clusters, meta_clusters or dimensionality, or the export a conversations file comes from: kura-json, claude or chatgpt (default: from the file name, else its content)")
	fl.BoolVar(&f.skipInvalid, "skip-invalid", false, "report invalid records as skipped instead of failing")
	fl.IntVar(&f.maxProblems, "max-problems", 20, "problems and warnings to print")
	return cmd
}

// target is one file to check.
type target struct {
	path string
	kind conversation.Kind
	dir  string // the checkpoint directory the file was found in, or ""
	// export is the format of a conversations file read through package
	// ingest (a JSON array: Kura's conversations.json, a Claude.ai or
	// ChatGPT export), or "" for a checkpoint file.
	export ingest.Format
}

// isExport reports whether f is a format of conversation exports (a JSON
// array) rather than of checkpoint files.
func isExport(f ingest.Format) bool {
	return f == ingest.KuraJSON || f == ingest.Claude || f == ingest.ChatGPT
}

// sniffExport tells whether path is a JSON array of conversations, and of
// which export.
func sniffExport(path string) (ingest.Format, bool) {
	f, err := ingest.Detect(path)
	return f, err == nil && isExport(f)
}

// resolveTargets expands directories into checkpoint files and finds the kind
// of single files. Bad arguments are usage errors.
func resolveTargets(args []string, kindFlag string) (targets []target, warnings []string, err error) {
	var forced conversation.Kind
	var forcedExport ingest.Format
	if kindFlag != "" {
		if f, ferr := ingest.ParseFormat(kindFlag); ferr == nil && isExport(f) {
			forced, forcedExport = conversation.Conversations, f
		} else if forced, err = conversation.ParseKind(kindFlag); err != nil {
			return nil, nil, usageErrorf("--type: %v", err)
		}
	}
	for _, p := range args {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, nil, err
		}
		if fi.IsDir() {
			if forced != 0 {
				return nil, nil, usageErrorf("--type applies to files, but %s is a directory (its files are recognised by name)", p)
			}
			// conversations.json: Kura's dump of the input conversations,
			// or an unpacked Claude.ai or ChatGPT export.
			dump := filepath.Join(p, "conversations.json")
			hasDump := false
			if fi, err := os.Stat(dump); err == nil && !fi.IsDir() {
				hasDump = true
			}
			cp, err := conversation.FindCheckpoint(p)
			if err != nil && !hasDump {
				if herr := ingest.HFLayout(p); herr != nil {
					return nil, nil, herr
				}
				return nil, nil, err
			}
			if cp == nil {
				cp = &conversation.Checkpoint{Dir: p}
			}
			for _, k := range conversation.Kinds {
				if fp := cp.Path(k); fp != "" {
					targets = append(targets, target{path: fp, kind: k, dir: p})
				}
			}
			if hasDump {
				// It takes part in the checks between files only when it is
				// the directory's only conversations file.
				t := target{path: dump, kind: conversation.Conversations, export: ingest.Auto}
				if cp.Conversations == "" {
					t.dir = p
				}
				targets = append(targets, t)
			}
			for _, ig := range cp.Ignored {
				warnings = append(warnings, fmt.Sprintf("%s: ignored, the same records are read from another file of that type", ig))
			}
			continue
		}
		if forcedExport != "" {
			targets = append(targets, target{path: p, kind: forced, export: forcedExport})
			continue
		}
		k := forced
		if k == 0 {
			var ok bool
			if k, ok = conversation.KindOf(p); !ok {
				if _, isArray := sniffExport(p); isArray {
					targets = append(targets, target{path: p, kind: conversation.Conversations, export: ingest.Auto})
					continue
				}
				return nil, nil, usageErrorf("cannot tell the record type of %s from its name or content (expected conversations, summaries, clusters, meta_clusters or dimensionality, with .jsonl, .parquet or no extension, or a JSON array of conversations exported by Kura, Claude.ai or ChatGPT); use --type", p)
			}
		}
		if _, isArray := sniffExport(p); isArray && k == conversation.Conversations {
			targets = append(targets, target{path: p, kind: k, export: ingest.Auto})
			continue
		}
		targets = append(targets, target{path: p, kind: k})
	}
	return targets, warnings, nil
}

func runValidate(cmd *cobra.Command, args []string, f validateFlags) error {
	if f.maxProblems < 0 {
		return usageErrorf("--max-problems must be >= 0")
	}
	targets, dirWarnings, err := resolveTargets(args, f.kind)
	if err != nil {
		return err
	}
	reports, formats, err := checkTargets(cmd.Context(), targets, f)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	t := validateTally{totals: map[conversation.Kind]int{}, byDir: map[string][]*conversation.Report{}}
	t.warnings, t.numWarnings = dirWarnings, len(dirWarnings)
	for i, tg := range targets {
		fmt.Fprintln(out, t.add(tg, reports[i], formats[i])) // one line a file, for grep
	}
	var consistency []string
	for _, d := range t.dirs {
		for _, e := range conversation.CrossCheck(t.byDir[d]) {
			consistency = append(consistency, e.Error())
		}
	}
	printList(out, "warnings", t.warnings, t.numWarnings, f.maxProblems)
	printList(out, "consistency warnings (between the files of a checkpoint)", consistency, len(consistency), f.maxProblems)
	printList(out, "skipped invalid records", t.skips, t.numSkipped, f.maxProblems)
	printList(out, "problems", t.problems, t.numProblems, f.maxProblems)
	return t.summary(out)
}

// checkTargets checks the files concurrently (one per CPU) and returns
// their reports in argument order; any file that could not be checked fails
// the whole (the others are still checked, and every such error is given).
func checkTargets(ctx context.Context, targets []target, f validateFlags) ([]*conversation.Report, []ingest.Format, error) {
	keep := max(f.maxProblems, 1)
	reports := make([]*conversation.Report, len(targets))
	errs := make([]error, len(targets))
	formats := make([]ingest.Format, len(targets))
	err := parallel.For(ctx, len(targets), 1, runtime.GOMAXPROCS(0), func(_, i, _ int) {
		t := targets[i]
		slog.Debug("validating", "file", t.path, "type", t.kind.String())
		opts := conversation.CheckOptions{
			SkipInvalid: f.skipInvalid, MaxProblems: keep, MaxWarnings: keep, CollectRefs: t.dir != "",
		}
		if t.export != "" {
			reports[i], formats[i], errs[i] = ingest.Check(ctx, t.path, t.export, opts)
			return
		}
		reports[i], errs[i] = conversation.CheckFile(ctx, t.path, t.kind, opts)
	})
	if err = errors.Join(append(errs, err)...); err != nil {
		return nil, nil, err
	}
	return reports, formats, nil
}

// validateTally gathers what kura validate reports over its files.
type validateTally struct {
	totals                               map[conversation.Kind]int
	problems, skips, warnings            []string
	numProblems, numSkipped, numWarnings int
	byDir                                map[string][]*conversation.Report // checkpoint folder -> its files' reports
	dirs                                 []string                          // checkpoint folders in argument order
}

// add counts one file's report and returns the line that describes it.
func (t *validateTally) add(tg target, rep *conversation.Report, format ingest.Format) string {
	if tg.dir != "" {
		if t.byDir[tg.dir] == nil {
			t.dirs = append(t.dirs, tg.dir)
		}
		t.byDir[tg.dir] = append(t.byDir[tg.dir], rep)
	}
	t.totals[tg.kind] += rep.Records
	line := fmt.Sprintf("%s: %s", tg.path, rep.Kind.Count(rep.Records))
	if isExport(format) {
		line += " (" + format.Describe() + ")"
	}
	if rep.Skipped > 0 {
		line += fmt.Sprintf(", %s invalid skipped", human.Thousands(rep.Skipped))
	}
	if rep.NumProblems > 0 {
		line += ", " + human.Count(int64(rep.NumProblems), "problem", "problems")
	}
	for _, p := range rep.Problems {
		t.problems = append(t.problems, p.Error())
	}
	for _, s := range rep.Skips {
		t.skips = append(t.skips, s.Error())
	}
	for _, w := range rep.Warnings {
		t.warnings = append(t.warnings, w.Error())
	}
	t.numProblems += rep.NumProblems
	t.numSkipped += rep.Skipped
	t.numWarnings += rep.NumWarnings
	return line
}

// summary prints the closing line and returns an error when problems were found.
func (t *validateTally) summary(out io.Writer) error {
	var parts []string
	for _, k := range conversation.Kinds {
		if n, ok := t.totals[k]; ok {
			parts = append(parts, k.Count(n))
		}
	}
	summary := "total: " + strings.Join(parts, ", ")
	if t.numSkipped > 0 {
		summary += "; " + human.Count(int64(t.numSkipped), "invalid record", "invalid records") + " skipped"
	}
	// Counts with thousands separators, within the terminal's width (the
	// line for a whole checkpoint was 88 columns).
	width := terminalWidth(os.Stdout)
	if t.numProblems == 0 {
		fmt.Fprintln(out, human.Wrap(summary+"; no problems", width))
		return nil
	}
	problems := human.Count(int64(t.numProblems), "problem", "problems")
	fmt.Fprintln(out, human.Wrap(summary+"; "+problems, width))
	return fmt.Errorf("%s found", problems)
}

// printList prints up to max of items (of total) under a heading.
func printList(w io.Writer, heading string, items []string, total, maxItems int) {
	if total == 0 {
		return
	}
	shown := min(len(items), maxItems)
	if shown < total {
		fmt.Fprintf(w, "%s (first %d of %d):\n", heading, shown, total)
	} else {
		fmt.Fprintf(w, "%s (%d):\n", heading, total)
	}
	for _, s := range items[:shown] {
		fmt.Fprintln(w, "  "+s)
	}
}
