package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/ingest"
	"github.com/kura-go/kura/internal/human"
)

func init() { register(newConvertCmd) }

type convertFlags struct {
	kind        string
	format      string
	skipInvalid bool
}

func newConvertCmd() *cobra.Command {
	var f convertFlags
	cmd := &cobra.Command{
		Use:   "convert IN OUT",
		Short: "Convert Kura checkpoint files between JSONL and Parquet",
		Long: `convert copies records from IN to OUT, converting between JSONL and Parquet by
the file extensions (.parquet is Parquet; .jsonl or no extension is JSONL).
Records are streamed, validated, and written exactly as Kura writes them, so a
round trip JSONL -> Parquet -> JSONL gives back the same bytes. OUT is written
atomically: on failure an existing OUT is left untouched.

kura's Parquet has one column per field: lists are LIST columns (an empty list
stays empty, null stays null), times are ISO-8601 strings, metadata is a JSON
string. Parquet written by Python Kura's ParquetCheckpointManager (lists as
JSON text) is read too.

If IN is a checkpoint directory, OUT is a directory (created if needed) and
every checkpoint file found is converted to --format (default: Parquet for
JSONL input, JSONL for Parquet input).

IN may also be conversations exported as a JSON array: Kura's
conversations.json, or the conversations.json of a Claude.ai or ChatGPT data
export (told by content, or --type kura-json|claude|chatgpt). They are
converted to Kura conversations (see docs/inputs.md) and written to OUT as a
conversations checkpoint file, one conversation at a time.

Without --skip-invalid the first invalid record stops the conversion with an
error naming file, line (or row, or conversation) and field. With it, invalid
records are skipped, logged (first 20) and counted.`,
		Example: `  # One file; the record type comes from the file name
  kura convert summaries.jsonl summaries.parquet

  # A file whose name does not tell its type
  kura convert --type conversations export.parquet export.jsonl

  # A whole checkpoint directory to Parquet
  kura convert ./checkpoints ./checkpoints-parquet

  # A Claude.ai or ChatGPT data export to a Kura conversations file
  kura convert ~/Downloads/chatgpt/conversations.json \
      ./checkpoints/conversations.jsonl`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConvert(cmd, args[0], args[1], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.kind, "type", "", "record type: conversations, summaries, clusters, meta_clusters or dimensionality, or the export IN comes from: kura-json, claude or chatgpt (default: from the file name, else IN's content)")
	fl.StringVar(&f.format, "format", "", "output format for a directory: jsonl or parquet (default: the other format)")
	fl.BoolVar(&f.skipInvalid, "skip-invalid", false, "skip invalid records (logged and counted) instead of failing")
	return cmd
}

func runConvert(cmd *cobra.Command, in, out string, f convertFlags) error {
	fi, err := os.Stat(in)
	if err != nil {
		return err
	}
	var jobs []target
	var outs []string
	if fi.IsDir() {
		if f.kind != "" {
			return usageErrorf("--type applies to files, but %s is a directory", in)
		}
		cp, err := conversation.FindCheckpoint(in)
		if err != nil {
			return err
		}
		for _, k := range conversation.Kinds {
			p := cp.Path(k)
			if p == "" {
				continue
			}
			format := f.format
			if format == "" {
				format = "parquet"
				if conversation.FormatOf(p) == conversation.Parquet {
					format = "jsonl"
				}
			}
			if format != "jsonl" && format != "parquet" {
				return usageErrorf("--format must be jsonl or parquet, not %q", f.format)
			}
			jobs = append(jobs, target{path: p, kind: k, dir: in})
			outs = append(outs, filepath.Join(out, k.String()+"."+format))
		}
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
	} else {
		if f.format != "" {
			return usageErrorf("--format applies to directories; for a file the format follows OUT's extension")
		}
		if ofi, err := os.Stat(out); err == nil && ofi.IsDir() {
			return usageErrorf("%s is a directory; give the output file name", out)
		}
		export, isArray := sniffExport(in)
		if ef, err := ingest.ParseFormat(f.kind); err == nil && isExport(ef) {
			export, isArray = ef, true
		}
		if isArray {
			return convertExport(cmd, in, out, export, f.skipInvalid)
		}
		k := conversation.Kind(0)
		if f.kind != "" {
			if k, err = conversation.ParseKind(f.kind); err != nil {
				return usageErrorf("--type: %v", err)
			}
		} else if kk, ok := conversation.KindOf(in); ok {
			k = kk
		} else if kk, ok := conversation.KindOf(out); ok {
			k = kk
		} else {
			return usageErrorf("cannot tell the record type of %s from its name; use --type", in)
		}
		jobs = append(jobs, target{path: in, kind: k})
		outs = append(outs, out)
	}

	const maxLogged = 20
	logged := 0
	opts := conversation.ReadOptions{
		SkipInvalid: f.skipInvalid,
		OnSkip: func(e *conversation.RecordError) {
			if logged < maxLogged {
				slog.Warn("skipped invalid record", "problem", e.Error())
			}
			logged++
		},
		OnWarning: func(e *conversation.RecordError) { slog.Debug("warning", "detail", e.Error()) },
	}
	totalSkipped := 0
	for i, j := range jobs {
		n, skipped, err := conversation.ConvertFile(cmd.Context(), j.path, outs[i], j.kind, opts)
		if err != nil {
			return err
		}
		totalSkipped += skipped
		line := fmt.Sprintf("%s: %s (%s -> %s)", outs[i], j.kind.Count(n),
			conversation.FormatOf(j.path), conversation.FormatOf(outs[i]))
		if skipped > 0 {
			line += fmt.Sprintf(", %s invalid skipped", human.Thousands(skipped))
		}
		fmt.Fprintln(cmd.OutOrStdout(), line)
	}
	if logged > maxLogged {
		slog.Warn("more invalid records skipped than logged", "skipped", totalSkipped, "logged", maxLogged)
	}
	return nil
}

// convertExport writes the conversations of an export (a JSON array) to a
// Kura conversations checkpoint file.
func convertExport(cmd *cobra.Command, in, out string, format ingest.Format, skipInvalid bool) error {
	const maxLogged = 20
	logged := 0
	st, got, err := ingest.ConvertFile(cmd.Context(), in, out, ingest.Options{
		Format:      format,
		SkipInvalid: skipInvalid,
		OnSkip: func(e error) {
			if logged < maxLogged {
				slog.Warn("skipped invalid conversation", "problem", e.Error())
			}
			logged++
		},
		OnWarning: func(e error) { slog.Debug("warning", "detail", e.Error()) },
	})
	if err != nil {
		return err
	}
	line := fmt.Sprintf("%s: %s (%s -> %s)", out, conversation.Conversations.Count(st.Conversations), got.Describe(), conversation.FormatOf(out))
	if st.Skipped > 0 {
		line += fmt.Sprintf(", %s invalid skipped", human.Thousands(st.Skipped))
	}
	if st.Dropped > 0 {
		line += fmt.Sprintf(", %s messages left out (system, tool, hidden or empty)", human.Thousands(st.Dropped))
	}
	fmt.Fprintln(cmd.OutOrStdout(), line)
	if logged > maxLogged {
		slog.Warn("more invalid conversations skipped than logged", "skipped", st.Skipped, "logged", maxLogged)
	}
	return nil
}
